/**
 * The engine: the lifecycle of an instance, the registry of open connections, route swaps, and the per-connection
 * state every stage of the path fills in. Start at {@link io.refractium.internal.engine.Engine}; a connection goes
 * through {@code transport} (accept), {@code admit} (called from {@code Engine} at accept), {@code detect}, {@code route},
 * {@code connect} and {@code relay}. Internal, may change.
 */
package io.refractium.internal.engine;
