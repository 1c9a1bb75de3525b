/**
 * Relay: moves bytes both ways once the peeked bytes are replayed, through pooled buffers with backpressure, or
 * with {@code splice(2)} between epoll sockets; half-close, resets, the idle and drain timeouts; and the bandwidth
 * shaping of capped connections ({@link io.refractium.internal.relay.BandwidthShaping}). Internal, may change.
 */
package io.refractium.internal.relay;
