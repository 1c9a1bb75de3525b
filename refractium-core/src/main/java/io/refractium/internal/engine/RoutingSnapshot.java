package io.refractium.internal.engine;

import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import java.util.Map;

/**
 * A routing table with the run-time state of its targets. Immutable as a whole; installed by one volatile write and
 * read by one volatile read per connection.
 */
record RoutingSnapshot(RoutingTable table, Map<ForwardTarget, TargetRuntime> runtimes) {
}
