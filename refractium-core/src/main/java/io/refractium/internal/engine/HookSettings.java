package io.refractium.internal.engine;

import io.refractium.hook.HookFactory;
import io.refractium.hook.DataHookFactory;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.internal.relay.Inspection;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The hook settings beyond the shared hooks: the per-connection hook factories, the failure policy of the verdict
 * points, how long an asynchronous verdict may take, and the data hooks and taps.
 *
 * @param factories the hook factories, in the order added
 * @param failurePolicy what a failed verdict does
 * @param decisionTimeout how long a connection waits for one hook's asynchronous verdict
 * @param dataHooks the data hook factories, in the order added
 * @param taps the taps with their queue bounds, in the order added
 */
public record HookSettings(List<HookFactory> factories, HookFailurePolicy failurePolicy, Duration decisionTimeout,
                           List<DataHookFactory> dataHooks, List<Inspection.TapSpec> taps) {

    /** The default of the hook decision timeout (see {@code RefractiumBuilder.hookDecisionTimeout}). */
    public static final Duration DEFAULT_DECISION_TIMEOUT = Duration.ofSeconds(5);

    /** No factories, fail closed, the default timeout. */
    public static final HookSettings DEFAULT = new HookSettings(List.of(), HookFailurePolicy.FAIL_CLOSED,
            DEFAULT_DECISION_TIMEOUT);

    /** The settings without data hooks or taps. */
    public HookSettings(List<HookFactory> factories, HookFailurePolicy failurePolicy, Duration decisionTimeout) {
        this(factories, failurePolicy, decisionTimeout, List.of(), List.of());
    }

    /** Copies the lists and checks the values. */
    public HookSettings {
        factories = List.copyOf(factories);
        dataHooks = List.copyOf(dataHooks);
        taps = List.copyOf(taps);
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        Objects.requireNonNull(decisionTimeout, "decisionTimeout");
    }
}
