package io.refractium;

import io.refractium.balance.LoadBalancer;
import io.refractium.balance.LoadBalancers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A named group of backends that routes send connections to, with the strategy that picks one backend per
 * connection and how many backends a connection may try before it gives up.
 *
 * <p>Immutable and thread-safe. Build one with {@link #builder(String)}, or {@link #of(String, String...)} for the
 * common case. Two targets are equal when their name and settings are equal.
 */
public final class ForwardTarget {

    private final String name;
    private final List<Backend> backends;
    private final LoadBalancer loadBalancer;
    private final int maxAttempts;
    /** The maxAttempts set on the builder, 0 for the default (the number of backends); kept for toBuilder. */
    private final int configuredAttempts;
    private final Duration connectDeadline;
    private final HealthCheck healthCheck;
    private final int ejectAfter;
    private final Duration ejectionCooldown;
    private final ProxyProtocolVersion sendProxyProtocol;
    /** Cached: a target is looked up by value for every connection routed to it. */
    private int hash;

    private ForwardTarget(Builder b) {
        this.name = b.name;
        this.backends = List.copyOf(b.backends);
        this.loadBalancer = b.loadBalancer;
        this.maxAttempts = b.maxAttempts == 0 ? backends.size() : b.maxAttempts;
        this.configuredAttempts = b.maxAttempts;
        this.connectDeadline = b.connectDeadline;
        this.healthCheck = b.healthCheck;
        this.ejectAfter = b.ejectAfter;
        this.ejectionCooldown = b.ejectionCooldown;
        this.sendProxyProtocol = b.sendProxyProtocol;
    }

    /**
     * Returns a target of round-robin backends.
     *
     * @param name the target's name, unique within a routing table
     * @param backends one or more {@code HOST:PORT} ({@code [v6]:PORT} for IPv6)
     * @return the target
     * @throws IllegalArgumentException naming the value when a backend does not parse or none is given
     */
    public static ForwardTarget of(String name, String... backends) {
        Builder b = builder(name);
        for (String backend : Objects.requireNonNull(backends, "backends")) {
            b.backend(backend);
        }
        return b.build();
    }

    /**
     * Returns a target with a single backend, named after it.
     *
     * @param hostAndPort {@code HOST:PORT}
     * @return the target
     */
    public static ForwardTarget to(String hostAndPort) {
        return of(Backend.parse(hostAndPort).hostAndPort(), hostAndPort);
    }

    /**
     * Returns a new builder.
     *
     * @param name the target's name, unique within a routing table
     * @return the builder
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Returns a builder holding this target's name and settings, to derive a changed target from it (add a
     * backend, change the health check). A {@link #maxAttempts()} left at its default stays the default: it follows
     * the number of backends of the new target.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.backends.addAll(backends);
        b.loadBalancer = loadBalancer;
        b.maxAttempts = configuredAttempts;
        b.connectDeadline = connectDeadline;
        b.healthCheck = healthCheck;
        b.ejectAfter = ejectAfter;
        b.ejectionCooldown = ejectionCooldown;
        b.sendProxyProtocol = sendProxyProtocol;
        return b;
    }

    /** Returns the target's name. */
    public String name() {
        return name;
    }

    /** Returns the backends in declared order, primaries and backups. */
    public List<Backend> backends() {
        return backends;
    }

    /** Returns the load-balancing strategy; default {@link LoadBalancers#roundRobin()}. */
    public LoadBalancer loadBalancer() {
        return loadBalancer;
    }

    /**
     * Returns how many backends one connection may try, each at most once, before the client is closed; default
     * the number of backends (once around).
     */
    public int maxAttempts() {
        return maxAttempts;
    }

    /**
     * Returns the total time one connection may spend connecting across all its attempts, or {@code null} for no
     * limit beyond each attempt's connect timeout (the default).
     */
    public Duration connectDeadline() {
        return connectDeadline;
    }

    /** Returns the active health check of the backends; default {@link HealthCheck#none()}. */
    public HealthCheck healthCheck() {
        return healthCheck;
    }

    /**
     * Returns after how many consecutive connect failures (or connect timeouts) of real traffic a backend is
     * ejected (passive health); {@code 0} disables passive ejection. Default 3.
     */
    public int ejectAfter() {
        return ejectAfter;
    }

    /**
     * Returns how long a backend stays ejected the first time; each further ejection without a success in between
     * doubles it, up to 32 times this. Default 5 seconds.
     */
    public Duration ejectionCooldown() {
        return ejectionCooldown;
    }

    /**
     * Returns the PROXY protocol version sent to this target's backends before the client's bytes, or {@code null}
     * (the default) for none.
     */
    public ProxyProtocolVersion sendProxyProtocol() {
        return sendProxyProtocol;
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof ForwardTarget)) {
            return false;
        }
        ForwardTarget t = (ForwardTarget) o;
        return hashCode() == t.hashCode() && name.equals(t.name) && backends.equals(t.backends) && loadBalancer.equals(t.loadBalancer)
                && maxAttempts == t.maxAttempts && Objects.equals(connectDeadline, t.connectDeadline)
                && healthCheck.equals(t.healthCheck) && ejectAfter == t.ejectAfter
                && ejectionCooldown.equals(t.ejectionCooldown) && sendProxyProtocol == t.sendProxyProtocol;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Objects.hash(name, backends, loadBalancer, maxAttempts, connectDeadline, healthCheck, ejectAfter,
                    ejectionCooldown, sendProxyProtocol);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return name + backends + " " + loadBalancer.name();
    }

    /** Builds a {@link ForwardTarget}; not thread-safe, reusable after {@link #build()}. */
    public static final class Builder {
        private final String name;
        private final List<Backend> backends = new ArrayList<>();
        private LoadBalancer loadBalancer = LoadBalancers.roundRobin();
        private int maxAttempts;
        private Duration connectDeadline;
        private HealthCheck healthCheck = HealthCheck.none();
        private int ejectAfter = 3;
        private Duration ejectionCooldown = Duration.ofSeconds(5);
        private ProxyProtocolVersion sendProxyProtocol;

        private Builder(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name: \"" + name + "\" (expected: a non-blank target name)");
            }
            this.name = name;
        }

        /**
         * Adds a backend.
         *
         * @param backend the backend
         * @return this builder
         */
        public Builder backend(Backend backend) {
            backends.add(Objects.requireNonNull(backend, "backend"));
            return this;
        }

        /**
         * Adds a primary backend of weight 1.
         *
         * @param hostAndPort {@code HOST:PORT}
         * @return this builder
         */
        public Builder backend(String hostAndPort) {
            return backend(Backend.parse(hostAndPort));
        }

        /**
         * Adds a primary backend of weight 1.
         *
         * @param host a name or an IP literal
         * @param port 1 to 65535
         * @return this builder
         */
        public Builder backend(String host, int port) {
            return backend(Backend.of(host, port));
        }

        /**
         * Sets the load-balancing strategy. Default {@link LoadBalancers#roundRobin()}.
         *
         * @param loadBalancer the strategy
         * @return this builder
         */
        public Builder loadBalancer(LoadBalancer loadBalancer) {
            this.loadBalancer = Objects.requireNonNull(loadBalancer, "loadBalancer");
            return this;
        }

        /**
         * Sets how many backends one connection may try, each at most once. Default: the number of backends.
         *
         * @param maxAttempts 1 to the number of backends
         * @return this builder
         */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * Sets the total time one connection may spend connecting across its attempts. Default none.
         *
         * @param connectDeadline greater than zero, or {@code null} for none
         * @return this builder
         */
        public Builder connectDeadline(Duration connectDeadline) {
            if (connectDeadline != null && (connectDeadline.isNegative() || connectDeadline.isZero())) {
                throw new IllegalArgumentException("connectDeadline: " + connectDeadline + " (expected: > 0)");
            }
            this.connectDeadline = connectDeadline;
            return this;
        }

        /**
         * Sets the active health check. Default {@link HealthCheck#none()}.
         *
         * @param healthCheck the check
         * @return this builder
         */
        public Builder healthCheck(HealthCheck healthCheck) {
            this.healthCheck = Objects.requireNonNull(healthCheck, "healthCheck");
            return this;
        }

        /**
         * Sets after how many consecutive connect failures of real traffic a backend is ejected. Default 3.
         *
         * @param consecutiveFailures 1 or more, or 0 to disable passive ejection
         * @return this builder
         */
        public Builder ejectAfter(int consecutiveFailures) {
            if (consecutiveFailures < 0) {
                throw new IllegalArgumentException("ejectAfter: " + consecutiveFailures + " (expected: >= 0, 0 disables)");
            }
            this.ejectAfter = consecutiveFailures;
            return this;
        }

        /**
         * Sets how long a backend stays ejected the first time (doubling on repeated ejection, up to 32 times).
         * Default 5 seconds.
         *
         * @param cooldown greater than zero
         * @return this builder
         */
        public Builder ejectionCooldown(Duration cooldown) {
            Objects.requireNonNull(cooldown, "ejectionCooldown");
            if (cooldown.isNegative() || cooldown.isZero()) {
                throw new IllegalArgumentException("ejectionCooldown: " + cooldown + " (expected: > 0)");
            }
            this.ejectionCooldown = cooldown;
            return this;
        }

        /**
         * Sends a PROXY protocol header to the backends before the client's bytes, so that they see the real client
         * address (the socket's, or the one a trusted incoming header gave). Version 2 adds TLVs: the detected TLS
         * server name or HTTP host ({@code PP2_TYPE_AUTHORITY}), the first ALPN protocol the client offered
         * ({@code PP2_TYPE_ALPN}) and the connection id ({@code PP2_TYPE_UNIQUE_ID}). A {@linkplain
         * HealthCheck health check} sends a {@code LOCAL} header (v2) or {@code PROXY UNKNOWN} (v1) first. Default
         * none.
         *
         * @param version the version, or {@code null} for none
         * @return this builder
         */
        public Builder sendProxyProtocol(ProxyProtocolVersion version) {
            this.sendProxyProtocol = version;
            return this;
        }

        /**
         * Returns the target.
         *
         * @throws IllegalArgumentException when there is no backend, or a backend is listed twice
         */
        public ForwardTarget build() {
            if (backends.isEmpty()) {
                throw new IllegalArgumentException("target " + name + ": no backends (expected: at least one)");
            }
            if (maxAttempts > backends.size()) {
                throw new IllegalArgumentException("target " + name + ": maxAttempts " + maxAttempts + " (expected: 1-"
                        + backends.size() + ", the number of backends; each backend is tried at most once)");
            }
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Backend b : backends) {
                if (!seen.add(b.hostAndPort())) {
                    throw new IllegalArgumentException("target " + name + ": backend " + b.hostAndPort()
                            + " is listed twice");
                }
            }
            return new ForwardTarget(this);
        }
    }
}
