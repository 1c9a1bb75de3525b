/**
 * The UDP path: {@link io.refractium.internal.udp.UdpListener} (one listening socket, its bounded flow table and
 * the QUIC connection ids it learned) and {@code UdpFlow} (one client address and port: held datagrams, detection
 * by the shared {@link io.refractium.internal.detect.DetectionSession}, routing, and its connected backend socket).
 * Start with {@code UdpListener}.
 */
package io.refractium.internal.udp;
