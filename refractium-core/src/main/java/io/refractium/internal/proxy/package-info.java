/**
 * The PROXY protocol (v1 and v2, {@code https://www.haproxy.org/download/3.0/doc/proxy-protocol.txt}) on top of
 * Netty's {@code netty-codec-haproxy}: receiving a header in front of a connection before detection
 * ({@link io.refractium.internal.proxy.ProxyHeaderHandler}, per listener, from trusted networks only, see
 * {@link io.refractium.internal.proxy.ProxyAcceptance}; its admission decisions and refusals go through a
 * {@link io.refractium.internal.proxy.ProxyGate}), and building the headers sent to backends and by health
 * checks ({@link io.refractium.internal.proxy.ProxyHeaders}). Internal, may change.
 */
package io.refractium.internal.proxy;
