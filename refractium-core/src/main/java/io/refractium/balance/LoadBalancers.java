package io.refractium.balance;

import java.util.List;
import java.util.Objects;

/**
 * The built-in {@link LoadBalancer} strategies, and {@link #byName(String)} to look one up by the name configuration
 * files and the server's flags use.
 *
 * <p>Every strategy is an immutable singleton, safe to share between targets and threads; equal only to itself. Each
 * target gets its own selector from {@link LoadBalancer#newSelector(java.util.List)}, holding that target's state
 * (counters, scores, hash ring). All selectors are thread-safe: connections accepted on every event loop select
 * concurrently. They choose only among the backends the {@link SelectionContext} says are eligible (the engine
 * accounts for health, connection caps, backends already tried, and primaries before backups), return {@code -1}
 * when none is, and allocate nothing per selection unless stated.
 *
 * <table>
 *   <caption>Strategies</caption>
 *   <tr><th>name</th><th>factory</th><th>picks</th><th>uses weights</th></tr>
 *   <tr><td>{@code round-robin}</td><td>{@link #roundRobin()}</td><td>the next backend in turn</td><td>no</td></tr>
 *   <tr><td>{@code weighted}</td><td>{@link #weighted()}</td><td>smooth weighted round robin</td><td>yes</td></tr>
 *   <tr><td>{@code least-conn}</td><td>{@link #leastConnections()}</td><td>the fewest active connections</td>
 *       <td>no</td></tr>
 *   <tr><td>{@code p2c}</td><td>{@link #powerOfTwoChoices()}</td><td>the less loaded of two random backends</td>
 *       <td>no</td></tr>
 *   <tr><td>{@code random}</td><td>{@link #random()}</td><td>uniformly at random</td><td>no</td></tr>
 *   <tr><td>{@code hash-ip}</td><td>{@link #hashClientIp()}</td><td>consistent hash of the client IP address</td>
 *       <td>yes</td></tr>
 *   <tr><td>{@code hash-name}</td><td>{@link #hashServerName()}</td><td>consistent hash of the SNI or Host</td>
 *       <td>yes</td></tr>
 *   <tr><td>{@code hash-attr:NAME}</td><td>{@link #hashAttribute(String)}</td><td>consistent hash of any attribute
 *       the detector reports</td><td>yes</td></tr>
 * </table>
 */
public final class LoadBalancers {

    private static final LoadBalancer ROUND_ROBIN =
            new BuiltInLoadBalancer("round-robin", backends -> new RoundRobinSelector());
    private static final LoadBalancer WEIGHTED = new BuiltInLoadBalancer("weighted", WeightedRoundRobinSelector::new);
    private static final LoadBalancer LEAST_CONNECTIONS =
            new BuiltInLoadBalancer("least-conn", backends -> new LeastConnectionsSelector());
    private static final LoadBalancer POWER_OF_TWO_CHOICES =
            new BuiltInLoadBalancer("p2c", backends -> new PowerOfTwoChoicesSelector());
    private static final LoadBalancer RANDOM = new BuiltInLoadBalancer("random", backends -> new RandomSelector());
    private static final LoadBalancer HASH_CLIENT_IP =
            new BuiltInLoadBalancer("hash-ip", backends -> new HashRingSelector(backends, false));
    private static final LoadBalancer HASH_SERVER_NAME =
            new BuiltInLoadBalancer("hash-name", backends -> new HashRingSelector(backends, true));

    /** Every built-in strategy, in the order {@link #byName(String)} lists them. */
    private static final List<LoadBalancer> ALL = List.of(ROUND_ROBIN, WEIGHTED, LEAST_CONNECTIONS,
            POWER_OF_TWO_CHOICES, RANDOM, HASH_CLIENT_IP, HASH_SERVER_NAME);

    private static final String HASH_ATTRIBUTE_PREFIX = "hash-attr:";

    private LoadBalancers() {
    }

