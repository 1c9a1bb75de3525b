package io.refractium.balance;

import io.refractium.Backend;
import io.refractium.spi.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link LoadBalancers#hashClientIp()} and {@link LoadBalancers#hashServerName()}: consistent hashing on a ring of
 * virtual nodes.
 *
 * <p>Each backend owns points on a ring of 64-bit values, placed by hashing its lower-case {@code HOST:PORT}
 * (not its position in the list), so a backend keeps its points when others are added or removed. A connection's
 * key (the client IP address, or the server name) is hashed with {@link Hashing} and goes to the owner of the first
 * point at or after the key's hash, wrapping around; when that owner is not eligible the walk continues to the next
 * point whose owner is. Removing a backend, or a backend turning ineligible, therefore moves only the keys it owned,
 * and those spread over the remaining backends in proportion to their share of the ring.
 *
 * <p>A backend of weight {@code w} gets {@value #POINTS_PER_WEIGHT}{@code  * w / g} points, where {@code g} is the
 * greatest common divisor of the target's weights, so equal weights give every backend {@value #POINTS_PER_WEIGHT}
 * points and the keys of the remaining backends stay put when one is removed (as long as {@code g} is unchanged).
 * A ring that would exceed {@value #LIMIT_PER_BACKEND} points per backend on average (at least {@value #MIN_LIMIT}
 * points in all, at most {@value #MAX_POINTS}) is scaled down to that limit in proportion to the weights, each
 * backend keeping at least one point; since the scale depends on every weight, removing a backend from such a
 * ring also moves a few keys between the others.
 *
 * <p>A connection without a key (no server name for {@code hash-name} and no client address) lands on a random
 * point of the ring, which is a weighted random choice.
 *
 * <p>The ring is immutable once built, so selection is lock-free: a binary search and a short walk, nothing
 * allocated (except the 16-byte copy {@link InetAddress#getAddress()} makes for an IPv6 client).
 */
final class HashRingSelector implements LoadBalancer.Selector {

    /** Ring points per unit of weight. */
    static final int POINTS_PER_WEIGHT = 160;
    /** Ring points per backend, on average, beyond which the points are scaled down. */
    static final int LIMIT_PER_BACKEND = 4 * POINTS_PER_WEIGHT;
    /** The smallest limit on the ring's points, whatever the number of backends. */
    static final int MIN_LIMIT = 1 << 14;
    /** The largest ring: 12 MiB, reached with more than 1600 backends. */
    static final int MAX_POINTS = 1 << 20;
    /** Ring steps walked before checking whether any backend is eligible at all. */
    private static final int STEPS_BEFORE_ELIGIBILITY_CHECK = 32;

    private final boolean byServerName;
    /** The attribute hashed on, or {@code null}. */
    private final AttributeKey<Object> attribute;
    private final int size;
    /** The ring's points in ascending (signed) order. */
    private final long[] points;
    /** {@code owners[i]} is the index of the backend that owns {@code points[i]}. */
    private final int[] owners;

    HashRingSelector(List<Backend> backends, boolean byServerName) {
        this(backends, byServerName, null);
    }

    HashRingSelector(List<Backend> backends, String attribute) {
        this(backends, false, attribute);
    }

    private HashRingSelector(List<Backend> backends, boolean byServerName, String attribute) {
        this.byServerName = byServerName;
        this.attribute = attribute == null ? null : AttributeKey.of(attribute, Object.class);
        this.size = backends.size();
        int[] counts = pointCounts(backends);
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        long[] unsortedPoints = new long[total];
        int[] unsortedOwners = new int[total];
        Map<String, Integer> occurrences = new HashMap<>();
        int k = 0;
        for (int i = 0; i < size; i++) {
            String name = backends.get(i).hostAndPort();
            int occurrence = occurrences.merge(name.toLowerCase(Locale.ROOT), 1, Integer::sum) - 1;
            long seed = Hashing.hashName(occurrence == 0 ? name : name + "#" + occurrence);
            for (int j = 0; j < counts[i]; j++) {
                unsortedPoints[k] = Hashing.point(seed, j);
                unsortedOwners[k] = i;
                k++;
            }
        }
        points = unsortedPoints.clone();
        Arrays.sort(points);
        owners = new int[total];
        Arrays.fill(owners, -1);
        // owners in list order, so that equal points (a 64-bit coincidence) are ordered by owner
        for (int i = 0; i < total; i++) {
            int pos = Arrays.binarySearch(points, unsortedPoints[i]);
            while (pos > 0 && points[pos - 1] == points[pos]) {
                pos--;
            }
            while (owners[pos] >= 0) {
                pos++;
            }
            owners[pos] = unsortedOwners[i];
        }
    }

    private static int[] pointCounts(List<Backend> backends) {
        int g = 0;
        for (Backend b : backends) {
            g = gcd(g, b.weight());
        }
        long units = 0;
        for (Backend b : backends) {
            units += b.weight() / g;
        }
        long limit = Math.min(MAX_POINTS, Math.max(MIN_LIMIT, (long) LIMIT_PER_BACKEND * backends.size()));
        boolean scale = units * POINTS_PER_WEIGHT > limit;
        int[] counts = new int[backends.size()];
        for (int i = 0; i < counts.length; i++) {
            long u = backends.get(i).weight() / g;
            counts[i] = (int) (scale ? Math.max(1, u * limit / units) : u * POINTS_PER_WEIGHT);
        }
        return counts;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    @Override
    public int select(SelectionContext context) {
        return walk(context, key(context));
    }

    private long key(SelectionContext context) {
        if (attribute != null) {
            Object value = context.attributes().get(attribute);
            if (value != null) {
                String s = value.toString();
                if (!s.isEmpty()) {
                    return Hashing.hashValue(s);
                }
            }
        } else if (byServerName) {
            String name = context.serverName();
            if (name != null && !name.isEmpty()) {
                return Hashing.hashName(name);
            }
        }
        InetSocketAddress client = context.clientAddress();
        InetAddress address = client == null ? null : client.getAddress();
        return address == null ? ThreadLocalRandom.current().nextLong() : Hashing.hashAddress(address);
    }

    private int walk(SelectionContext context, long key) {
        long[] p = points;
        int[] o = owners;
        int length = p.length;
        int pos = Arrays.binarySearch(p, key);
        if (pos < 0) {
            pos = -pos - 1;
            if (pos == length) {
                pos = 0;
            }
        }
        int rejected = -1;
        for (int step = 0; step < length; step++) {
            int owner = o[pos];
            if (owner != rejected) {
                if (context.isEligible(owner)) {
                    return owner;
                }
                rejected = owner;
            }
            if (step == STEPS_BEFORE_ELIGIBILITY_CHECK && !anyEligible(context)) {
                return -1;
            }
            if (++pos == length) {
                pos = 0;
            }
        }
        return -1;
    }

    private boolean anyEligible(SelectionContext context) {
        for (int i = 0; i < size; i++) {
            if (context.isEligible(i)) {
                return true;
            }
        }
        return false;
    }
}
