package io.refractium;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One backend server of a {@link ForwardTarget}: a host (IPv4 or IPv6 literal, or a host name) and a port, with its
 * load-balancing weight, whether it is a backup, and its own connection cap.
 *
 * <p>A host name is resolved through DNS in the background, never on a connection's path (see
 * {@link RefractiumBuilder#dnsServers}): each address it resolves to acts as one backend with these settings, for the
 * load balancer, the cap and the health checks, and appears as such in {@link TargetStatus} (as
 * {@code ADDRESS:PORT}). The name is resolved again when the answer's TTL expires (bounded by
 * {@link RefractiumBuilder#dnsMinTtl} and {@link RefractiumBuilder#dnsMaxTtl}); an address that leaves the answer
 * takes no new connection and its open connections carry on. IP literals never go through DNS.
 *
 * <p>Immutable and thread-safe; the {@code with*} methods return copies. Two backends are equal when all their
 * settings are equal.
 */
public final class Backend {

    /** The default weight, {@value}. */
    public static final int DEFAULT_WEIGHT = 1;
    /** The largest weight accepted, {@value}. */
    public static final int MAX_WEIGHT = 1000;

    private final String host;
    private final int port;
    private final int weight;
    private final boolean backup;
    private final int maxConnections;

    private Backend(String host, int port, int weight, boolean backup, int maxConnections) {
        this.host = host;
        this.port = port;
        this.weight = weight;
        this.backup = backup;
        this.maxConnections = maxConnections;
    }

    /**
     * Returns a primary backend of weight {@value #DEFAULT_WEIGHT} with no connection cap.
     *
     * @param host an IPv4 or IPv6 literal (brackets optional) or a host name
     * @param port 1 to 65535
     * @return the backend
     * @throws IllegalArgumentException if the host is empty or the port out of range
     */
    public static Backend of(String host, int port) {
        Objects.requireNonNull(host, "host");
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.isEmpty()) {
            throw new IllegalArgumentException("host: \"" + host + "\" (expected: a host name or an IP address)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
        }
        return new Backend(h, port, DEFAULT_WEIGHT, false, 0);
    }

    /**
     * Parses {@code HOST:PORT}, where an IPv6 host is written in brackets ({@code [::1]:443}).
     *
     * @param hostAndPort the backend's address
     * @return a primary backend of weight {@value #DEFAULT_WEIGHT}
     * @throws IllegalArgumentException naming the value when it is not {@code HOST:PORT}
     */
    public static Backend parse(String hostAndPort) {
        Objects.requireNonNull(hostAndPort, "hostAndPort");
        String s = hostAndPort.trim();
        int colon = s.lastIndexOf(':');
        boolean bracketed = s.startsWith("[");
        if (colon <= 0 || colon == s.length() - 1
                || (bracketed && s.charAt(colon - 1) != ']')
                || (!bracketed && s.indexOf(':') != colon)) {
            throw new IllegalArgumentException("backend: \"" + hostAndPort
                    + "\" (expected: HOST:PORT, with an IPv6 host in brackets such as [::1]:443)");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend: \"" + hostAndPort + "\" (expected: a port number 1-65535)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("backend: \"" + hostAndPort + "\" (expected: a port number 1-65535)");
        }
        return of(s.substring(0, colon), port);
    }

    /** Returns the host: a name or an IP literal, without brackets. */
    public String host() {
        return host;
    }

    /** Returns the port. */
    public int port() {
        return port;
    }

    /** Returns the load-balancing weight, 1 to {@value #MAX_WEIGHT}; default {@value #DEFAULT_WEIGHT}. */
    public int weight() {
        return weight;
    }

    /** Returns whether this backend is used only when no primary backend of its target is available. */
    public boolean isBackup() {
        return backup;
    }

    /** Returns the most concurrent connections this backend takes, or {@code 0} for no cap (the default). */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * Returns a copy with the given weight.
     *
     * @param weight 1 to {@value #MAX_WEIGHT}
     * @return the copy
     */
    public Backend withWeight(int weight) {
        if (weight < 1 || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: 1-" + MAX_WEIGHT + ")");
        }
        return new Backend(host, port, weight, backup, maxConnections);
    }

    /**
     * Returns a copy that is, or is not, a backup.
     *
     * @param backup whether the backend is a backup
     * @return the copy
     */
    public Backend withBackup(boolean backup) {
        return new Backend(host, port, weight, backup, maxConnections);
    }

    /**
     * Returns a copy with the given connection cap.
     *
     * @param maxConnections the most concurrent connections, or {@code 0} for no cap
     * @return the copy
     */
    public Backend withMaxConnections(int maxConnections) {
        if (maxConnections < 0) {
            throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: >= 0)");
        }
        return new Backend(host, port, weight, backup, maxConnections);
    }

    /** Returns an unresolved socket address for this backend, as configured. */
    public InetSocketAddress address() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Returns {@code HOST:PORT}, with an IPv6 host in brackets. */
    public String hostAndPort() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Backend)) {
            return false;
        }
        Backend b = (Backend) o;
        return port == b.port && weight == b.weight && backup == b.backup && maxConnections == b.maxConnections
                && host.equals(b.host);
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port, weight, backup, maxConnections);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(hostAndPort());
        if (weight != DEFAULT_WEIGHT) {
            sb.append('*').append(weight);
        }
        if (backup) {
            sb.append("+backup");
        }
        if (maxConnections > 0) {
            sb.append(" max-conns=").append(maxConnections);
        }
        return sb.toString();
    }
}
