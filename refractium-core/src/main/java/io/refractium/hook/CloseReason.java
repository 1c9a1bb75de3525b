package io.refractium.hook;

/** Why a connection ended. */
public enum CloseReason {
    /** Both sides finished normally (the client or the backend closed). */
    COMPLETED,
    /** A hook refused the connection when it was accepted or routed. */
    REFUSED,
    /** Detection failed and there was no target for the outcome (no fallback, no silent-client target). */
    DETECTION_FAILED,
    /** A protocol was detected but no route matched and there is no fallback. */
    NO_ROUTE,
    /** No backend of the target could be connected. */
    BACKEND_UNAVAILABLE,
    /** Neither side sent anything for the idle timeout. */
    IDLE_TIMEOUT,
    /**
     * One side had finished (sent its FIN or closed) and the bytes queued for the other side made no progress for
     * the drain timeout: both sides were reset.
     */
    DRAIN_TIMEOUT,
    /** The proxy shut down before the connection finished. */
    SHUTDOWN,
    /** An operator disabled the connection's backend ({@link io.refractium.Refractium#disable}). */
    BACKEND_DISABLED,
    /** A {@link DataHook} closed the connection ({@link DataContext#close(String)}). */
    HOOK_CLOSED,
    /** An I/O error, such as a reset by either peer. */
    ERROR
}
