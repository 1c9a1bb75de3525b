package io.refractium.hook;

import io.refractium.ForwardTarget;
import java.util.Objects;

/**
 * A hook's answer when a route has been chosen: proceed, refuse the connection, or send it to another target.
 * Immutable.
 */
public final class RouteDecision {

    private static final RouteDecision PROCEED = new RouteDecision(null, null);

    private final ForwardTarget reroute;
    private final String refusal;

    private RouteDecision(ForwardTarget reroute, String refusal) {
        this.reroute = reroute;
        this.refusal = refusal;
    }

    /** Go to the chosen target. */
    public static RouteDecision proceed() {
        return PROCEED;
    }

    /**
     * Close the connection.
     *
     * @param reason why, for the log
     * @return the decision
     */
    public static RouteDecision refuse(String reason) {
        return new RouteDecision(null, Objects.requireNonNull(reason, "reason"));
    }

    /**
     * Go to another target instead.
     *
     * @param target the target to use
     * @return the decision
     */
    public static RouteDecision reroute(ForwardTarget target) {
        return new RouteDecision(Objects.requireNonNull(target, "target"), null);
    }

    /** Returns whether this refuses the connection. */
    public boolean isRefused() {
        return refusal != null;
    }

    /** Returns the reason of a refusal, or {@code null}. */
    public String refusal() {
        return refusal;
    }

    /** Returns the target of a reroute, or {@code null}. */
    public ForwardTarget reroute() {
        return reroute;
    }

    @Override
    public String toString() {
        return refusal != null ? "refuse(" + refusal + ")" : reroute != null ? "reroute(" + reroute.name() + ")" : "proceed";
    }
}
