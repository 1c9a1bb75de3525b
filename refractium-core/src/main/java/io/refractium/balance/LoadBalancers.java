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

    /** The strategy names {@link #byName(String)} accepts, in the launcher's order. */
    private static final List<String> NAMES =
            List.of("round-robin", "weighted", "least-conn", "p2c", "random", "hash-ip", "hash-name");

    private LoadBalancers() {
    }

    /**
     * Returns the strategy with the launcher's name for it.
     *
     * <p>Temporary version for the launcher: it accepts every name of the full set but each one selects in round
     * robin order under its own name, until the balance branch brings the real strategies.
     *
     * @param name one of {@code round-robin}, {@code weighted}, {@code least-conn}, {@code p2c}, {@code random},
     *        {@code hash-ip}, {@code hash-name}
     * @return the strategy
     * @throws IllegalArgumentException naming the value and the accepted names when the name is unknown
     */
    public static LoadBalancer byName(String name) {
        java.util.Objects.requireNonNull(name, "name");
        if (name.equals("round-robin")) {
            return ROUND_ROBIN;
        }
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("balance: \"" + name + "\" (expected one of: "
                    + String.join(", ", NAMES) + ")");
        }
        return new LoadBalancer() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Selector newSelector(List<Backend> backends) {
                return new RoundRobinSelector();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof LoadBalancer && ((LoadBalancer) o).name().equals(name);
            }

            @Override
            public int hashCode() {
                return name.hashCode();
            }

            @Override
            public String toString() {
                return name;
            }
        };
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
