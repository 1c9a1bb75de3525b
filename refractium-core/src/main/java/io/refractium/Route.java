package io.refractium;

import io.refractium.internal.route.NamePattern;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

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
 * </ul>
 * When several routes match, the most specific wins: more conditions first; then an exact name before a wildcard
 * and a longer suffix before a shorter; a longer path prefix; a longer CIDR prefix; then declared order.
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
    private final ForwardTarget target;

    private Route(Builder b, ForwardTarget target) {
        this.protocol = b.protocol;
        this.sni = b.sni;
        this.alpn = b.alpn;
        this.host = b.host;
        this.pathPrefix = b.pathPrefix;
        this.clientCidr = b.clientCidr;
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

    /** Returns where matching connections go. */
    public ForwardTarget target() {
        return target;
    }

    /**
     * Returns whether a connection matches this route.
     *
     * @param protocolId the detected protocol
     * @param attributes what the detector found
     * @param client the client's address, or {@code null}
     * @return whether every condition holds
     */
    public boolean matches(String protocolId, ProtocolAttributes attributes, InetAddress client) {
        if (!protocol.equals(protocolId)) {
            return false;
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

    /** Returns whether the other route has the same protocol and conditions (the target aside). */
    boolean sameConditions(Route o) {
        return protocol.equals(o.protocol) && Objects.equals(sni, o.sni) && Objects.equals(alpn, o.alpn)
                && Objects.equals(host, o.host) && Objects.equals(pathPrefix, o.pathPrefix)
                && Objects.equals(clientCidr, o.clientCidr);
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
        return c;
    }

    private static int nameSpecificity(NamePattern p) {
        return p == null ? -1 : p.specificity();
    }

    private int conditionCount() {
        return (sni == null ? 0 : 1) + (alpn == null ? 0 : 1) + (host == null ? 0 : 1) + (pathPrefix == null ? 0 : 1)
                + (clientCidr == null ? 0 : 1);
    }

    /** Returns the route's protocol and conditions, e.g. {@code tls sni=*.example alpn=h2}. */
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
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Route && sameConditions((Route) o) && target.equals(((Route) o).target);
    }

    @Override
    public int hashCode() {
        return Objects.hash(protocol, sni, alpn, host, pathPrefix, clientCidr, target);
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
