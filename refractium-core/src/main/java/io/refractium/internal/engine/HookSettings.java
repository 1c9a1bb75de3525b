package io.refractium.internal.engine;

import io.refractium.hook.HookFactory;
import io.refractium.hook.HookFailurePolicy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The hook settings beyond the shared hooks: the per-connection hook factories, the failure policy of the verdict
 * points and how long an asynchronous verdict may take.
 *
 * @param factories the hook factories, in the order added
 * @param failurePolicy what a failed verdict does
 * @param decisionTimeout how long a connection waits for one hook's asynchronous verdict
 */
public record HookSettings(List<HookFactory> factories, HookFailurePolicy failurePolicy, Duration decisionTimeout) {

    /** The default of the hook decision timeout (see {@code RefractiumBuilder.hookDecisionTimeout}). */
    public static final Duration DEFAULT_DECISION_TIMEOUT = Duration.ofSeconds(5);

    /** No factories, fail closed, the default timeout. */
    public static final HookSettings DEFAULT = new HookSettings(List.of(), HookFailurePolicy.FAIL_CLOSED,
            DEFAULT_DECISION_TIMEOUT);

    /** Copies the list and checks the values. */
    public HookSettings {
        factories = List.copyOf(factories);
        Objects.requireNonNull(failurePolicy, "failurePolicy");
        Objects.requireNonNull(decisionTimeout, "decisionTimeout");
    }
}
