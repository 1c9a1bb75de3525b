package io.refractium.internal.admit;

import io.refractium.hook.Refusal;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outcome of {@link AdmissionControl#admit}: refused (then it holds nothing and is shared), or admitted with the
 * slots it holds, given back by {@link #endDetection()} and {@link #release()}. Both are idempotent and are called
 * on the connection's event loop.
 */
public final class Ticket {

    private final Refusal refusal;
    private final AdmissionControl control;
    private final AtomicInteger listenerCount;
    private final IpKey ip;
    private boolean detecting;
    private boolean released;

    Ticket(Refusal refusal) {
        this.refusal = refusal;
        this.control = null;
        this.listenerCount = null;
        this.ip = null;
        this.released = true;
    }

    Ticket(AdmissionControl control, AtomicInteger listenerCount, IpKey ip, boolean detecting) {
        this.refusal = null;
        this.control = control;
        this.listenerCount = listenerCount;
        this.ip = ip;
        this.detecting = detecting;
    }

    /** Returns whether the connection was refused. */
    public boolean isRefused() {
        return refusal != null;
    }

    /** Returns the refusal, or {@code null} when admitted. */
    public Refusal refusal() {
        return refusal;
    }

    /** Returns whether this ticket holds a detection slot to give back when detection ends. */
    public boolean holdsDetectionSlot() {
        return detecting;
    }

    /** Gives back the detection slot: the connection left detection. */
    public void endDetection() {
        if (detecting) {
            detecting = false;
            control.releaseDetecting(true);
        }
    }

    /** Gives back every slot: the connection closed. */
    public void release() {
        if (released) {
            return;
        }
        released = true;
        endDetection();
        control.releaseOpen(listenerCount);
        if (ip != null) {
            control.releaseIp(ip);
        }
    }
}
