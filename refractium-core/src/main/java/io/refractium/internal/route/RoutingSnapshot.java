package io.refractium.internal.route;

import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.internal.health.TargetRuntime;
import java.util.Map;

/**
 * A routing table with the run-time state of its targets. Immutable as a whole; installed by one volatile write and
 * read by one volatile read per connection.
 */
public record RoutingSnapshot(RoutingTable table, Map<ForwardTarget, TargetRuntime> runtimes) {

    /**
     * Returns the table's target with the given name, or {@code null} when there is none or when it differs from
     * {@code expected}.
     *
     * @param name a target name
     * @param expected the target the caller has in hand, or {@code null} to accept any target of that name
     * @return the table's target
     */
    public ForwardTarget named(String name, ForwardTarget expected) {
        ForwardTarget t = table.targets().get(name);
        if (t == null || (expected != null && !expected.equals(t))) {
            return null;
        }
        return t;
    }
}
