package io.refractium;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Bandwidth caps of relayed connections, in bytes per second and per direction: <em>upload</em> is client to backend,
 * <em>download</em> is backend to client. Set with {@link RefractiumBuilder#bandwidth(BandwidthLimits)}.
 *
 * <p>Four kinds of cap, each off by default, any of them combined; a connection is held to the lowest that applies:
 * <ul>
 * <li>{@link Builder#perConnection(long, long) per connection}: each connection on its own;</li>
 * <li>{@link Builder#perIp(long, long) per client address}: all open connections of one client address share the
 *     cap (IPv6: one prefix of {@link AdmissionLimits#ipv6PrefixLength()} bits, /64 by default);</li>
 * <li>{@link Builder#perRoute(long, long) per route}: all connections a route matched share that route's cap;</li>
 * <li>{@link Builder#perTarget(long, long) per target}, or {@link Builder#perTarget(String, long, long) for one
 *     named target}: all connections sent to a target share its cap.</li>
 * </ul>
 *
 * <p>The caps are enforced with Netty's traffic shaping ({@code io.netty.handler.traffic}) on writes: bytes over the
 * rate wait in a short queue (a quarter second's worth, 64 KiB to 4 MiB per shaper and channel), and while it is full
 * the other side is not read, so the sender is slowed by TCP flow control. The rate holds on average over a second or
 * more; a connection may start with a burst of up to about one second's worth. A connection to which some cap applies
 * is relayed by copying buffers, never with {@code splice(2)}; when splicing is on, the others keep splicing. The bytes read during
 * detection, replayed to the backend, count against the upload caps.
 *
 * <p>Immutable and thread-safe. Get one from {@link #builder()}.
 */
public final class BandwidthLimits {

    /**
     * The lowest rate a cap may have: 16 KiB per second. Shaping delays whole buffers of up to 64 KiB, and a slower
     * cap could not be held without pauses longer than Netty's shaping allows.
     */
    public static final long MIN_BYTES_PER_SECOND = 16 * 1024;
    /** The highest rate a cap may have: 1 TiB per second. */
    public static final long MAX_BYTES_PER_SECOND = 1L << 40;

    private static final BandwidthLimits NONE = builder().build();

    private final Rate perConnection;
    private final Rate perIp;
    private final Rate perRoute;
    private final Rate perTarget;
    private final Map<String, Rate> targets;

    private BandwidthLimits(Builder b) {
        this.perConnection = b.perConnection;
        this.perIp = b.perIp;
        this.perRoute = b.perRoute;
        this.perTarget = b.perTarget;
        this.targets = Map.copyOf(b.targets);
    }

    /** Returns limits that cap nothing: the default of {@link RefractiumBuilder#bandwidth(BandwidthLimits)}. */
    public static BandwidthLimits none() {
        return NONE;
    }

    /** Returns a new builder with every cap off. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the cap of each connection on its own. */
    public Rate perConnection() {
        return perConnection;
    }

    /** Returns the cap shared by the open connections of each client address (or IPv6 prefix). */
    public Rate perIp() {
        return perIp;
    }

    /** Returns the cap shared by the connections of each route. */
    public Rate perRoute() {
        return perRoute;
    }

    /** Returns the cap shared by the connections of each target that has no cap of its own in {@link #targets()}. */
    public Rate perTarget() {
        return perTarget;
    }

    /** Returns the caps of single targets, by target name; each replaces {@link #perTarget()} for its target. */
    public Map<String, Rate> targets() {
        return targets;
    }

    /**
     * Returns the cap shared by the connections of the named target: its own, else {@link #perTarget()}.
     *
     * @param name the target's name
     * @return the cap, {@link Rate#UNLIMITED} when there is none
     */
    public Rate target(String name) {
        return targets.getOrDefault(Objects.requireNonNull(name, "name"), perTarget);
    }

    /** Returns whether no cap is set at all. */
    public boolean isUnlimited() {
        return perConnection.isUnlimited() && perIp.isUnlimited() && perRoute.isUnlimited()
                && perTarget.isUnlimited() && targets.isEmpty();
    }

    @Override
    public String toString() {
        return "BandwidthLimits[perConnection=" + perConnection + ", perIp=" + perIp + ", perRoute=" + perRoute
                + ", perTarget=" + perTarget + ", targets=" + targets + "]";
    }

    /**
     * A cap in bytes per second for each direction; 0 means no cap in that direction.
     *
     * @param uploadBytesPerSecond client to backend
     * @param downloadBytesPerSecond backend to client
     */
    public record Rate(long uploadBytesPerSecond, long downloadBytesPerSecond) {

        /** No cap either way. */
        public static final Rate UNLIMITED = new Rate(0, 0);

        /**
         * Checks both rates.
         *
         * @throws IllegalArgumentException when a rate is neither 0 nor within {@link #MIN_BYTES_PER_SECOND} and
         *         {@link #MAX_BYTES_PER_SECOND}
         */
        public Rate {
            check("upload", uploadBytesPerSecond);
            check("download", downloadBytesPerSecond);
        }

        /** Returns whether neither direction is capped. */
        public boolean isUnlimited() {
            return uploadBytesPerSecond == 0 && downloadBytesPerSecond == 0;
        }

        @Override
        public String toString() {
            return isUnlimited() ? "unlimited" : uploadBytesPerSecond + "/" + downloadBytesPerSecond + " B/s";
        }

        private static void check(String direction, long bytesPerSecond) {
            if (bytesPerSecond != 0
                    && (bytesPerSecond < MIN_BYTES_PER_SECOND || bytesPerSecond > MAX_BYTES_PER_SECOND)) {
                throw new IllegalArgumentException(direction + ": " + bytesPerSecond + " (expected: 0 for no limit, or "
                        + MIN_BYTES_PER_SECOND + " to " + MAX_BYTES_PER_SECOND + " bytes per second)");
            }
        }
    }

    /**
     * Builds {@link BandwidthLimits}. Mutable and single-threaded; each setter checks its values at once and names
     * the setting in the error; {@link #build()} leaves the builder reusable.
     */
    public static final class Builder {
        private Rate perConnection = Rate.UNLIMITED;
        private Rate perIp = Rate.UNLIMITED;
        private Rate perRoute = Rate.UNLIMITED;
        private Rate perTarget = Rate.UNLIMITED;
        private final Map<String, Rate> targets = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Caps each connection on its own. Default: no cap.
         *
         * @param uploadBytesPerSecond client to backend; 0, or {@value BandwidthLimits#MIN_BYTES_PER_SECOND} to
         *        {@link BandwidthLimits#MAX_BYTES_PER_SECOND}
         * @param downloadBytesPerSecond backend to client; the same range
         * @return this builder
         */
        public Builder perConnection(long uploadBytesPerSecond, long downloadBytesPerSecond) {
            this.perConnection = rate("perConnection", uploadBytesPerSecond, downloadBytesPerSecond);
            return this;
        }

        /**
         * Caps the open connections of each client address together (IPv6: each prefix of
         * {@link AdmissionLimits#ipv6PrefixLength()} bits). Default: no cap.
         *
         * @param uploadBytesPerSecond client to backend; 0, or {@value BandwidthLimits#MIN_BYTES_PER_SECOND} to
         *        {@link BandwidthLimits#MAX_BYTES_PER_SECOND}
         * @param downloadBytesPerSecond backend to client; the same range
         * @return this builder
         */
        public Builder perIp(long uploadBytesPerSecond, long downloadBytesPerSecond) {
            this.perIp = rate("perIp", uploadBytesPerSecond, downloadBytesPerSecond);
            return this;
        }

        /**
         * Caps the connections of each route together: every route gets a cap of this rate, shared by the connections
         * it matched (connections of the fallback and silence targets match no route). Default: no cap.
         *
         * @param uploadBytesPerSecond client to backend; 0, or {@value BandwidthLimits#MIN_BYTES_PER_SECOND} to
         *        {@link BandwidthLimits#MAX_BYTES_PER_SECOND}
         * @param downloadBytesPerSecond backend to client; the same range
         * @return this builder
         */
        public Builder perRoute(long uploadBytesPerSecond, long downloadBytesPerSecond) {
            this.perRoute = rate("perRoute", uploadBytesPerSecond, downloadBytesPerSecond);
            return this;
        }

        /**
         * Caps the connections of each target together: every target without a cap of its own
         * ({@link #perTarget(String, long, long)}) gets a cap of this rate. Default: no cap.
         *
         * @param uploadBytesPerSecond client to backend; 0, or {@value BandwidthLimits#MIN_BYTES_PER_SECOND} to
         *        {@link BandwidthLimits#MAX_BYTES_PER_SECOND}
         * @param downloadBytesPerSecond backend to client; the same range
         * @return this builder
         */
        public Builder perTarget(long uploadBytesPerSecond, long downloadBytesPerSecond) {
            this.perTarget = rate("perTarget", uploadBytesPerSecond, downloadBytesPerSecond);
            return this;
        }

        /**
         * Caps the connections of one target together, in place of {@link #perTarget(long, long)}; both 0 exempts
         * the target from it. {@link RefractiumBuilder#build()} checks that the routing table has a target of this
         * name. Default: none.
         *
         * @param name the target's name
         * @param uploadBytesPerSecond client to backend; 0, or {@value BandwidthLimits#MIN_BYTES_PER_SECOND} to
         *        {@link BandwidthLimits#MAX_BYTES_PER_SECOND}
         * @param downloadBytesPerSecond backend to client; the same range
         * @return this builder
         * @throws IllegalArgumentException when the name is empty or was given a cap already
         */
        public Builder perTarget(String name, long uploadBytesPerSecond, long downloadBytesPerSecond) {
            Objects.requireNonNull(name, "perTarget name");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("perTarget name: \"\" (expected: a target name)");
            }
            if (targets.containsKey(name)) {
                throw new IllegalArgumentException("perTarget \"" + name + "\": given twice (expected: one cap per "
                        + "target)");
            }
            targets.put(name, rate("perTarget \"" + name + "\"", uploadBytesPerSecond, downloadBytesPerSecond));
            return this;
        }

        /**
         * Returns the limits.
         *
         * @return the immutable limits
         */
        public BandwidthLimits build() {
            return new BandwidthLimits(this);
        }

        private static Rate rate(String setting, long up, long down) {
            try {
                return new Rate(up, down);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(setting + " " + e.getMessage(), e);
            }
        }
    }
}
