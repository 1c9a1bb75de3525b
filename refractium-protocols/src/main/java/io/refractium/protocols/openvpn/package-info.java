/**
 * OpenVPN over TCP: {@link io.refractium.protocols.openvpn.OpenVpnDetector} recognizes a client's first packet, a
 * hard reset (V2, or V3 with tls-crypt-v2), and reports its opcode.
 */
package io.refractium.protocols.openvpn;

