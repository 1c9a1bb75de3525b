package io.refractium.balance;

import io.refractium.Backend;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The built-in {@link LoadBalancer} strategies.
 */
public final class LoadBalancers {

    private static final LoadBalancer ROUND_ROBIN = new LoadBalancer() {
        @Override
        public String name() {
            return "round-robin";
        }

        @Override
        public Selector newSelector(List<Backend> backends) {
            return new RoundRobinSelector();
        }

        @Override
        public String toString() {
            return name();
        }
    };

    private LoadBalancers() {
    }

    /**
     * Round robin: each new connection goes to the next eligible backend in declared order, ignoring weights.
     * The default strategy.
     */
    public static LoadBalancer roundRobin() {
        return ROUND_ROBIN;
    }

    private static final class RoundRobinSelector implements LoadBalancer.Selector {
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
}
