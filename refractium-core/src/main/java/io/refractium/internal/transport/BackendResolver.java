package io.refractium.internal.transport;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCacheEntry;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Resolves backend host names asynchronously with Netty's {@link DnsNameResolver}: no lookup blocks an event loop.
 * One resolver per event loop, created on first use (an instance whose backends are all IP literals never creates
 * one). Each answer comes with the time to live of its records, clamped to the configured minimum and maximum, so
 * that the caller re-resolves when it expires; a name answered from the hosts file has no TTL and is re-resolved
 * after the maximum.
 *
 * <p>The resolvers keep no address cache of their own (the caller holds the addresses until their TTL expires), so
 * each {@link #resolve} asks the DNS servers. Thread-safe.
 */
public final class BackendResolver implements AutoCloseable {

    /** The outcome of one resolution: the addresses in the order of the answer and how long they hold. */
    public record Resolution(List<InetAddress> addresses, Duration ttl) {
    }

    private final Transports transports;
    private final List<InetSocketAddress> servers;
    private final Duration minTtl;
    private final Duration maxTtl;
    private final TtlRecorder ttls = new TtlRecorder();
    private final Map<EventLoop, DnsNameResolver> resolvers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * Creates the resolver; nothing is opened until the first resolution.
     *
     * @param transports the transport of the event loops (epoll or NIO datagram channels)
     * @param servers the DNS servers to ask, or empty for the system's ({@code /etc/resolv.conf})
     * @param minTtl the shortest time an answer is kept
     * @param maxTtl the longest time an answer is kept
     */
    public BackendResolver(Transports transports, List<InetSocketAddress> servers, Duration minTtl, Duration maxTtl) {
        this.transports = transports;
        this.servers = List.copyOf(servers);
        this.minTtl = minTtl;
        this.maxTtl = maxTtl;
    }

    /** Returns the shortest time an answer is kept. */
    public Duration minTtl() {
        return minTtl;
    }

    /** Returns the longest time an answer is kept. */
    public Duration maxTtl() {
        return maxTtl;
    }

    /**
     * Resolves a host name on an event loop; the future completes on that loop.
     *
     * @param loop the event loop that runs the query
     * @param host a host name (never an IP literal: those do not go through DNS)
     * @return the addresses and their TTL, or a failure ({@link java.net.UnknownHostException} when the name does
     *         not resolve)
     */
    public Future<Resolution> resolve(EventLoop loop, String host) {
        Promise<Resolution> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new IllegalStateException("closed"));
        }
        DnsNameResolver resolver = resolvers.computeIfAbsent(loop, this::newResolver);
        resolver.resolveAll(host).addListener((Future<List<InetAddress>> f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
                return;
            }
            Long seconds = ttls.ttlOf(host);
            Duration ttl = seconds == null ? maxTtl : Duration.ofSeconds(seconds);
            if (ttl.compareTo(minTtl) < 0) {
                ttl = minTtl;
            } else if (ttl.compareTo(maxTtl) > 0) {
                ttl = maxTtl;
            }
            promise.trySuccess(new Resolution(List.copyOf(f.getNow()), ttl));
        });
        return promise;
    }

    private DnsNameResolver newResolver(EventLoop loop) {
        DnsServerAddressStreamProvider provider = servers.isEmpty()
                ? DnsServerAddressStreamProviders.platformDefault()
                : new SequentialDnsServerAddressStreamProvider(servers);
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                .datagramChannelType(transports.datagramChannel())
                .socketChannelType(transports.socketChannel())
                .nameServerProvider(provider)
                .resolveCache(ttls);
        return b.build();
    }

    /** Closes every resolver; later resolutions fail. */
    @Override
    public void close() {
        closed = true;
        for (DnsNameResolver r : resolvers.values()) {
            r.close();
        }
        resolvers.clear();
    }

    /**
     * The resolvers' cache: it keeps no address (every resolution asks the servers) and records the smallest TTL of
     * the records each name was answered with, for the caller's re-resolution.
     */
    private static final class TtlRecorder implements DnsCache {
        /** A TTL recorded within this many nanoseconds belongs to the same answer and lowers it; older ones are replaced. */
        private static final long SAME_ANSWER_NANOS = TimeUnit.SECONDS.toNanos(2);

        private record Recorded(long seconds, long at) {
        }

        private final Map<String, Recorded> byName = new ConcurrentHashMap<>();

        Long ttlOf(String host) {
            String key = key(host);
            Recorded r = byName.get(key);
            if (r == null) {
                // Answered under a search domain (name.search.example).
                for (Map.Entry<String, Recorded> e : byName.entrySet()) {
                    if (e.getKey().startsWith(key + ".") && (r == null || e.getValue().at() > r.at())) {
                        r = e.getValue();
                    }
                }
            }
            return r == null ? null : r.seconds();
        }

        private static String key(String hostname) {
            String h = hostname.toLowerCase(Locale.ROOT);
            return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
        }

        @Override
        public void clear() {
            byName.clear();
        }

        @Override
        public boolean clear(String hostname) {
            return byName.remove(key(hostname)) != null;
        }

        @Override
        public List<? extends DnsCacheEntry> get(String hostname, DnsRecord[] additionals) {
            return null;
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, InetAddress address, long originalTtl,
                                   EventLoop loop) {
            long now = System.nanoTime();
            byName.compute(key(hostname), (k, old) -> old != null && now - old.at() < SAME_ANSWER_NANOS
                    ? new Recorded(Math.min(old.seconds(), originalTtl), old.at())
                    : new Recorded(originalTtl, now));
            return new Entry(address, null);
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, Throwable cause, EventLoop loop) {
            return new Entry(null, cause);
        }

        private record Entry(InetAddress address, Throwable cause) implements DnsCacheEntry {
        }
    }
}
