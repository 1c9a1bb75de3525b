package io.refractium;

import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The immutable set of routes, plus the fallback target (for bytes no route takes) and the silent-client targets
 * (for clients that send nothing: a default, and one per listener port where needed, each with its own deadline,
 * see {@link SilenceRoute}). A running {@link Refractium} reads its table with one volatile load per
 * connection, and {@link Refractium#updateRoutes(RoutingTable)} swaps it in one step; connections already open
 * keep the table they started with.
 *
 * <p>Validated when built: two routes with the same protocol and conditions (the second could never match), two
 * silence routes for the same listener port, or two different targets with the same name, are errors that name the
 * entries.
 */
public final class RoutingTable {

    private static final RoutingTable EMPTY = builder().build();

    private final List<Route> routes;
    private final Map<String, Route[]> byProtocol;
    private final ForwardTarget fallback;
    private final ForwardTarget silenceTarget;
    private final SilenceRoute defaultSilence;
    private final List<SilenceRoute> listenerSilences;
    private final Map<String, ForwardTarget> targets;
    private final List<ForwardTarget> declaredTargets;

    private RoutingTable(Builder b) {
        this.routes = List.copyOf(b.routes);
        this.fallback = b.fallback;
        this.silenceTarget = b.silenceTarget;
        this.defaultSilence = b.silenceTarget == null ? null : new SilenceRoute(-1, b.silenceTarget, null);
        this.listenerSilences = List.copyOf(b.listenerSilences);
        Map<String, List<Route>> grouped = new LinkedHashMap<>();
        for (Route r : routes) {
            grouped.computeIfAbsent(r.protocol(), k -> new ArrayList<>()).add(r);
        }
        Map<String, Route[]> index = new HashMap<>();
        grouped.forEach((p, rs) -> index.put(p, Route.sortForMatching(rs).toArray(new Route[0])));
        this.byProtocol = Map.copyOf(index);
        Map<String, ForwardTarget> named = new LinkedHashMap<>();
        for (Route r : routes) {
            addTarget(named, r.target(), r.describe());
        }
        if (fallback != null) {
            addTarget(named, fallback, "fallback");
        }
        if (silenceTarget != null) {
            addTarget(named, silenceTarget, "onSilence");
        }
        for (SilenceRoute s : listenerSilences) {
            addTarget(named, s.target(), "onSilence(" + s.listenerPort() + ")");
        }
        this.declaredTargets = List.copyOf(b.declaredTargets);
        for (ForwardTarget t : declaredTargets) {
            addTarget(named, t, "target()");
        }
        this.targets = java.util.Collections.unmodifiableMap(named);
    }

    private static void addTarget(Map<String, ForwardTarget> named, ForwardTarget t, String where) {
        ForwardTarget previous = named.putIfAbsent(t.name(), t);
        if (previous != null && !previous.equals(t)) {
            throw new IllegalArgumentException("target name \"" + t.name() + "\" is used by two different targets: "
                    + previous + " and " + t + " (at " + where + "); give them distinct names");
        }
    }

    /** Returns an empty table: no routes, no fallback, no silent-client target. */
    public static RoutingTable empty() {
        return EMPTY;
    }

    /** Returns a new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the routes in declared order. */
    public List<Route> routes() {
        return routes;
    }

    /** Returns where bytes that match no protocol or no route go, or {@code null} to close such connections. */
    public ForwardTarget fallback() {
        return fallback;
    }

    /**
     * Returns where clients that send nothing before the silence deadline go on listeners without a silence route
     * of their own, or {@code null}.
     */
    public ForwardTarget silenceTarget() {
        return silenceTarget;
    }

    /** Returns the per-listener silence routes, in declared order (the default one, if any, excluded). */
    public List<SilenceRoute> listenerSilenceRoutes() {
        return listenerSilences;
    }

    /**
     * Returns the silence route of a listener: its own, else the default (its timeout {@code null}: the instance's
     * silence timeout), else {@code null} when silent clients on it are not waited for.
     *
     * @param listener the local address the client connected to, or {@code null}
     * @return the silence route, or {@code null}
     */
    public SilenceRoute silenceFor(InetSocketAddress listener) {
        if (listener != null) {
            for (int i = 0, n = listenerSilences.size(); i < n; i++) {
                SilenceRoute s = listenerSilences.get(i);
                if (s.listenerPort() == listener.getPort()) {
                    return s;
                }
            }
        }
        return defaultSilence;
    }

    /**
     * Returns every target of the table by name: route targets, the fallback, the silent-client target and the
     * targets declared for hooks to reroute to. Only these targets have health checks and connection counts, and
     * only these can be the target of a {@link io.refractium.hook.RouteDecision#reroute reroute}.
     */
    public Map<String, ForwardTarget> targets() {
        return targets;
    }

    /** Returns the ids of the protocols that routes name. */
    public Set<String> protocols() {
        return byProtocol.keySet();
    }

    /**
     * Returns the most specific route that matches, or {@code null}; routes with a listener condition never match
     * here (use {@link #select(String, ProtocolAttributes, InetAddress, InetSocketAddress)}).
     *
     * @param protocol the detected protocol id
     * @param attributes what the detector found
     * @param client the client's address, or {@code null}
     * @return the route, or {@code null} when none matches
     */
    public Route select(String protocol, ProtocolAttributes attributes, InetAddress client) {
        return select(protocol, attributes, client, null);
    }

    /**
     * Returns the most specific route that matches, or {@code null}.
     *
     * @param protocol the detected protocol id
     * @param attributes what the detector found
     * @param client the client's address, or {@code null}
     * @param listener the local address the client connected to, or {@code null} when unknown
     * @return the route, or {@code null} when none matches
     */
    public Route select(String protocol, ProtocolAttributes attributes, InetAddress client,
                        InetSocketAddress listener) {
        Route[] candidates = byProtocol.get(protocol);
        if (candidates != null) {
            for (Route r : candidates) {
                if (r.matches(protocol, attributes, client, listener)) {
                    return r;
                }
            }
        }
        return null;
    }

    /** Returns a builder holding this table's content, to derive a new table from it. */
    public Builder toBuilder() {
        Builder b = new Builder().routes(routes);
        b.declaredTargets.addAll(declaredTargets);
        b.fallback = fallback;
        b.silenceTarget = silenceTarget;
        b.listenerSilences.addAll(listenerSilences);
        return b;
    }

    @Override
    public String toString() {
        return "RoutingTable" + routes + " fallback=" + (fallback == null ? "close" : fallback.name())
                + " onSilence=" + (silenceTarget == null ? "none" : silenceTarget.name())
                + (listenerSilences.isEmpty() ? "" : " " + listenerSilences);
    }

    /** Builds a {@link RoutingTable}; not thread-safe, reusable after {@link #build()}. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();
        private final List<ForwardTarget> declaredTargets = new ArrayList<>();
        private ForwardTarget fallback;
        private ForwardTarget silenceTarget;
        private final List<SilenceRoute> listenerSilences = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds a route; declared order breaks ties between equally specific routes.
         *
         * @param route the route
         * @return this builder
         */
        public Builder route(Route route) {
            routes.add(Objects.requireNonNull(route, "route"));
            return this;
        }

        /**
         * Adds a route for every connection of the protocol.
         *
         * @param protocol the protocol id
         * @param target where its connections go
         * @return this builder
         */
        public Builder route(String protocol, ForwardTarget target) {
            return route(Route.of(protocol, target));
        }

        /**
         * Adds routes in order.
         *
         * @param routes the routes
         * @return this builder
         */
        public Builder routes(Collection<Route> routes) {
            for (Route r : Objects.requireNonNull(routes, "routes")) {
                route(r);
            }
            return this;
        }

        /**
         * Declares a target that no route uses, so that a hook can reroute connections to it (like an HAProxy
         * {@code backend} that only {@code use_backend} rules name). It gets health checks and connection counts
         * like any other target of the table.
         *
         * @param target the target
         * @return this builder
         */
        public Builder target(ForwardTarget target) {
            declaredTargets.add(Objects.requireNonNull(target, "target"));
            return this;
        }

        /**
         * Sets where bytes that match no protocol, exceed the peek cap, miss the detection deadline, or have no
         * route go. Default none: such connections are closed.
         *
         * @param target the fallback, or {@code null} for none
         * @return this builder
         */
        public Builder fallback(ForwardTarget target) {
            this.fallback = target;
            return this;
        }

        /**
         * Sets where clients that send nothing before the silence deadline go (server-speaks-first protocols), on
         * every listener without a {@linkplain #onSilence(int, ForwardTarget, Duration) silence route of its own};
         * the deadline is the instance's {@link RefractiumBuilder#silenceTimeout(Duration) silenceTimeout}.
         * Default none.
         *
         * @param target the silent-client target, or {@code null} for none
         * @return this builder
         */
        public Builder onSilence(ForwardTarget target) {
            this.silenceTarget = target;
            return this;
        }

        /**
         * Sets where clients that send nothing go on one listener port, and how long to wait there for the first
         * byte; it replaces the {@linkplain #onSilence(ForwardTarget) default} on that port. A connection on a port
         * with no silence route (its own or the default) does not wait for silence at all.
         *
         * @param listenerPort the local port, 1 to 65535
         * @param target where silent clients on that port go
         * @param timeout the silence deadline on that port, greater than zero (and, checked when the table is
         *        used, shorter than the detection deadline), or {@code null} for the instance's silence timeout
         * @return this builder
         */
        public Builder onSilence(int listenerPort, ForwardTarget target, Duration timeout) {
            if (listenerPort < 1 || listenerPort > 65535) {
                throw new IllegalArgumentException("onSilence listener: " + listenerPort
                        + " (expected: a port 1-65535)");
            }
            listenerSilences.add(new SilenceRoute(listenerPort, Objects.requireNonNull(target, "target"), timeout));
            return this;
        }

        /**
         * Returns the table.
         *
         * @throws IllegalArgumentException naming the entries when a route can never match, two silence routes
         *         name the same listener port, or a target name is used twice for different targets
         */
        public RoutingTable build() {
            for (int i = 0; i < listenerSilences.size(); i++) {
                for (int j = 0; j < i; j++) {
                    if (listenerSilences.get(i).listenerPort() == listenerSilences.get(j).listenerPort()) {
                        throw new IllegalArgumentException("onSilence(" + listenerSilences.get(i)
                                + "): listener port " + listenerSilences.get(i).listenerPort()
                                + " already has a silence route (" + listenerSilences.get(j)
                                + "); give each port one");
                    }
                }
            }
            for (int i = 0; i < routes.size(); i++) {
                for (int j = 0; j < i; j++) {
                    if (routes.get(i).sameConditions(routes.get(j))) {
                        throw new IllegalArgumentException("route #" + (i + 1) + " (" + routes.get(i)
                                + ") can never match: route #" + (j + 1) + " (" + routes.get(j)
                                + ") has the same protocol and conditions");
                    }
                }
            }
            return new RoutingTable(this);
        }
    }
}
