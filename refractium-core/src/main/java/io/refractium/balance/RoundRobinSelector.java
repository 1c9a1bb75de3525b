package io.refractium.balance;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link LoadBalancers#roundRobin()}: a shared counter gives each selection the next start position, and the first
 * eligible backend from there, in declared order, is chosen. Lock-free; one atomic increment per selection.
 */
final class RoundRobinSelector implements LoadBalancer.Selector {

    private final AtomicInteger next = new AtomicInteger();

    @Override
    public int select(SelectionContext context) {
        int n = context.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            int candidate = start + i < n ? start + i : start + i - n;
            if (context.isEligible(candidate)) {
                return candidate;
            }
        }
        return -1;
    }
}
