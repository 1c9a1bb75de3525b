/**
 * Route: the routing snapshot a connection keeps for its whole life, and the
 * {@link io.refractium.internal.route.Router} that turns a detection outcome and the hooks' verdict into a target
 * the table names. Internal, may change.
 */
package io.refractium.internal.route;
