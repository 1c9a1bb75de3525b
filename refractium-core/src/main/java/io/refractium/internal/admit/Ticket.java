package io.refractium.internal.admit;

import io.refractium.hook.Refusal;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outcome of {@link AdmissionControl#admit}: refused (then it holds nothing and is shared), or admitted with the
 * slots it holds, given back by {@link #endDetection()} and {@link #release()}. Both are idempotent and are called
 * on the connection's event loop, as is {@link #admitAddress}, which takes the per-address slot of a connection
 * whose client address came later, in a PROXY protocol header.
 */
public final class Ticket {

    private final Refusal refusal;
    private final AdmissionControl control;
    private final AtomicInteger listenerCount;
    private IpKey ip;
    private boolean addressPending;
    private boolean detecting;
    private boolean released;

    Ticket(Refusal refusal) {
        this.refusal = refusal;
        this.control = null;
        this.listenerCount = null;
        this.ip = null;
        this.released = true;
    }

    Ticket(AdmissionControl control, AtomicInteger listenerCount, IpKey ip, boolean detecting,
           boolean addressPending) {
        this.refusal = null;
        this.control = control;
        this.listenerCount = listenerCount;
        this.ip = ip;
        this.detecting = detecting;
        this.addressPending = addressPending;
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

    /**
     * Returns whether the per-address checks wait for the client's address ({@link AdmissionControl#admitPendingAddress}).
     */
    public boolean isAddressPending() {
        return addressPending;
    }

    /**
     * Runs the per-address checks left for later against the client's real address, once; on success this ticket
     * holds the per-address slot until {@link #release()}. Does nothing when no check was left for later or the
     * ticket was released already (the connection closed).
     *
     * @param client the client's real address
     * @return the refusal, counted, or {@code null} when admitted
     */
    public Refusal admitAddress(InetAddress client) {
        if (!addressPending || released) {
            return null;
        }
        addressPending = false;
        return control.admitAddress(this, client);
    }

    void holdIp(IpKey key) {
        this.ip = key;
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
