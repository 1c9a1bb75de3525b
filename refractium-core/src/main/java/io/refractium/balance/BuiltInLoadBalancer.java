package io.refractium.balance;

import io.refractium.Backend;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A built-in strategy: a stable name and a factory of selectors. One instance per strategy, held by
 * {@link LoadBalancers}; equal only to itself. Immutable and thread-safe.
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
    public String toString() {
        return name;
    }
}
