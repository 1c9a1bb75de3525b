/**
 * TLS detection: {@link io.refractium.protocols.tls.TlsDetector} parses the client's ClientHello, over one or
 * several records, and reports SNI, ALPN, the highest offered version and whether Encrypted Client Hello is
 * offered, for routing.
 */
package io.refractium.protocols.tls;
