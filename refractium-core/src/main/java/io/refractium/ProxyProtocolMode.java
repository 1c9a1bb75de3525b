package io.refractium;

/**
 * Whether a listener requires a PROXY protocol header (v1 or v2) in front of each connection's bytes or only accepts
 * one; see {@link RefractiumBuilder#acceptProxyProtocol(ProxyProtocolMode, java.util.Collection)}.
 */
public enum ProxyProtocolMode {
    /** Every connection must start with a header from a trusted source; any other connection is closed. */
    REQUIRED,
    /**
     * A connection may start with a header (from a trusted source; from anywhere else it is closed); a connection
     * whose first bytes are not a PROXY signature is detected as usual, with its socket address.
     */
    OPTIONAL
}
