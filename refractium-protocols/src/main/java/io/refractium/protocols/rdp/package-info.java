/**
 * Remote Desktop Protocol detection: {@link io.refractium.protocols.rdp.RdpDetector} recognizes the client's X.224
 * Connection Request and reports its {@code mstshash} cookie.
 */
package io.refractium.protocols.rdp;
