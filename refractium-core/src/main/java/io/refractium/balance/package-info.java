/**
 * Load balancing: how a {@link io.refractium.ForwardTarget} chooses a backend.
 *
 * <p>Start with {@link io.refractium.balance.LoadBalancers} for the built-in strategies (round robin, smooth
 * weighted round robin, least connections, power of two choices, random, and consistent hashing on the client IP
 * or the server name), or {@link io.refractium.balance.LoadBalancers#byName(String)} to look one up by name.
 * Implement {@link io.refractium.balance.LoadBalancer} for your own; a selector sees the backends through a
 * {@link io.refractium.balance.SelectionContext}.
 */
package io.refractium.balance;
