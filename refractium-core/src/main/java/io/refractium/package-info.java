/**
 * Refractium's public API: build a multiplexer with {@link io.refractium.Refractium#builder()}, route protocols to
 * {@link io.refractium.ForwardTarget}s with {@link io.refractium.Route}s in a {@link io.refractium.RoutingTable}.
 *
 * <p>Start with {@link io.refractium.Refractium} and {@link io.refractium.RefractiumBuilder}. Detectors are in
 * {@link io.refractium.spi}, hooks in {@link io.refractium.hook}, load balancing in {@link io.refractium.balance}.
 */
package io.refractium;
