package io.refractium.hook;

/**
 * Why a connection was refused by admission: at accept, before any handler or per-connection state was created, or,
 * on a listener that receives the PROXY protocol, at the header stage before the hooks were asked
 * {@link Hook#onAccepted} (the {@code PROXY_HEADER_*} reasons, and the per-address reasons checked against the real
 * client address a trusted header gave). Counted per reason by {@code Refractium.refusals()} and reported to
 * {@link Hook#onRefused}.
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
    PEEK_MEMORY,
    /**
     * A PROXY protocol header came from a source outside the listener's trusted networks, or a listener that requires
     * a header was reached from such a source.
     */
    PROXY_HEADER_UNTRUSTED,
    /** A listener that requires a PROXY protocol header got other bytes first. */
    PROXY_HEADER_MISSING,
    /** The bytes after a PROXY protocol signature are not a valid v1 or v2 header. */
    PROXY_HEADER_MALFORMED,
    /** No complete PROXY protocol header came within the detection deadline ({@code peekTimeout}). */
    PROXY_HEADER_TIMEOUT
}
