package io.refractium;

/**
 * The PROXY protocol version a {@link ForwardTarget} sends to its backends before the client's bytes; see
 * {@link ForwardTarget.Builder#sendProxyProtocol(ProxyProtocolVersion)}. Specification:
 * {@code https://www.haproxy.org/download/3.0/doc/proxy-protocol.txt}.
 */
public enum ProxyProtocolVersion {
    /** The human-readable line, {@code PROXY TCP4 src dst sport dport\r\n}; carries no TLVs. */
    V1,
    /**
     * The binary header, with TLVs for the detected server name ({@code PP2_TYPE_AUTHORITY}), the ALPN protocol
     * ({@code PP2_TYPE_ALPN}) and the connection id ({@code PP2_TYPE_UNIQUE_ID}).
     */
    V2
}
