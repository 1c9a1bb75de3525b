/**
 * WireGuard detection: {@link io.refractium.protocols.wireguard.WireGuardDetector} recognizes a handshake initiation
 * as the first datagram of a UDP flow.
 */
package io.refractium.protocols.wireguard;
