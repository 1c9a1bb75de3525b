package io.refractium.hook;

import io.refractium.ForwardTarget;
import java.util.Objects;

/**
 * A hook's answer when a route has been chosen: proceed, refuse the connection, or send it to another target.
 * Immutable.
 */
public final class RouteDecision {

    private static final RouteDecision PROCEED = new RouteDecision(null, null, null);

    private final ForwardTarget reroute;
    private final String rerouteName;
    private final String refusal;

    private RouteDecision(ForwardTarget reroute, String rerouteName, String refusal) {
        this.reroute = reroute;
        this.rerouteName = rerouteName;
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
        return new RouteDecision(null, null, Objects.requireNonNull(reason, "reason"));
    }

    /**
     * Go to another target instead. The routing table must name that target (in a route, as the fallback or the
     * silent-client target, or declared with {@link io.refractium.RoutingTable.Builder#target}), so that its health
     * checks run and its connection counts are kept; a reroute to a target the table does not name closes the
     * connection and logs a warning.
     *
     * @param target the target to use, equal to the table's target of that name
     * @return the decision
     */
    public static RouteDecision reroute(ForwardTarget target) {
        Objects.requireNonNull(target, "target");
        return new RouteDecision(target, target.name(), null);
    }

    /**
     * Go to the routing table's target of the given name instead (see {@link #reroute(ForwardTarget)}).
     *
     * @param targetName the name of a target of the routing table
     * @return the decision
     */
    public static RouteDecision reroute(String targetName) {
        return new RouteDecision(null, Objects.requireNonNull(targetName, "targetName"), null);
    }

    /** Returns whether this refuses the connection. */
    public boolean isRefused() {
        return refusal != null;
    }

    /** Returns the reason of a refusal, or {@code null}. */
    public String refusal() {
        return refusal;
    }

    /** Returns the target of a reroute given as a target, or {@code null} (also for a reroute by name). */
    public ForwardTarget reroute() {
        return reroute;
    }

    /** Returns the name of the target of a reroute, or {@code null} when this is not a reroute. */
    public String rerouteName() {
        return rerouteName;
    }

    @Override
    public String toString() {
        return refusal != null ? "refuse(" + refusal + ")" : rerouteName != null ? "reroute(" + rerouteName + ")" : "proceed";
    }
}
