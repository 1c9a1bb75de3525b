package io.refractium.balance;

import io.refractium.Backend;
import java.util.List;

/**
 * A load-balancing strategy: how a {@link io.refractium.ForwardTarget} picks one of its backends for a new
 * connection. Built-in strategies are in {@link LoadBalancers}; implement this interface for your own.
 *
 * <p>A strategy is a factory: the engine calls {@link #newSelector(List)} once per target with the target's full
 * backend list (primaries and backups, in declared order), and then asks the selector for each connection. The
 * engine decides which backends are eligible (healthy, under their connection cap, and primaries before backups)
 * and tells the selector through the {@link SelectionContext}; the selector chooses among the eligible ones.
 *
 * <p>Strategies must be thread-safe and immutable; selectors must be thread-safe, since connections on every event
 * loop select concurrently.
 */
public interface LoadBalancer {

    /** Returns the strategy's name, as the server configuration spells it (e.g. {@code "round-robin"}). */
    String name();

    /**
     * Creates the selection state for one target's backends.
     *
     * @param backends the target's backends, never empty; the indexes a selector returns refer to this list
     * @return a thread-safe selector
     */
    Selector newSelector(List<Backend> backends);

    /** Chooses a backend for one connection; thread-safe. */
    interface Selector {

        /**
         * Chooses one of the eligible backends.
         *
         * @param context which backends are eligible now, their load, and the connection's keys
         * @return the index of an eligible backend in the list given to {@link LoadBalancer#newSelector(List)}, or
         *         {@code -1} when none is eligible
         */
        int select(SelectionContext context);
    }
}
