package io.refractium.internal.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.traffic.AbstractTrafficShapingHandler;
import io.netty.handler.traffic.ChannelTrafficShapingHandler;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.refractium.BandwidthLimits;
import io.refractium.BandwidthLimits.Rate;
import io.refractium.Route;
import io.refractium.internal.admit.IpKey;
import io.refractium.internal.engine.ConnectionState;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts Netty's traffic shaping in front of the relay of connections to which a {@link BandwidthLimits} cap applies;
 * one per instance, thread-safe.
 *
 * <p>Each direction is shaped where its bytes are read: upload on the client channel, download on the backend
 * channel. A side over its rate is not read from again until the rate allows (the shaping handler turns auto-read
 * off and back on), so the sender is slowed by TCP flow control and nothing queues in memory; writes pass through
 * unshaped. This leaves the relay's own back-pressure (auto-read off while the peer is not writable) and its
 * half-close (a FIN is passed on after what was read before it) as they are: a shaped FIN is simply read later.
 * The shaping handlers swallow {@code read()} calls while they hold reads suspended, so the relay turning auto-read
 * back on cannot undo a suspension; a suspension ending while the peer is not writable lets one read through, after
 * which the relay stops reading again.
 *
 * <p>Per connection, a {@link ChannelTrafficShapingHandler} on each shaped channel. Per key (client address, route,
 * target), one {@link GlobalTrafficShapingHandler} per key value and direction, shared by the channels of every
 * event loop that carry that key: it counts their bytes together and holds each back by the same measure.
 * ({@code GlobalChannelTrafficShapingHandler} is not used: it combines one shared cap with one per-channel cap in a
 * single handler, while here a connection may be under several shared caps at once.) Shared handlers are counted by
 * the channels using them and released (their traffic counter's timer stopped) when the last one closes, so this
 * holds a handler only for keys with an open shaped connection: at most two per open connection and key kind, never
 * one per address ever seen, whatever a flood of addresses does.
 */
public final class BandwidthShaping {

    private static final Logger log = LoggerFactory.getLogger(BandwidthShaping.class);
    /** How often a traffic counter closes its accounting period, in milliseconds (Netty's default). */
    static final long CHECK_INTERVAL_MILLIS = 1000;
    /** Shaping with no cap: installs nothing. */
    public static final BandwidthShaping NONE = new BandwidthShaping(BandwidthLimits.none(), 64);

    private enum Kind { IP, ROUTE, TARGET }

    private record Key(Kind kind, Object value, boolean upload) {
    }

    private final BandwidthLimits limits;
    private final int ipv6PrefixLength;
    private final ConcurrentHashMap<Key, Shared> shared = new ConcurrentHashMap<>();
    /** Traffic counters running now: one per shaping handler in a pipeline or shared handler held. */
    private final AtomicInteger runningCounters = new AtomicInteger();

    /**
     * Creates the shaping of one instance.
     *
     * @param limits the caps
     * @param ipv6PrefixLength how many leading bits of an IPv6 client address make one client address
     */
    public BandwidthShaping(BandwidthLimits limits, int ipv6PrefixLength) {
        this.limits = limits;
        this.ipv6PrefixLength = ipv6PrefixLength;
    }

    /** Returns the caps. */
    public BandwidthLimits limits() {
        return limits;
    }

    /**
     * Adds the shaping handlers a connection's caps call for to the end of its client and backend pipelines, before
     * the relay is added; does nothing when no cap applies. Call on the connection's event loop, with both channels
     * active. Shared handlers are given back when the channel carrying them closes.
     *
     * @param conn the connection, with its backend connected and its route and target chosen
     * @return whether any shaping handler was added
     */
    public boolean install(ConnectionState conn) {
        if (limits.isUnlimited()) {
            return false;
        }
        Channel client = conn.client();
        Channel backend = conn.backend();
        Rate perConnection = limits.perConnection();
        boolean shaped = false;
        shaped |= addConnectionShaper(client, perConnection.uploadBytesPerSecond());
        shaped |= addConnectionShaper(backend, perConnection.downloadBytesPerSecond());
        if (!limits.perIp().isUnlimited() && conn.clientAddress() != null) {
            shaped |= addShared(conn, Kind.IP, IpKey.of(conn.clientAddress().getAddress(), ipv6PrefixLength),
                    limits.perIp());
        }
        Route route = conn.route();
        if (route != null && !limits.perRoute().isUnlimited()) {
            shaped |= addShared(conn, Kind.ROUTE, route, limits.perRoute());
        }
        if (conn.target() != null) {
            String name = conn.target().name();
            Rate rate = limits.target(name);
            if (!rate.isUnlimited()) {
                shaped |= addShared(conn, Kind.TARGET, name, rate);
            }
        }
        if (shaped && log.isDebugEnabled()) {
            log.debug("[{}] shaped: {}", conn.id(), client.pipeline().names());
        }
        return shaped;
    }

    /**
     * Returns whether either channel carries a shaping handler (such a connection is never spliced: the handlers must
     * see the bytes).
     *
     * @param client the client channel
     * @param backend the backend channel
     * @return whether the connection is shaped
     */
    public static boolean isShaped(Channel client, Channel backend) {
        return client.pipeline().get(AbstractTrafficShapingHandler.class) != null
                || backend.pipeline().get(AbstractTrafficShapingHandler.class) != null;
    }

    /** Returns how many shared shaping handlers are held now (by key value and direction). */
    public int sharedShapers() {
        return shared.size();
    }

    /** Returns how many traffic counters run now, each with its timer: per-connection and shared ones. */
    public int runningCounters() {
        return runningCounters.get();
    }

    private boolean addConnectionShaper(Channel ch, long bytesPerSecond) {
        if (bytesPerSecond == 0) {
            return false;
        }
        ch.pipeline().addLast("shape-connection", new ConnectionShaper(bytesPerSecond));
        return true;
    }

    private boolean addShared(ConnectionState conn, Kind kind, Object value, Rate rate) {
        boolean added = false;
        if (rate.uploadBytesPerSecond() > 0) {
            addShared(conn.client(), new Key(kind, value, true), rate.uploadBytesPerSecond());
            added = true;
        }
        if (rate.downloadBytesPerSecond() > 0) {
            addShared(conn.backend(), new Key(kind, value, false), rate.downloadBytesPerSecond());
            added = true;
        }
        return added;
    }

    private void addShared(Channel ch, Key key, long bytesPerSecond) {
        Shared s = shared.compute(key, (k, cur) -> {
            Shared held = cur != null ? cur : new Shared(ch.eventLoop(), bytesPerSecond);
            held.refs++;
            return held;
        });
        ChannelPipeline p = ch.pipeline();
        p.addLast("shape-" + key.kind().name().toLowerCase(Locale.ROOT), s.handler);
        ch.closeFuture().addListener(f -> release(key));
    }

    private void release(Key key) {
        shared.computeIfPresent(key, (k, cur) -> {
            if (--cur.refs > 0) {
                return cur;
            }
            cur.handler.release();
            runningCounters.decrementAndGet();
            return null;
        });
    }

    /** A shared handler and the number of channels using it; changed only inside the map's compute. */
    private final class Shared {
        final GlobalTrafficShapingHandler handler;
        int refs;

        Shared(ScheduledExecutorService executor, long readLimit) {
            this.handler = new GlobalTrafficShapingHandler(executor, 0, readLimit, CHECK_INTERVAL_MILLIS);
            runningCounters.incrementAndGet();
        }
    }

    /** A per-channel shaping handler that counts its traffic counter while it runs (added to removed). */
    private final class ConnectionShaper extends ChannelTrafficShapingHandler {

        ConnectionShaper(long readLimit) {
            super(0, readLimit, CHECK_INTERVAL_MILLIS);
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
            super.handlerAdded(ctx);
            runningCounters.incrementAndGet();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
            runningCounters.decrementAndGet();
            super.handlerRemoved(ctx);
        }
    }
}
