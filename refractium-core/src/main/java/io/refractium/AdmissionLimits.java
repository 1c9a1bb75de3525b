package io.refractium;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The limits checked when a connection is accepted, before its pipeline is built: caps on concurrent connections
 * (the whole instance, each listener, each client address), a connection-rate token bucket per client address,
 * CIDR allow and deny lists, and a cap on connections still in detection. A connection over a limit is closed at
 * once (never queued), counted by reason ({@link Refractium#refusals()}) and reported to
 * {@link io.refractium.hook.Hook#onRefused}. Set with {@link RefractiumBuilder#limits(AdmissionLimits)}.
 *
 * <p>A "client address" is the IPv4 address, or the IPv6 address cut to {@link #ipv6PrefixLength()} bits (one
 * host usually holds a whole /64). Every limit is off by default; {@link #none()} has none.
 *
 * <p>Behind a proxy that sends the PROXY protocol ({@link RefractiumBuilder#acceptProxyProtocol}), the client address
 * is the real one: for a connection from a trusted source, the per-address limits (deny and allow lists, rate,
 * {@code maxConnectionsPerIp}) are checked once the header is read, against the address it names, and the proxy's
 * own address is neither listed, rate-limited nor counted per address (a {@code LOCAL} header, or one without an
 * IPv4/IPv6 TCP address, leaves the proxy's address as the client's, and it is checked then). The caps that do not
 * depend on the address ({@code maxConnections}, {@code maxConnectionsPerListener}, {@code maxDetecting}, where
 * waiting for the header counts as detecting) are taken at accept, once per connection. Connections from untrusted
 * sources are checked in full at accept.
 *
 * <p>Immutable and thread-safe. Get one from {@link #builder()}.
 */
public final class AdmissionLimits {

    /** Default {@link Builder#ipv6PrefixLength(int)}: 64. */
    public static final int DEFAULT_IPV6_PREFIX_LENGTH = 64;
    /** Default {@link Builder#maxTrackedAddresses(int)}: 100 000. */
    public static final int DEFAULT_MAX_TRACKED_ADDRESSES = 100_000;
    /** The highest {@link Builder#ratePerIp(double, int)}: one million connections per second. */
    public static final double MAX_RATE_PER_SECOND = 1_000_000;

    private static final AdmissionLimits NONE = builder().build();

    private final int maxConnections;
    private final int maxConnectionsPerListener;
    private final int maxConnectionsPerIp;
    private final int maxDetecting;
    private final double ratePerIp;
    private final int burstPerIp;
    private final List<Cidr> allow;
    private final List<Cidr> deny;
    private final int ipv6PrefixLength;
    private final int maxTrackedAddresses;
    private final boolean rejectWithRst;

    private AdmissionLimits(Builder b) {
        this.maxConnections = b.maxConnections;
        this.maxConnectionsPerListener = b.maxConnectionsPerListener;
        this.maxConnectionsPerIp = b.maxConnectionsPerIp;
        this.maxDetecting = b.maxDetecting;
        this.ratePerIp = b.ratePerIp;
        this.burstPerIp = b.burstPerIp;
        this.allow = List.copyOf(b.allow);
        this.deny = List.copyOf(b.deny);
        this.ipv6PrefixLength = b.ipv6PrefixLength;
        this.maxTrackedAddresses = b.maxTrackedAddresses;
        this.rejectWithRst = b.rejectWithRst;
    }

    /** Returns limits that admit every connection: the default of {@link RefractiumBuilder#limits}. */
    public static AdmissionLimits none() {
        return NONE;
    }

    /** Returns a new builder with every limit off. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the cap on open connections of the instance, or 0 for none. */
    public int maxConnections() {
        return maxConnections;
    }

    /** Returns the cap on open connections of each listen address, or 0 for none. */
    public int maxConnectionsPerListener() {
        return maxConnectionsPerListener;
    }

    /** Returns the cap on open connections of each client address (or IPv6 prefix), or 0 for none. */
    public int maxConnectionsPerIp() {
        return maxConnectionsPerIp;
    }

    /** Returns the cap on connections accepted and not yet past detection, or 0 for none. */
    public int maxDetecting() {
        return maxDetecting;
    }

    /** Returns the connections per second each client address may open on average, or 0 for no rate limit. */
    public double ratePerIp() {
        return ratePerIp;
    }

    /** Returns the connections a client address may open at once before the rate applies; 0 without a rate. */
    public int burstPerIp() {
        return burstPerIp;
    }

    /** Returns the networks clients must be in; empty admits every address not denied. */
    public List<Cidr> allow() {
        return allow;
    }

    /** Returns the networks whose clients are refused; a deny wins over an allow. */
    public List<Cidr> deny() {
        return deny;
    }

    /** Returns how many leading bits of an IPv6 address make one client address. */
    public int ipv6PrefixLength() {
        return ipv6PrefixLength;
    }

    /** Returns the most client addresses whose rate token bucket is remembered. */
    public int maxTrackedAddresses() {
        return maxTrackedAddresses;
    }

    /** Returns whether refused connections are reset ({@code SO_LINGER} 0, an RST) instead of closed with a FIN. */
    public boolean rejectWithRst() {
        return rejectWithRst;
    }

    /** Returns whether any limit needs per-address state (a per-address cap or rate). */
    public boolean tracksAddresses() {
        return maxConnectionsPerIp > 0 || ratePerIp > 0;
    }

    @Override
    public String toString() {
        return "AdmissionLimits[maxConnections=" + maxConnections + ", maxConnectionsPerListener="
                + maxConnectionsPerListener + ", maxConnectionsPerIp=" + maxConnectionsPerIp + ", maxDetecting="
                + maxDetecting + ", ratePerIp=" + ratePerIp + ", burstPerIp=" + burstPerIp + ", allow=" + allow
                + ", deny=" + deny + ", ipv6PrefixLength=" + ipv6PrefixLength + ", maxTrackedAddresses="
                + maxTrackedAddresses + ", rejectWithRst=" + rejectWithRst + "]";
    }

    /**
     * Builds {@link AdmissionLimits}. Mutable and single-threaded; each setter checks its value at once and names it
     * in the error; {@link #build()} checks the rules between settings and leaves the builder reusable.
     */
    public static final class Builder {
        private int maxConnections;
        private int maxConnectionsPerListener;
        private int maxConnectionsPerIp;
        private int maxDetecting;
        private double ratePerIp;
        private int burstPerIp;
        private final List<Cidr> allow = new ArrayList<>();
        private final List<Cidr> deny = new ArrayList<>();
        private int ipv6PrefixLength = DEFAULT_IPV6_PREFIX_LENGTH;
        private int maxTrackedAddresses = DEFAULT_MAX_TRACKED_ADDRESSES;
        private boolean rejectWithRst;

        private Builder() {
        }

        /**
         * Caps the open connections of the whole instance. Default: no cap.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxConnections(int max) {
            this.maxConnections = atLeastOne("maxConnections", max);
            return this;
        }

        /**
         * Caps the open connections of each listen address (all of its {@code SO_REUSEPORT} sockets together).
         * Default: no cap.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxConnectionsPerListener(int max) {
            this.maxConnectionsPerListener = atLeastOne("maxConnectionsPerListener", max);
            return this;
        }

        /**
         * Caps the open connections of each client address (IPv6: each prefix of {@link #ipv6PrefixLength(int)}
         * bits). Default: no cap.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxConnectionsPerIp(int max) {
            this.maxConnectionsPerIp = atLeastOne("maxConnectionsPerIp", max);
            return this;
        }

        /**
         * Caps the connections accepted and not yet past detection (from accept until a target is chosen or the
         * connection closes): slow or silent clients cannot hold more than this many. Default: no cap.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxDetecting(int max) {
            this.maxDetecting = atLeastOne("maxDetecting", max);
            return this;
        }

        /**
         * Limits how fast each client address may open connections, with a token bucket: it holds {@code burst}
         * tokens, refills at {@code perSecond}, and every connection attempt from the address takes one (also an
         * attempt another limit then refuses). Default: no rate limit.
         *
         * @param perSecond more than 0, at most {@link AdmissionLimits#MAX_RATE_PER_SECOND}
         * @param burst at least 1
         * @return this builder
         */
        public Builder ratePerIp(double perSecond, int burst) {
            if (!(perSecond > 0) || perSecond > MAX_RATE_PER_SECOND) {
                throw new IllegalArgumentException("ratePerIp: " + perSecond + " (expected: > 0 and <= "
                        + (long) MAX_RATE_PER_SECOND + " connections per second)");
            }
            this.burstPerIp = atLeastOne("burstPerIp", burst);
            this.ratePerIp = perSecond;
            return this;
        }

        /**
         * Limits how fast each client address may open connections, with a burst of {@code ceil(perSecond)}.
         *
         * @param perSecond more than 0, at most {@link AdmissionLimits#MAX_RATE_PER_SECOND}
         * @return this builder
         * @see #ratePerIp(double, int)
         */
        public Builder ratePerIp(double perSecond) {
            return ratePerIp(perSecond, perSecond > 0 && perSecond <= MAX_RATE_PER_SECOND
                    ? (int) Math.max(1, Math.ceil(perSecond)) : 1);
        }

        /**
         * Adds a network whose clients are admitted; once any is added, clients outside every allowed network are
         * refused. A deny wins over an allow. Default: empty (everyone not denied).
         *
         * @param cidr such as {@code 10.0.0.0/8}
         * @return this builder
         */
        public Builder allow(Cidr cidr) {
            allow.add(Objects.requireNonNull(cidr, "allow"));
            return this;
        }

        /**
         * Adds a network whose clients are admitted.
         *
         * @param cidr such as {@code 10.0.0.0/8} or {@code fd00::/8}
         * @return this builder
         * @throws IllegalArgumentException naming the value when it does not parse
         */
        public Builder allow(String cidr) {
            return allow(parse("allow", cidr));
        }

        /**
         * Adds a network whose clients are refused, whatever the allow list says. Default: empty.
         *
         * @param cidr such as {@code 192.0.2.0/24}
         * @return this builder
         */
        public Builder deny(Cidr cidr) {
            deny.add(Objects.requireNonNull(cidr, "deny"));
            return this;
        }

        /**
         * Adds a network whose clients are refused.
         *
         * @param cidr such as {@code 192.0.2.0/24} or {@code 2001:db8::/32}
         * @return this builder
         * @throws IllegalArgumentException naming the value when it does not parse
         */
        public Builder deny(String cidr) {
            return deny(parse("deny", cidr));
        }

        /**
         * Sets how many leading bits of an IPv6 client address make one client for the per-address limits.
         * Default {@value AdmissionLimits#DEFAULT_IPV6_PREFIX_LENGTH}.
         *
         * @param bits 1 to 128
         * @return this builder
         */
        public Builder ipv6PrefixLength(int bits) {
            if (bits < 1 || bits > 128) {
                throw new IllegalArgumentException("ipv6PrefixLength: " + bits + " (expected: 1-128)");
            }
            this.ipv6PrefixLength = bits;
            return this;
        }

        /**
         * Sets how many client addresses' rate token buckets are remembered; past it the least recently used are
         * forgotten (a forgotten address starts again with a full bucket). Addresses with open connections keep
         * their count whatever this says. Default {@value AdmissionLimits#DEFAULT_MAX_TRACKED_ADDRESSES}.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxTrackedAddresses(int max) {
            this.maxTrackedAddresses = atLeastOne("maxTrackedAddresses", max);
            return this;
        }

        /**
         * Resets refused connections ({@code SO_LINGER} 0: the client sees an RST) instead of closing them with a
         * FIN; no {@code TIME_WAIT} is left behind. Default {@code false}.
         *
         * @param rst whether to reset
         * @return this builder
         */
        public Builder rejectWithRst(boolean rst) {
            this.rejectWithRst = rst;
            return this;
        }

        /**
         * Checks the rules between settings and returns the limits.
         *
         * @return the immutable limits
         * @throws IllegalArgumentException when a per-listener or per-address cap exceeds {@code maxConnections}
         */
        public AdmissionLimits build() {
            if (maxConnections > 0 && maxConnectionsPerListener > maxConnections) {
                throw new IllegalArgumentException("maxConnectionsPerListener: " + maxConnectionsPerListener
                        + " (expected: <= maxConnections " + maxConnections + "); lower it or raise maxConnections");
            }
            if (maxConnections > 0 && maxConnectionsPerIp > maxConnections) {
                throw new IllegalArgumentException("maxConnectionsPerIp: " + maxConnectionsPerIp
                        + " (expected: <= maxConnections " + maxConnections + "); lower it or raise maxConnections");
            }
            return new AdmissionLimits(this);
        }

        private static int atLeastOne(String setting, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(setting + ": " + value + " (expected: >= 1)");
            }
            return value;
        }

        private static Cidr parse(String setting, String cidr) {
            Objects.requireNonNull(cidr, setting);
            try {
                return Cidr.parse(cidr);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(setting + ": " + e.getMessage(), e);
            }
        }
    }
}
