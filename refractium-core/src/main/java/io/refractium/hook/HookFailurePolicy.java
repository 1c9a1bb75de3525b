package io.refractium.hook;

/**
 * What a verdict point ({@link Hook#onAccepted} / {@link Hook#onAcceptedAsync}, {@link Hook#onRouteChosen} /
 * {@link Hook#onRouteChosenAsync}, and {@link HookFactory#create}) does when a hook throws, returns {@code null},
 * answers with a stage that completes exceptionally, or does not answer within the hook decision timeout. Set
 * with {@code RefractiumBuilder.hookFailurePolicy(...)}; the default is {@link #FAIL_CLOSED}. Either way the
 * failure is logged at WARN with the connection id. The methods that only observe ({@link Hook#onDetected},
 * {@link Hook#onClosed}, ...) are not verdict points: a throw there is logged and ignored.
 */
public enum HookFailurePolicy {
    /**
     * Refuse the connection: it is closed with {@link CloseReason#REFUSED} and the failure as its
     * {@link ConnectionSummary#detail() detail}. The default.
     */
    FAIL_CLOSED,
    /** Treat the failed hook as if it had returned the default (accept, proceed) and go on with the next hook. */
    FAIL_OPEN
}
