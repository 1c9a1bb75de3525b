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
 * <p>Each direction is shaped where its bytes are written: upload on the backend channel, download on the client
 * channel. A shaping handler holds back writes over its rate in a queue of its own and sends them when the rate allows;
 * once that queue holds more than {@link #maxQueuedBytes(long) a quarter second's worth} (at least 64 KiB, at most
 * 4 MiB) the channel turns unwritable (a user-defined writability flag), which the relay's own back-pressure already
 * obeys: it stops reading the other side until the queue has drained. So the sender is slowed by TCP flow control and
 * a shaped direction holds about that queue plus one read loop's bytes in memory (after a FIN, the epoll transport
 * reads at once what the socket still holds, as it does without shaping). The relay's half-close and close need
 * nothing more: the empty buffer whose write completion passes a FIN (or a close) on is queued behind the shaped bytes
 * and written after them. The shared handlers of one channel share one writability flag (Netty gives each handler
 * class one), so one of them draining its queue may make the channel writable while another's is still over its
 * bound; that one turns it unwritable again at its next queued write, a read or so later. Shaping reads instead would
 * hold nothing at all, but the epoll transport reads everything
 * left in a socket once its peer's FIN arrived, whatever auto-read says, so the tail of a transfer would escape the cap.
 *
 * <p>Per connection, a {@link ChannelTrafficShapingHandler} on each shaped channel. Per key (client address, route,
 * target), one {@link GlobalTrafficShapingHandler} per key value and direction, shared by the channels of every
 * event loop that carry that key: it counts their bytes together and holds each back by the same measure, with a queue
 * per channel. ({@code GlobalChannelTrafficShapingHandler} is not used: it combines one shared cap with one
 * per-channel cap in a single handler, while here a connection may be under several shared caps at once.) Shared
 * handlers are counted by the channels using them and released (their traffic counter's timer stopped) when the last
 * one closes, so this holds a handler only for keys with an open shaped connection: at most one per open connection,
 * key kind and direction, never one per address ever seen, whatever a flood of addresses does.
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
    private final ScheduledExecutorService timers;
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
        this(limits, ipv6PrefixLength, null);
    }

    /**
     * Creates the shaping of one instance whose shared handlers' traffic counters run their timers on the given
     * executor instead of the event loop of the channel that created them; a seam for tests.
     */
    BandwidthShaping(BandwidthLimits limits, int ipv6PrefixLength, ScheduledExecutorService timers) {
        this.limits = limits;
        this.ipv6PrefixLength = ipv6PrefixLength;
        this.timers = timers;
    }

    /** Returns the caps. */
    public BandwidthLimits limits() {
        return limits;
    }

    /**
     * Adds the shaping handlers a connection's caps call for to the end of its client and backend pipelines, before
     * the relay is added: upload caps on the backend channel, download caps on the client channel; does nothing when
     * no cap applies. Call on the connection's event loop, with both channels
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
        shaped |= addConnectionShaper(backend, perConnection.uploadBytesPerSecond());
        shaped |= addConnectionShaper(client, perConnection.downloadBytesPerSecond());
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

    /**
     * Returns how many bytes a shaping handler may hold back for one channel before the channel turns unwritable: a
     * quarter second's worth of the rate, at least 64 KiB (so that a slow rate still moves whole reads) and at most
     * 4 MiB.
     *
     * @param bytesPerSecond the handler's rate
     * @return the queue size in bytes
     */
    static long maxQueuedBytes(long bytesPerSecond) {
        return Math.max(64 * 1024, Math.min(4 * 1024 * 1024, bytesPerSecond / 4));
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
            addShared(conn.backend(), new Key(kind, value, true), rate.uploadBytesPerSecond());
            added = true;
        }
        if (rate.downloadBytesPerSecond() > 0) {
            addShared(conn.client(), new Key(kind, value, false), rate.downloadBytesPerSecond());
            added = true;
        }
        return added;
    }

    private void addShared(Channel ch, Key key, long bytesPerSecond) {
        Shared s = shared.compute(key, (k, cur) -> {
            Shared held = cur != null ? cur : new Shared(timers != null ? timers : ch.eventLoop(), bytesPerSecond);
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

        Shared(ScheduledExecutorService executor, long writeLimit) {
            this.handler = new GlobalTrafficShapingHandler(executor, writeLimit, 0, CHECK_INTERVAL_MILLIS);
            handler.setMaxWriteSize(maxQueuedBytes(writeLimit));
            runningCounters.incrementAndGet();
        }
    }

    /** A per-channel shaping handler that counts its traffic counter while it runs (added to removed). */
    private final class ConnectionShaper extends ChannelTrafficShapingHandler {

        ConnectionShaper(long writeLimit) {
            super(writeLimit, 0, CHECK_INTERVAL_MILLIS);
            setMaxWriteSize(maxQueuedBytes(writeLimit));
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
