package io.refractium.balance;

import io.refractium.Backend;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A built-in strategy: a stable name and a factory of selectors. One instance per fixed strategy, held by
 * {@link LoadBalancers}; strategies with a parameter ({@code hash-attr:NAME}) are made per call. Equal when the names
 * are, which for the fixed strategies means only to itself. Immutable and thread-safe.
 */
final class BuiltInLoadBalancer implements LoadBalancer {

    private final String name;
    private final Function<List<Backend>, Selector> factory;

    BuiltInLoadBalancer(String name, Function<List<Backend>, Selector> factory) {
        this.name = name;
        this.factory = factory;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Creates a selector after checking the list: not null, not empty, no null element.
     *
     * @throws NullPointerException naming the list or the null element
     * @throws IllegalArgumentException if the list is empty
     */
    @Override
    public Selector newSelector(List<Backend> backends) {
        Objects.requireNonNull(backends, "backends");
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("backends: [] (expected: at least one backend)");
        }
        for (int i = 0; i < backends.size(); i++) {
            if (backends.get(i) == null) {
                throw new NullPointerException("backends[" + i + "]");
            }
        }
        return factory.apply(backends);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BuiltInLoadBalancer && ((BuiltInLoadBalancer) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
