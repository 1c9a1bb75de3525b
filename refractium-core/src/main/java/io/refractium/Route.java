package io.refractium;

import io.refractium.internal.route.AttributeCondition;
import io.refractium.internal.route.NamePattern;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A routing rule: a protocol id plus optional conditions on what the detector found, and the
 * {@link ForwardTarget} that matching connections go to.
 *
 * <p>Conditions:
 * <ul>
 *   <li>{@linkplain Builder#sni SNI} and {@linkplain Builder#host HTTP Host}: an exact name or {@code *.suffix}
 *       (any name below the suffix, not the suffix itself); case-insensitive, a trailing dot ignored.</li>
 *   <li>{@linkplain Builder#alpn ALPN}: the client offers this protocol name among its ALPN list.</li>
 *   <li>{@linkplain Builder#pathPrefix path prefix}: the HTTP request target starts with it.</li>
 *   <li>{@linkplain Builder#clientCidr client CIDR}: the client's address is in the network.</li>
 *   <li>{@linkplain Builder#attribute(String, String) any attribute} a detector reports, by name (such as
 *       {@code postgres.database} or {@code mqtt.clientid}): an exact value (case-sensitive), {@code *.suffix}
 *       (a name below the suffix, as for SNI), or a {@linkplain Builder#attribute(String, Predicate) predicate}.
 *       A list-valued attribute (such as {@code tls.alpn}) matches when any element matches. A connection
 *       whose detector did not report the attribute does not match.</li>
 *   <li>{@linkplain Builder#listener(int) listener}: the client connected to this local port (and address, with
 *       {@link Builder#listener(InetSocketAddress)}), so that one instance with several listen addresses can apply
 *       different rules per port.</li>
 * </ul>
 * When several routes match, the most specific wins:
 * <ol>
 *   <li>more conditions first (each condition above counts one, each attribute condition one);</li>
 *   <li>then the SNI, then the Host: an exact name before {@code *.suffix}, a longer suffix before a shorter;</li>
 *   <li>then a longer path prefix, then a longer CIDR prefix;</li>
 *   <li>then attribute conditions: more exact values first, then more {@code *.suffix} ones (predicates count
 *       least), then longer suffixes;</li>
 *   <li>then the listener: an address and port before a port alone;</li>
 *   <li>then declared order.</li>
 * </ol>
 *
 * <p>Immutable and thread-safe.
 */
public final class Route {

    private final String protocol;
    private final NamePattern sni;
    private final String alpn;
    private final NamePattern host;
    private final String pathPrefix;
    private final Cidr clientCidr;
    private final List<AttributeCondition> attributeConditions;
    private final int listenerPort;
    private final InetAddress listenerAddress;
    private final ForwardTarget target;

    private Route(Builder b, ForwardTarget target) {
        this.protocol = b.protocol;
        this.sni = b.sni;
        this.alpn = b.alpn;
        this.host = b.host;
        this.pathPrefix = b.pathPrefix;
        this.clientCidr = b.clientCidr;
        this.attributeConditions = List.copyOf(b.attributeConditions);
        this.listenerPort = b.listenerPort;
        this.listenerAddress = b.listenerAddress;
        this.target = target;
    }

    /**
     * Returns a route for every connection of the protocol.
     *
     * @param protocol a protocol id such as {@code "ssh"}
     * @param target where matching connections go
     * @return the route
     */
    public static Route of(String protocol, ForwardTarget target) {
        return builder(protocol).to(target);
    }

    /**
     * Returns a builder for a route of the protocol.
     *
     * @param protocol a protocol id such as {@code "tls"}
     * @return the builder
     */
    public static Builder builder(String protocol) {
        return new Builder(protocol);
    }

    /**
     * Returns a builder holding this route's protocol and conditions, to derive a route from it: finish it with
     * {@link Builder#to(ForwardTarget)}, for example {@code route.toBuilder().to(otherTarget)} sends the same
     * connections elsewhere, and {@code route.toBuilder().alpn("h2").to(target)} narrows it.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(protocol);
        b.sni = sni;
        b.alpn = alpn;
        b.host = host;
        b.pathPrefix = pathPrefix;
        b.clientCidr = clientCidr;
        b.attributeConditions.addAll(attributeConditions);
        b.listenerPort = listenerPort;
        b.listenerAddress = listenerAddress;
        return b;
    }

    /** Returns the protocol id. */
    public String protocol() {
        return protocol;
    }

    /** Returns the SNI pattern, or {@code null}. */
    public String sni() {
        return sni == null ? null : sni.toString();
    }

    /** Returns the ALPN protocol name the client must offer, or {@code null}. */
    public String alpn() {
        return alpn;
    }

    /** Returns the HTTP Host pattern, or {@code null}. */
    public String host() {
        return host == null ? null : host.toString();
    }

    /** Returns the HTTP path prefix, or {@code null}. */
    public String pathPrefix() {
        return pathPrefix;
    }

    /** Returns the client network, or {@code null}. */
    public String clientCidr() {
        return clientCidr == null ? null : clientCidr.toString();
    }

    /**
     * Returns the conditions on attributes by name, each as {@code name=value}, {@code name=*.suffix} or
     * {@code name~predicate}, in declared order; empty when there are none.
     */
    public List<String> attributeConditions() {
        List<String> out = new ArrayList<>(attributeConditions.size());
        for (AttributeCondition c : attributeConditions) {
            out.add(c.toString());
        }
        return List.copyOf(out);
    }

    /** Returns the local port the client must have connected to, or {@code -1} when any listener will do. */
    public int listenerPort() {
        return listenerPort;
    }

    /**
     * Returns the local address the client must have connected to, or {@code null} when any address of the
     * {@linkplain #listenerPort() port} will do (a wildcard address such as {@code 0.0.0.0} also means any).
     */
    public InetAddress listenerAddress() {
        return listenerAddress;
    }

    /** Returns where matching connections go. */
    public ForwardTarget target() {
        return target;
    }

    /**
     * Returns whether a connection matches this route; a route with a {@linkplain Builder#listener(int) listener}
     * condition never matches here, where the listener is unknown.
     *
     * @param protocolId the detected protocol
     * @param attributes what the detector found
     * @param client the client's address, or {@code null}
     * @return whether every condition holds
     */
    public boolean matches(String protocolId, ProtocolAttributes attributes, InetAddress client) {
        return matches(protocolId, attributes, client, null);
    }

    /**
     * Returns whether a connection matches this route.
     *
     * @param protocolId the detected protocol
     * @param attributes what the detector found
     * @param client the client's address, or {@code null}
     * @param listener the local address the client connected to, or {@code null} when unknown
     * @return whether every condition holds
     */
    public boolean matches(String protocolId, ProtocolAttributes attributes, InetAddress client,
                           InetSocketAddress listener) {
        if (!protocol.equals(protocolId)) {
            return false;
        }
        if (listenerPort >= 0 && !matchesListener(listener)) {
            return false;
        }
        for (int i = 0, n = attributeConditions.size(); i < n; i++) {
            if (!attributeConditions.get(i).matches(attributes)) {
                return false;
            }
        }
        if (sni != null && !sni.matches(attributes.get(AttributeKey.SNI))) {
            return false;
        }
        if (host != null && !host.matches(attributes.get(AttributeKey.HTTP_HOST))) {
            return false;
        }
        if (alpn != null) {
            List<String> offered = attributes.get(AttributeKey.ALPN);
            if (offered == null || !offered.contains(alpn)) {
                return false;
            }
        }
        if (pathPrefix != null) {
            String path = attributes.get(AttributeKey.HTTP_PATH);
            if (path == null || !path.startsWith(pathPrefix)) {
                return false;
            }
        }
        return clientCidr == null || clientCidr.contains(client);
    }

    private boolean matchesListener(InetSocketAddress local) {
        if (local == null || local.getPort() != listenerPort) {
            return false;
        }
        return listenerAddress == null || listenerAddress.isAnyLocalAddress()
                || listenerAddress.equals(local.getAddress());
    }

    /** Returns whether the route has a listener condition. */
    boolean hasListener() {
        return listenerPort >= 0;
    }

    /** Returns whether the other route has the same protocol and conditions (the target aside). */
    boolean sameConditions(Route o) {
        return protocol.equals(o.protocol) && Objects.equals(sni, o.sni) && Objects.equals(alpn, o.alpn)
                && Objects.equals(host, o.host) && Objects.equals(pathPrefix, o.pathPrefix)
                && Objects.equals(clientCidr, o.clientCidr) && listenerPort == o.listenerPort
                && Objects.equals(listenerAddress, o.listenerAddress)
                && Set.copyOf(attributeConditions).equals(Set.copyOf(o.attributeConditions));
    }

    /** Compares specificity: negative when this route is more specific than the other. */
    int compareSpecificity(Route o) {
        int c = Integer.compare(o.conditionCount(), conditionCount());
        if (c == 0) {
            c = Integer.compare(nameSpecificity(o.sni), nameSpecificity(sni));
        }
        if (c == 0) {
            c = Integer.compare(nameSpecificity(o.host), nameSpecificity(host));
        }
        if (c == 0) {
            c = Integer.compare(o.pathPrefix == null ? -1 : o.pathPrefix.length(), pathPrefix == null ? -1 : pathPrefix.length());
        }
        if (c == 0) {
            c = Integer.compare(o.clientCidr == null ? -1 : o.clientCidr.prefixLength(),
                    clientCidr == null ? -1 : clientCidr.prefixLength());
        }
        if (c == 0) {
            c = Integer.compare(o.countAttributes(AttributeCondition.Kind.EXACT),
                    countAttributes(AttributeCondition.Kind.EXACT));
        }
        if (c == 0) {
            c = Integer.compare(o.countAttributes(AttributeCondition.Kind.SUFFIX),
                    countAttributes(AttributeCondition.Kind.SUFFIX));
        }
        if (c == 0) {
            c = Integer.compare(o.suffixSpecificity(), suffixSpecificity());
        }
        if (c == 0) {
            c = Integer.compare(o.listenerSpecificity(), listenerSpecificity());
        }
        return c;
    }

    private int countAttributes(AttributeCondition.Kind kind) {
        int n = 0;
        for (AttributeCondition a : attributeConditions) {
            if (a.kind() == kind) {
                n++;
            }
        }
        return n;
    }

    private int suffixSpecificity() {
        int s = 0;
        for (AttributeCondition a : attributeConditions) {
            s += a.specificity();
        }
        return s;
    }

    private int listenerSpecificity() {
        if (listenerPort < 0) {
            return 0;
        }
        return listenerAddress == null || listenerAddress.isAnyLocalAddress() ? 1 : 2;
    }

    private static int nameSpecificity(NamePattern p) {
        return p == null ? -1 : p.specificity();
    }

    private int conditionCount() {
        return (sni == null ? 0 : 1) + (alpn == null ? 0 : 1) + (host == null ? 0 : 1) + (pathPrefix == null ? 0 : 1)
                + (clientCidr == null ? 0 : 1) + (listenerPort < 0 ? 0 : 1) + attributeConditions.size();
    }

    /**
     * Returns the route's protocol and conditions, e.g. {@code tls sni=*.example alpn=h2}, or
     * {@code postgres postgres.database=app listener=:5432}.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder(protocol);
        if (sni != null) {
            sb.append(" sni=").append(sni);
        }
        if (alpn != null) {
            sb.append(" alpn=").append(alpn);
        }
        if (host != null) {
            sb.append(" host=").append(host);
        }
        if (pathPrefix != null) {
            sb.append(" path=").append(pathPrefix).append('*');
        }
        if (clientCidr != null) {
            sb.append(" client=").append(clientCidr);
        }
        for (AttributeCondition a : attributeConditions) {
            sb.append(' ').append(a);
        }
        if (listenerPort >= 0) {
            sb.append(" listener=");
            if (listenerAddress != null) {
                String a = listenerAddress.getHostAddress();
                sb.append(a.indexOf(':') >= 0 ? "[" + a + "]" : a);
            }
            sb.append(':').append(listenerPort);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Route && sameConditions((Route) o) && target.equals(((Route) o).target);
    }

    @Override
    public int hashCode() {
        return Objects.hash(protocol, sni, alpn, host, pathPrefix, clientCidr, Set.copyOf(attributeConditions),
                listenerPort, listenerAddress, target);
    }

    @Override
    public String toString() {
        return describe() + " -> " + target.name();
    }

    /** Builds a {@link Route}; not thread-safe. Each condition setter validates its value at once. */
    public static final class Builder {
        private final String protocol;
        private NamePattern sni;
        private String alpn;
        private NamePattern host;
        private String pathPrefix;
        private Cidr clientCidr;
        private final List<AttributeCondition> attributeConditions = new ArrayList<>();
        private int listenerPort = -1;
        private InetAddress listenerAddress;

        private Builder(String protocol) {
            Objects.requireNonNull(protocol, "protocol");
            if (protocol.isEmpty() || !protocol.equals(protocol.toLowerCase(Locale.ROOT)) || protocol.chars().anyMatch(c -> c <= ' ')) {
                throw new IllegalArgumentException("protocol: \"" + protocol + "\" (expected: a lower-case protocol id such as tls)");
            }
            this.protocol = protocol;
        }

        /**
         * Requires the TLS server name: exact, or {@code *.suffix}.
         *
         * @param pattern the name pattern
         * @return this builder
         */
        public Builder sni(String pattern) {
            this.sni = NamePattern.parse("sni", pattern);
            return this;
        }

        /**
         * Requires the client to offer this ALPN protocol name (e.g. {@code "h2"}).
         *
         * @param protocolName the ALPN name
         * @return this builder
         */
        public Builder alpn(String protocolName) {
            Objects.requireNonNull(protocolName, "alpn");
            if (protocolName.isEmpty() || protocolName.length() > 255) {
                throw new IllegalArgumentException("alpn: \"" + protocolName + "\" (expected: 1-255 characters)");
            }
            this.alpn = protocolName;
            return this;
        }

        /**
         * Requires the HTTP Host: exact, or {@code *.suffix}; the port in the Host header is ignored.
         *
         * @param pattern the name pattern
         * @return this builder
         */
        public Builder host(String pattern) {
            this.host = NamePattern.parse("host", pattern);
            return this;
        }

        /**
         * Requires the HTTP request target to start with the prefix.
         *
         * @param prefix a prefix starting with {@code /}
         * @return this builder
         */
        public Builder pathPrefix(String prefix) {
            Objects.requireNonNull(prefix, "pathPrefix");
            if (!prefix.startsWith("/")) {
                throw new IllegalArgumentException("pathPrefix: \"" + prefix + "\" (expected: a path starting with /)");
            }
            this.pathPrefix = prefix;
            return this;
        }

        /**
         * Requires the client's address to be in the network.
         *
         * @param cidr e.g. {@code 10.0.0.0/8} or {@code fd00::/8}; a bare address means that address only
         * @return this builder
         */
        public Builder clientCidr(String cidr) {
            return clientCidr(Cidr.parse(cidr));
        }

        /**
         * Requires the client's address to be in the network.
         *
         * @param network the network
         * @return this builder
         */
        public Builder clientCidr(Cidr network) {
            this.clientCidr = Objects.requireNonNull(network, "network");
            return this;
        }

        /**
         * Requires an attribute the detector reports, by name, to have a value: {@code *.suffix} for any name
         * below the suffix (case-insensitive, a trailing dot ignored, as for {@link #sni}), otherwise the exact
         * value (case-sensitive). For a list-valued attribute, any element may match. May be called for several
         * attributes; each is one condition. Example:
         * {@code Route.builder("postgres").attribute("postgres.database", "app")}.
         *
         * @param name the attribute's name, as its {@link AttributeKey#name()}
         * @param value the exact value, or {@code *.suffix}
         * @return this builder
         * @throws IllegalArgumentException naming the attribute when the name or the pattern is malformed
         */
        public Builder attribute(String name, String value) {
            attributeConditions.add(AttributeCondition.of(name, value));
            return this;
        }

        /**
         * Requires an attribute the detector reports, by name, to satisfy a predicate on its string form (on each
         * element of a list-valued attribute, any of which may satisfy it). The predicate runs on an event loop for
         * each connection of the protocol that reaches this route, so it must be fast and must not block. Two
         * routes are the same only when they hold the same predicate instance.
         *
         * @param name the attribute's name
         * @param predicate the test
         * @return this builder
         */
        public Builder attribute(String name, Predicate<String> predicate) {
            attributeConditions.add(AttributeCondition.of(name, predicate));
            return this;
        }

        /**
         * Requires an attribute to have a value; see {@link #attribute(String, String)}.
         *
         * @param key the attribute
         * @param value the exact value, or {@code *.suffix}
         * @return this builder
         */
        public Builder attribute(AttributeKey<?> key, String value) {
            return attribute(Objects.requireNonNull(key, "key").name(), value);
        }

        /**
         * Requires the client to have connected to this local port, on any of the instance's listen addresses
         * with that port.
         *
         * @param port 1 to 65535
         * @return this builder
         */
        public Builder listener(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("listener: " + port + " (expected: a port 1-65535)");
            }
            this.listenerPort = port;
            this.listenerAddress = null;
            return this;
        }

        /**
         * Requires the client to have connected to this local address and port; a wildcard address
         * ({@code 0.0.0.0}, {@code ::}) means any address of the port.
         *
         * @param address a resolved address with a port 1 to 65535
         * @return this builder
         */
        public Builder listener(InetSocketAddress address) {
            Objects.requireNonNull(address, "listener");
            if (address.isUnresolved() || address.getPort() == 0) {
                throw new IllegalArgumentException("listener: " + address
                        + " (expected: a resolved address with a port 1-65535)");
            }
            this.listenerPort = address.getPort();
            this.listenerAddress = address.getAddress().isAnyLocalAddress() ? null : address.getAddress();
            return this;
        }

        /**
         * Returns the route to the target.
         *
         * @param target where matching connections go
         * @return the route
         */
        public Route to(ForwardTarget target) {
            return new Route(this, Objects.requireNonNull(target, "target"));
        }
    }

    /** Orders routes for matching: most specific first, then declared order (stable sort). */
    static List<Route> sortForMatching(List<Route> routes) {
        List<Route> sorted = new ArrayList<>(routes);
        sorted.sort(Route::compareSpecificity);
        return sorted;
    }
}
