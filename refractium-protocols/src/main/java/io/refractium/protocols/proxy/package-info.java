/**
 * PROXY protocol detection: {@link io.refractium.protocols.proxy.ProxyProtocolDetector} recognizes a version 1 or 2
 * header sent by a load balancer ahead of the client's bytes.
 */
package io.refractium.protocols.proxy;
