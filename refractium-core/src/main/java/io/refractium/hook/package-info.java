/**
 * Hooks: observe each connection's path (accepted, detected, routed, connected, closed) and refuse or reroute it.
 *
 * <p>Start with {@link io.refractium.hook.Hook}; each event gets a {@link io.refractium.hook.ConnectionInfo}.
 */
package io.refractium.hook;
