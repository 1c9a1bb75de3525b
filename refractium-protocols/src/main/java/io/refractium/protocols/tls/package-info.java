/**
 * TLS detection: {@link io.refractium.protocols.tls.TlsDetector} parses the client's ClientHello, over one or
 * several records, and reports SNI, ALPN and the highest offered version for routing.
 */
package io.refractium.protocols.tls;
