package io.refractium.internal.engine;

import io.refractium.Backend;
import java.util.concurrent.atomic.AtomicInteger;

/** The live state of one backend of a target: open client connections and health. Thread-safe. */
final class BackendState {

    final Backend backend;
    final AtomicInteger active = new AtomicInteger();
    volatile boolean healthy = true;

    BackendState(Backend backend) {
        this.backend = backend;
    }

    /** Returns whether the backend can take one more connection under its cap. */
    boolean hasCapacity() {
        int cap = backend.maxConnections();
        return cap == 0 || active.get() < cap;
    }

    /** Takes one connection slot; returns false when the cap was reached in the meantime. */
    boolean tryAcquire() {
        int cap = backend.maxConnections();
        if (cap == 0) {
            active.incrementAndGet();
            return true;
        }
        for (;;) {
            int n = active.get();
            if (n >= cap) {
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        active.decrementAndGet();
    }
}
