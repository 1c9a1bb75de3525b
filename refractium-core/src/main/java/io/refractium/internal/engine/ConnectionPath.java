package io.refractium.internal.engine;

import io.refractium.internal.connect.Dialer;
import io.refractium.internal.detect.PeekBudget;
import io.refractium.internal.proxy.ProxyGate;
import io.refractium.internal.relay.BandwidthShaping;

/**
 * What every stage of a connection's path shares: the settings, the hooks, the dialer of backend channels, the
 * peek memory budget, the admission gate of the PROXY header stage and the bandwidth shaping. One per instance;
 * tests build their own to drive a stage on an {@code EmbeddedChannel}.
 *
 * @param config the settings
 * @param hooks the registered hooks
 * @param dialer opens backend channels
 * @param peekBudget the memory all peek buffers may hold together
 * @param proxyGate admits the client address a PROXY header gives, and takes the header stage's refusals
 * @param shaping the bandwidth shaping of relayed connections
 */
public record ConnectionPath(EngineConfig config, HookDispatcher hooks, Dialer dialer, PeekBudget peekBudget,
                             ProxyGate proxyGate, BandwidthShaping shaping) {

    /** The path with a gate that admits every address ({@link ProxyGate#NONE}) and no shaping, for stage tests. */
    public ConnectionPath(EngineConfig config, HookDispatcher hooks, Dialer dialer, PeekBudget peekBudget) {
        this(config, hooks, dialer, peekBudget, ProxyGate.NONE, BandwidthShaping.NONE);
    }
}