    /**
     * Returns round robin, named {@code "round-robin"}: each new connection goes to the next eligible backend in
     * declared order, ignoring weights. The default strategy.
     *
     * <p>Its selectors are lock-free: one atomic increment, then a scan from that position to the first eligible
     * backend.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer roundRobin() {
        return ROUND_ROBIN;
    }

    /**
     * Returns smooth weighted round robin, named {@code "weighted"}: nginx's algorithm, in which a backend of weight
     * {@code w} receives {@code w} of every {@code W} connections ({@code W} the sum of the eligible weights),
     * spread out rather than in bursts. Weights 5, 1, 1 give the order {@code a a b a c a a}, and so on in every
     * cycle of 7. Only eligible backends take part in a round; an ineligible backend keeps its place and resumes it
     * when eligible again.
     *
     * <p>Its selectors hold one running score per backend, updated under a lock for one pass over the backends, so
     * that the sequence and the proportions hold exactly under concurrent selection.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer weighted() {
        return WEIGHTED;
    }

    /**
     * Returns least connections, named {@code "least-conn"}: the eligible backend with the fewest active
     * connections ({@link SelectionContext#activeConnections(int)}), ignoring weights. Backends tied at the minimum
     * take turns, so that an idle pool, or several connections selected at once, are spread evenly rather than
     * sent to the first backend.
     *
     * <p>Its selectors are lock-free: one pass over the backends, a second one and an atomic increment on a tie.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer leastConnections() {
        return LEAST_CONNECTIONS;
    }

    /**
     * Returns the power of two choices, named {@code "p2c"}: two distinct eligible backends drawn at random, and the
     * one with fewer active connections chosen (the only one when a single backend is eligible). Nearly as even as
     * least connections, without a pass over all backends and without herding concurrent connections onto the one
     * least loaded backend. Ignores weights.
     *
     * <p>Its selectors are lock-free and use {@link java.util.concurrent.ThreadLocalRandom}.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer powerOfTwoChoices() {
        return POWER_OF_TWO_CHOICES;
    }

    /**
     * Returns random, named {@code "random"}: an eligible backend chosen uniformly at random, ignoring weights.
     *
     * <p>Its selectors are lock-free and use {@link java.util.concurrent.ThreadLocalRandom}.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer random() {
        return RANDOM;
    }

    /**
     * Returns consistent hashing on the client's IP address, named {@code "hash-ip"}: a given client goes to the
     * same backend for as long as that backend is eligible, in every instance of the proxy and across restarts.
     *
     * <p>The backends sit on a hash ring, each with 160 points per unit of weight (weights reduced by their greatest
     * common divisor; very uneven weights are scaled down to at most 640 points per backend on average), placed by
     * hashing the backend's lower-case {@code HOST:PORT}, so that neither their order nor the other backends move
     * them. The key is a fixed 64-bit hash
     * of the address bytes (4 for IPv4, 16 for IPv6; an IPv4-mapped IPv6 address counts as its IPv4 address), and
     * the connection goes to the owner of the next point on the ring, skipping owners that are not eligible. So when
     * one of {@code N} backends is removed or fails, only its own clients, about {@code 1/N} of them, move, and they
     * spread over the others; everyone else keeps their backend. A connection whose client address is unknown goes
     * to a random point, which is a weighted random choice.
     *
     * <p>Its selectors are lock-free: the ring is built once, selection is a binary search and a short walk.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer hashClientIp() {
        return HASH_CLIENT_IP;
    }

    /**
     * Returns consistent hashing on the server name, named {@code "hash-name"}: the same as {@link #hashClientIp()},
     * keyed on the name the client asked for (TLS SNI or HTTP Host, see {@link SelectionContext#serverName()})
     * compared without regard to case and to one trailing dot, so that every connection for a name reaches the same
     * backend (useful for per-name caches). A connection without a server name is keyed on its client IP address.
     *
     * <p>Its selectors are lock-free: the ring is built once, selection is a binary search and a short walk.
     *
     * @return the strategy, always the same instance
     */
    public static LoadBalancer hashServerName() {
        return HASH_SERVER_NAME;
    }

    /**
     * Returns consistent hashing on an attribute the protocol's detector reports, named {@code hash-attr:NAME}:
     * the same ring as {@link #hashClientIp()}, keyed on the attribute's value as written (case-sensitive; a list
     * by its {@code toString()}), so that every connection with the same value (an MQTT client id, a database
     * name, a user) reaches the same backend while it is eligible, in every instance and across restarts. A
     * connection without the attribute (or with an empty value) is keyed on its client IP address. Two calls with
     * the same name return equal strategies.
     *
     * <p>Its selectors are lock-free: the ring is built once, selection is a binary search and a short walk.
     *
     * @param name the attribute's name, e.g. {@code mqtt.clientid} ({@link io.refractium.spi.AttributeKey#name()})
     * @return the strategy
     * @throws IllegalArgumentException when the name is empty or contains spaces, {@code ;} or {@code =}
     */
    public static LoadBalancer hashAttribute(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ';' || c == '=')) {
            throw new IllegalArgumentException("hashAttribute: \"" + name
                    + "\" (expected: an attribute name such as mqtt.clientid)");
        }
        return new BuiltInLoadBalancer(HASH_ATTRIBUTE_PREFIX + name, backends -> new HashRingSelector(backends, name));
    }

    /**
     * Returns the built-in strategy with the given name: {@code round-robin}, {@code weighted}, {@code least-conn},
     * {@code p2c}, {@code random}, {@code hash-ip}, {@code hash-name} or {@code hash-attr:NAME}, exactly as
     * {@link LoadBalancer#name()} spells it.
     *
     * @param name the strategy's name
     * @return the strategy, the same instance its factory method returns
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException naming the value and the accepted names when the name is unknown
     */
    public static LoadBalancer byName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.startsWith(HASH_ATTRIBUTE_PREFIX) && name.length() > HASH_ATTRIBUTE_PREFIX.length()) {
            try {
                return hashAttribute(name.substring(HASH_ATTRIBUTE_PREFIX.length()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("balance: \"" + name
                        + "\" (expected: hash-attr:NAME with NAME an attribute name such as mqtt.clientid)");
            }
        }
        for (LoadBalancer strategy : ALL) {
            if (strategy.name().equals(name)) {
                return strategy;
            }
        }
        StringBuilder expected = new StringBuilder();
        for (LoadBalancer strategy : ALL) {
            expected.append(expected.length() == 0 ? "" : ", ").append(strategy.name());
        }
        expected.append(", ").append(HASH_ATTRIBUTE_PREFIX).append("NAME");
        throw new IllegalArgumentException("balance: \"" + name + "\" (expected one of: " + expected + ")");
    }
}
