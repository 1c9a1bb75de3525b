/**
 * Hooks: observe each connection's path (accepted, detected, routed, connected, closed) and refuse or reroute it.
 *
 * <p>Start with {@link io.refractium.hook.Hook}; each event gets a {@link io.refractium.hook.ConnectionInfo}. A
 * {@link io.refractium.hook.HookFactory} makes one hook per connection; {@link io.refractium.hook.HookAttributeKey}
 * keys typed per-connection values; {@link io.refractium.hook.HookFailurePolicy} says what a failed verdict does.
 * {@link io.refractium.hook.ProxyInfo} is the PROXY protocol header a connection arrived with, and
 * {@link io.refractium.hook.Refusal} says why a connection was refused before any hook was asked to accept it.
 */
package io.refractium.hook;
