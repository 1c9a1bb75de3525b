/**
 * QUIC detection: {@link io.refractium.protocols.quic.QuicDetector} decrypts a client's Initial packets (QUIC
 * versions 1 and 2), reassembles the ClientHello they carry and reports its server name and ALPN protocols under the
 * same keys as TLS, so QUIC flows are routed by SNI without being terminated.
 */
package io.refractium.protocols.quic;
