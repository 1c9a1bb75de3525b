package io.refractium.internal.admit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.refractium.AdmissionLimits;
import io.refractium.Cidr;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Decides, for each accepted connection and before anything is built for it, whether it may go on; thread-safe, one
 * per instance, called from every event loop.
 *
 * <p>Checks, cheapest first: deny list, allow list, the per-address rate token bucket (every attempt that passed the
 * lists takes a token), then the caps on connections in detection, on open connections of the instance, of the
 * listener and of the client address. A cap is taken with a compare-and-set below the limit, so concurrent accepts
 * on several event loops never overshoot it; when a later cap refuses, the earlier ones are given back.
 *
 * <p>A connection from a trusted proxy on a listener that receives the PROXY protocol is admitted in two steps
 * ({@link #admitPendingAddress}): at accept, the caps that do not depend on the client (in detection, instance,
 * listener), each counted once for the connection; once the header names the real client, the per-address checks
 * (lists, rate, per-address cap) against that address ({@link Ticket#admitAddress}). The proxy's own address is
 * never counted per address for such a connection, so one load balancer does not use up a per-address cap.
 *
 * <p>Per-address state lives in two places, so that memory stays bounded and no open connection is forgotten:
 * <ul>
 * <li>Open-connection counts per address are in a {@link ConcurrentHashMap} that holds an entry only while the
 *     address has an open connection: the entry is created by the first and removed, atomically, when the last one
 *     closes. Its size is at most the number of open connections, which {@code maxConnections} (or the process's
 *     file descriptor limit) bounds; nothing is evicted from it, so a count is never lost.</li>
 * <li>Rate token buckets are in a Caffeine cache bounded by {@code maxTrackedAddresses}, least recently used evicted
 *     first, and expiring once idle for the time a bucket takes to refill (an expired bucket was full anyway, so
 *     expiry loses nothing). Eviction under a flood of distinct addresses gives an evicted address a full bucket
 *     again: at most {@code burst} extra connections, never unbounded memory.</li>
 * </ul>
 */
public final class AdmissionControl {

    private final AdmissionLimits limits;
    private final LongSupplier nanoClock;
    private final LongAdder[] refusals = new LongAdder[RefusalReason.values().length];
    private final Map<RefusalReason, Ticket> refusedTickets = new EnumMap<>(RefusalReason.class);
    private final Map<Cidr, Ticket> deniedTickets = new HashMap<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger detecting = new AtomicInteger();
    private final ConcurrentHashMap<Object, AtomicInteger> perListener = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<IpKey, AtomicInteger> perIp = new ConcurrentHashMap<>();
    private final Cache<IpKey, AtomicLong> buckets;
    private final long intervalNanos;
    private final long burstNanos;
    private final boolean tracksIp;

    /**
     * Creates the admission of one instance on the system clock.
     *
     * @param limits the limits
     */
    public AdmissionControl(AdmissionLimits limits) {
        this(limits, System::nanoTime);
    }

    /**
     * Creates the admission of one instance; a seam for tests that drive time.
     *
     * @param limits the limits
     * @param nanoClock a monotonic clock in nanoseconds
     */
    public AdmissionControl(AdmissionLimits limits, LongSupplier nanoClock) {
        this.limits = limits;
        this.nanoClock = nanoClock;
        for (int i = 0; i < refusals.length; i++) {
            refusals[i] = new LongAdder();
        }
        refused(RefusalReason.NOT_ALLOWED, "allow=" + limits.allow());
        refused(RefusalReason.RATE_PER_IP, "ratePerIp=" + limits.ratePerIp() + "/s,burst=" + limits.burstPerIp());
        refused(RefusalReason.MAX_DETECTING, "maxDetecting=" + limits.maxDetecting());
        refused(RefusalReason.MAX_CONNECTIONS, "maxConnections=" + limits.maxConnections());
        refused(RefusalReason.MAX_CONNECTIONS_PER_LISTENER,
                "maxConnectionsPerListener=" + limits.maxConnectionsPerListener());
        refused(RefusalReason.MAX_CONNECTIONS_PER_IP, "maxConnectionsPerIp=" + limits.maxConnectionsPerIp());
        for (Cidr c : limits.deny()) {
            deniedTickets.put(c, new Ticket(new Refusal(RefusalReason.DENIED, "deny=" + c)));
        }
        this.tracksIp = limits.tracksAddresses();
        if (limits.ratePerIp() > 0) {
            this.intervalNanos = Math.max(1, Math.round(1e9 / limits.ratePerIp()));
            this.burstNanos = intervalNanos * limits.burstPerIp();
            this.buckets = Caffeine.newBuilder()
                    .maximumSize(limits.maxTrackedAddresses())
                    .expireAfterAccess(Duration.ofNanos(burstNanos))
                    .executor(Runnable::run)
                    .ticker(nanoClock::getAsLong)
                    .build();
        } else {
            this.intervalNanos = 0;
            this.burstNanos = 0;
            this.buckets = null;
        }
    }

    private void refused(RefusalReason reason, String limit) {
        refusedTickets.put(reason, new Ticket(new Refusal(reason, limit)));
    }

    /** Returns the limits. */
    public AdmissionLimits limits() {
        return limits;
    }

    /**
     * Admits or refuses one connection. A refused ticket is counted and holds nothing; an admitted one holds its
     * slots until {@link Ticket#release()}.
     *
     * @param client the client's address
     * @param listener the listener it came in on (any key with equals/hashCode, such as its bound address)
     * @return the ticket; check {@link Ticket#isRefused()}
     */
    public Ticket admit(InetAddress client, Object listener) {
        return admit(Objects.requireNonNull(client, "client"), listener, false);
    }

    /**
     * Admits or refuses one connection whose client address is not known yet: it comes from a trusted proxy, and
     * the PROXY protocol header that names the client is still to be read. Only the caps that do not depend on the
     * address are checked and taken now (in detection, open connections of the instance and of the listener); the
     * proxy's own address is not checked against the lists, takes no rate token and holds no per-address slot.
     * The per-address checks run once the address is known, with {@link Ticket#admitAddress}.
     *
     * @param listener the listener it came in on
     * @return the ticket; check {@link Ticket#isRefused()}
     */
    public Ticket admitPendingAddress(Object listener) {
        return admit(null, listener, true);
    }

    private Ticket admit(InetAddress client, Object listener, boolean pending) {
        IpKey key = null;
        if (!pending) {
            key = tracksIp ? IpKey.of(client, limits.ipv6PrefixLength()) : null;
            Ticket refused = screen(client, key);
            if (refused != null) {
                return refused;
            }
        }
        boolean trackDetecting = limits.maxDetecting() > 0;
        if (trackDetecting && !acquire(detecting, limits.maxDetecting())) {
            return refuse(RefusalReason.MAX_DETECTING);
        }
        if (!acquire(open, limits.maxConnections() > 0 ? limits.maxConnections() : Integer.MAX_VALUE)) {
            releaseDetecting(trackDetecting);
            return refuse(RefusalReason.MAX_CONNECTIONS);
        }
        AtomicInteger listenerCount = null;
        if (limits.maxConnectionsPerListener() > 0) {
            listenerCount = perListener.computeIfAbsent(listener, l -> new AtomicInteger());
            if (!acquire(listenerCount, limits.maxConnectionsPerListener())) {
                open.decrementAndGet();
                releaseDetecting(trackDetecting);
                return refuse(RefusalReason.MAX_CONNECTIONS_PER_LISTENER);
            }
        }
        IpKey ipKey = null;
        if (!pending && limits.maxConnectionsPerIp() > 0) {
            if (!acquireIp(key)) {
                if (listenerCount != null) {
                    listenerCount.decrementAndGet();
                }
                open.decrementAndGet();
                releaseDetecting(trackDetecting);
                return refuse(RefusalReason.MAX_CONNECTIONS_PER_IP);
            }
            ipKey = key;
        }
        return new Ticket(this, listenerCount, ipKey, trackDetecting, pending);
    }

    /** Checks the lists and takes a rate token; returns the refused ticket, or {@code null} to go on. */
    private Ticket screen(InetAddress client, IpKey key) {
        if (!limits.deny().isEmpty()) {
            for (Cidr c : limits.deny()) {
                if (c.contains(client)) {
                    return refuse(deniedTickets.get(c));
                }
            }
        }
        if (!limits.allow().isEmpty() && !allowed(client)) {
            return refuse(RefusalReason.NOT_ALLOWED);
        }
        if (buckets != null && !takeToken(key)) {
            return refuse(RefusalReason.RATE_PER_IP);
        }
        return null;
    }

    /**
     * Runs the per-address checks that {@link #admitPendingAddress} left for later, in the order of
     * {@link #admit}: deny list, allow list, rate token, per-address cap. On success the ticket holds the
     * per-address slot.
     *
     * @return the refusal, counted, or {@code null} when admitted
     */
    Refusal admitAddress(Ticket ticket, InetAddress client) {
        IpKey key = tracksIp ? IpKey.of(client, limits.ipv6PrefixLength()) : null;
        Ticket refused = screen(client, key);
        if (refused != null) {
            return refused.refusal();
        }
        if (limits.maxConnectionsPerIp() > 0) {
            if (!acquireIp(key)) {
                return refuse(RefusalReason.MAX_CONNECTIONS_PER_IP).refusal();
            }
            ticket.holdIp(key);
        }
        return null;
    }

    /**
     * Counts a refusal decided outside this class (such as a full peek memory) and returns it.
     *
     * @param reason the reason
     * @param limit the setting and its value
     * @return the refusal
     */
    public Refusal refuse(RefusalReason reason, String limit) {
        refusals[reason.ordinal()].increment();
        return new Refusal(reason, limit);
    }

    private Ticket refuse(RefusalReason reason) {
        return refuse(refusedTickets.get(reason));
    }

    private Ticket refuse(Ticket t) {
        refusals[t.refusal().reason().ordinal()].increment();
        return t;
    }

    private boolean allowed(InetAddress client) {
        for (Cidr c : limits.allow()) {
            if (c.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /** Generic cell rate algorithm: one theoretical arrival time per address, advanced by one interval per token. */
    private boolean takeToken(IpKey key) {
        long now = nanoClock.getAsLong();
        AtomicLong tat = buckets.get(key, k -> new AtomicLong(now));
        for (;;) {
            long t = tat.get();
            long base = t - now < 0 ? now : t;
            long next = base + intervalNanos;
            if (next - now > burstNanos) {
                return false;
            }
            if (tat.compareAndSet(t, next)) {
                return true;
            }
        }
    }

    private static boolean acquire(AtomicInteger counter, int max) {
        for (;;) {
            int n = counter.get();
            if (n >= max) {
                return false;
            }
            if (counter.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    private boolean acquireIp(IpKey key) {
        boolean[] ok = new boolean[1];
        perIp.compute(key, (k, c) -> {
            if (c == null) {
                ok[0] = true;
                return new AtomicInteger(1);
            }
            if (c.get() < limits.maxConnectionsPerIp()) {
                c.incrementAndGet();
                ok[0] = true;
            }
            return c;
        });
        return ok[0];
    }

    void releaseIp(IpKey key) {
        perIp.computeIfPresent(key, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    }

    void releaseOpen(AtomicInteger listenerCount) {
        if (listenerCount != null) {
            listenerCount.decrementAndGet();
        }
        open.decrementAndGet();
    }

    void releaseDetecting(boolean tracked) {
        if (tracked) {
            detecting.decrementAndGet();
        }
    }

    /** Returns how many connections were refused for each reason, every reason present. */
    public Map<RefusalReason, Long> refusals() {
        Map<RefusalReason, Long> m = new EnumMap<>(RefusalReason.class);
        for (RefusalReason r : RefusalReason.values()) {
            m.put(r, refusals[r.ordinal()].sum());
        }
        return m;
    }

    /** Returns the admitted connections not yet released. */
    public int openConnections() {
        return open.get();
    }

    /** Returns the admitted connections still in detection (counted only with a {@code maxDetecting} cap). */
    public int detectingConnections() {
        return detecting.get();
    }

    /** Returns the open connections of a client address (counted only with a {@code maxConnectionsPerIp} cap). */
    public int openConnections(InetAddress client) {
        AtomicInteger c = perIp.get(IpKey.of(client, limits.ipv6PrefixLength()));
        return c == null ? 0 : c.get();
    }

    /** Returns how many client addresses have an open-connection count now (those with open connections). */
    public int addressesWithOpenConnections() {
        return perIp.size();
    }

    /** Returns how many rate token buckets are remembered, after pending evictions are done. */
    public long trackedBuckets() {
        if (buckets == null) {
            return 0;
        }
        buckets.cleanUp();
        return buckets.estimatedSize();
    }
}
