package io.refractium.balance;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link LoadBalancers#leastConnections()}: the eligible backend with the fewest active connections.
 *
 * <p>One pass finds the minimum and how many eligible backends share it. When several do, a shared counter picks
 * the next of them in turn, so that ties (an idle pool, or a burst of connections selected before any of them
 * is counted) are spread evenly instead of all landing on the first backend; only then is a second pass needed.
 * If the counts move between the passes, the first backend found at the minimum is chosen.
 *
 * <p>Lock-free: reads the context and, on a tie, increments one atomic counter. Nothing is allocated per selection.
 */
final class LeastConnectionsSelector implements LoadBalancer.Selector {

    private final AtomicInteger tieBreak = new AtomicInteger();

    @Override
    public int select(SelectionContext context) {
        int n = context.size();
        int first = -1;
        int min = Integer.MAX_VALUE;
        int ties = 0;
        for (int i = 0; i < n; i++) {
            if (!context.isEligible(i)) {
                continue;
            }
            int active = context.activeConnections(i);
            if (first < 0 || active < min) {
                first = i;
                min = active;
                ties = 1;
            } else if (active == min) {
                ties++;
            }
        }
        if (ties <= 1) {
            return first;
        }
        int wanted = Math.floorMod(tieBreak.getAndIncrement(), ties);
        for (int i = first; i < n; i++) {
            if (context.isEligible(i) && context.activeConnections(i) == min && wanted-- == 0) {
                return i;
            }
        }
        return first;
    }
}
