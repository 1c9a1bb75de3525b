/**
 * Load balancing: how a {@link io.refractium.ForwardTarget} chooses a backend.
 *
 * <p>Start with {@link io.refractium.balance.LoadBalancers} for the built-in strategies, or implement
 * {@link io.refractium.balance.LoadBalancer} for your own.
 */
package io.refractium.balance;
