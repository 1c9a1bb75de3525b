package io.refractium.internal.detect;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory all connections of one instance hold in peek buffers (detection and connect), against a limit. Over
 * the limit new connections are refused at once, so a flood of clients that trickle bytes cannot exhaust direct
 * memory. Thread-safe.
 */
public final class PeekBudget {

    private final long limit;
    private final AtomicLong held = new AtomicLong();

    /**
     * Creates a budget.
     *
     * @param limitBytes the most bytes of buffer capacity held at once
     */
    public PeekBudget(long limitBytes) {
        this.limit = limitBytes;
    }

    /** Returns whether the limit is reached: new connections are refused. */
    public boolean isExhausted() {
        return held.get() >= limit;
    }

    /** Returns the bytes held now. */
    public long held() {
        return held.get();
    }

    /** Returns the limit. */
    public long limit() {
        return limit;
    }

    void add(long delta) {
        held.addAndGet(delta);
    }
}
