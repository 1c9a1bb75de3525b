/**
 * SOCKS detection: {@link io.refractium.protocols.socks.SocksDetector} recognizes a SOCKS4 or SOCKS4a request or a
 * SOCKS5 greeting and reports the version and, for SOCKS4 and 4a, the target.
 */
package io.refractium.protocols.socks;
