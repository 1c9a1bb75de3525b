package io.refractium.hook;

/**
 * Why a connection was refused by admission, before any handler or per-connection state was created. Counted per
 * reason by {@code Refractium.refusals()} and reported to {@link Hook#onRefused}.
 */
public enum RefusalReason {
    /** The client's address is in a deny list ({@code AdmissionLimits.Builder.deny}). */
    DENIED,
    /** An allow list is set and the client's address is in none of its networks. */
    NOT_ALLOWED,
    /** The client's address (or IPv6 prefix) used up its connection-rate token bucket. */
    RATE_PER_IP,
    /** The connections still in detection reached {@code maxDetecting}. */
    MAX_DETECTING,
    /** The open connections of the whole instance reached {@code maxConnections}. */
    MAX_CONNECTIONS,
    /** The open connections of the listener the client connected to reached {@code maxConnectionsPerListener}. */
    MAX_CONNECTIONS_PER_LISTENER,
    /** The open connections of the client's address (or IPv6 prefix) reached {@code maxConnectionsPerIp}. */
    MAX_CONNECTIONS_PER_IP,
    /** The peek buffers of connections in detection hold {@code maxPeekMemoryBytes}. */
    PEEK_MEMORY
}
