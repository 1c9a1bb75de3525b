package io.refractium.internal.engine;

import io.refractium.internal.connect.Dialer;
import io.refractium.internal.detect.PeekBudget;

/**
 * What every stage of a connection's path shares: the settings, the hooks, the dialer of backend channels and the
 * peek memory budget. One per instance; tests build their own to drive a stage on an {@code EmbeddedChannel}.
 *
 * @param config the settings
 * @param hooks the registered hooks
 * @param dialer opens backend channels
 * @param peekBudget the memory all peek buffers may hold together
 */
public record ConnectionPath(EngineConfig config, HookDispatcher hooks, Dialer dialer, PeekBudget peekBudget) {
}
