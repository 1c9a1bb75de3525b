package io.refractium.internal.udp;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Scheduler;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.refractium.hook.CloseReason;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.internal.transport.Transports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP listening socket and its flow table. Every flow of the listener lives on the listener's event loop, and
 * so do the flows' backend channels: no hand-off between threads. The socket is bound once per address (no
 * {@code SO_REUSEPORT} group), so that a client that changes port, and a QUIC connection found again by its
 * connection id, always reaches the same table.
 *
 * <p>The table is a Caffeine cache keyed by the client's address and port, bounded in size (eviction keeps the
 * flows used most, so a flood of one-datagram flows cannot push out busy ones), expiring a flow after the idle
 * timeout with no datagram either way; a flow that leaves it, for any reason, closes its backend channel. A new
 * flow is refused (its datagram dropped, counted by {@code Refractium.refusals()} and reported to
 * {@code Hook.onRefused}) when its client address has {@link UdpSettings#maxFlowsPerAddress()} flows, when
 * {@link UdpSettings#maxFlowsInDetection()} flows are in detection, or when peek memory is full.
 *
 * <p>QUIC flows (protocol id {@code quic}) also learn the connection ids the backend chose, from the source
 * connection id of its long-header replies (RFC 8999 §5.1); a datagram from an unknown address whose destination
 * connection id is one of them (long header, or short header by the lengths learned) moves that flow to the new
 * address and keeps its backend. At most {@value #MAX_IDS_PER_FLOW} ids are kept per flow.
 *
 * <p>An error on one datagram or one flow is logged and counted; it never closes the listening socket.
 */
public final class UdpListener {

    private static final Logger log = LoggerFactory.getLogger(UdpListener.class);
    static final int MAX_IDS_PER_FLOW = 8;

    /** What a listener needs from the engine. */
    public interface Services {
        /** Returns the shared services of the path (settings, hooks, peek budget). */
        ConnectionPath path();

        /** Returns the transport. */
        Transports transports();

        /** Returns the routing snapshot new flows keep. */
        RoutingSnapshot snapshot();

        /** Returns a new connection id. */
        long nextId();

        /** Returns what is told when a flow ends. */
        ConnectionState.Listener connections();

        /**
         * Counts a refused flow and tells the hooks.
         *
         * @param reason the reason
         * @param limit the limit in words
         * @param client the client
         * @param listener the listener's address
         */
        void refused(RefusalReason reason, String limit, InetSocketAddress client, InetSocketAddress listener);
    }

    /** Why a datagram was dropped. */
    public enum Drop {
        /** A new flow was refused (per-address cap, detection cap, peek memory). */
        FLOW_REFUSED,
        /** The flow had no backend: detection failed, no route, refused by a hook, no backend available. */
        REJECTED_FLOW,
        /** The flow already held its most datagrams (or bytes) while being detected or routed. */
        HOLD_FULL,
        /** The backend channel's send buffer was full. */
        BACKEND_NOT_WRITABLE,
        /** The listening socket's send buffer was full. */
        CLIENT_NOT_WRITABLE,
        /** The datagram caused an unexpected error. */
        ERROR
    }

    private final Services services;
    private final UdpSettings settings;
    private final EventLoop loop;
    private final ConnectionPath path;
    private Channel channel;
    private InetSocketAddress localAddress;
    private final Cache<InetSocketAddress, UdpFlow> flows;
    private final Map<InetAddress, int[]> perAddress = new HashMap<>();
    private final Map<QuicIds.Id, UdpFlow> ids = new HashMap<>();
    /** Bit {@code n} set: some learned connection id is {@code n} bytes long. */
    private int idLengths;
    private final AtomicInteger backendChannels;
    private volatile int open;
    private volatile int detecting;
    private final Map<Drop, LongAdder> drops = new EnumMap<>(Drop.class);
    private boolean closing;
    private boolean pendingFlush;

    private UdpListener(Services services, UdpSettings settings, EventLoop loop, AtomicInteger backendChannels) {
        this.services = services;
        this.settings = settings;
        this.loop = loop;
        this.path = services.path();
        this.backendChannels = backendChannels;
        for (Drop d : Drop.values()) {
            drops.put(d, new LongAdder());
        }
        this.flows = Caffeine.newBuilder()
                .maximumSize(settings.maxFlows())
                .expireAfterAccess(settings.flowIdleTimeout())
                .executor(Runnable::run)
                .scheduler(Scheduler.forScheduledExecutorService(loop))
                .<InetSocketAddress, UdpFlow>removalListener(this::onRemoval)
                .build();
    }

    /**
     * Binds a listener on one event loop.
     *
     * @param services the engine's services
     * @param settings the UDP settings
     * @param loop the event loop of the socket and of all its flows
     * @param address the address to bind
     * @param backendChannels counts the open backend channels of all listeners
     * @return the bound listener
     * @throws UncheckedIOException naming the address when the bind fails
     */
    public static UdpListener bind(Services services, UdpSettings settings, EventLoop loop, InetSocketAddress address,
                                   AtomicInteger backendChannels) {
        UdpListener l = new UdpListener(services, settings, loop, backendChannels);
        ChannelFuture f = new Bootstrap()
                .group(loop)
                .channelFactory(services.transports().datagramChannel(address))
                .option(ChannelOption.RCVBUF_ALLOCATOR, UdpFlow.DATAGRAM_ALLOCATOR)
                .option(ChannelOption.SO_RCVBUF, 4 << 20)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                .handler(l.new Inbound())
                .bind(address)
                .awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            throw new UncheckedIOException("listen-udp " + address + ": bind failed: " + cause.getMessage(),
                    cause instanceof IOException ? (IOException) cause : new BindException(cause.toString()));
        }
        l.channel = f.channel();
        l.localAddress = (InetSocketAddress) f.channel().localAddress();
        return l;
    }

    /** Returns the bound address. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Returns the flows in the table now. */
    public int flows() {
        return open;
    }

    /** Returns the flows in detection now. */
    public int flowsInDetection() {
        return detecting;
    }

    /** Returns the datagrams dropped so far, by reason. */
    public Map<Drop, Long> drops() {
        Map<Drop, Long> m = new EnumMap<>(Drop.class);
        for (Map.Entry<Drop, LongAdder> e : drops.entrySet()) {
            m.put(e.getKey(), e.getValue().sum());
        }
        return m;
    }

    /** Closes every flow (reason {@code SHUTDOWN}) and the socket, and waits for it. */
    public void close() {
        if (loop.isShuttingDown()) {
            return;
        }
        loop.submit(() -> {
            closing = true;
            flows.invalidateAll();
            flows.cleanUp();
            return channel.close();
        }).syncUninterruptibly().getNow().awaitUninterruptibly();
    }

    // ---------------------------------------------------------------- for flows

    EventLoop loop() {
        return loop;
    }

    ConnectionPath path() {
        return path;
    }

    UdpSettings settings() {
        return settings;
    }

    Transports transports() {
        return services.transports();
    }

    ConnectionState.Listener connections() {
        return services.connections();
    }

    ByteBufAllocator alloc() {
        return channel.alloc();
    }

    void dropped(Drop reason) {
        drops.get(reason).increment();
    }

    void backendOpened() {
        backendChannels.incrementAndGet();
    }

    void backendClosed() {
        backendChannels.decrementAndGet();
    }

    void leftDetection(UdpFlow f) {
        if (f.inDetection) {
            f.inDetection = false;
            detecting--;
        }
    }

    void rejected(UdpFlow f) {
        // Stays in the table, counted, until it expires.
    }

    /** Removes a flow from the table (which closes it). */
    void remove(UdpFlow f) {
        flows.asMap().remove(f.key, f);
        if (f.isOpen()) {
            // Not in the table (evicted as it was added): close it all the same.
            closed(f, RemovalCause.EXPLICIT);
        }
    }

    /** Sends a backend's reply to the flow's client from the listening socket; takes the bytes. */
    void reply(UdpFlow f, ByteBuf data) {
        flows.getIfPresent(f.key); // a reply counts as activity
        if (!channel.isWritable()) {
            data.release();
            dropped(Drop.CLIENT_NOT_WRITABLE);
            return;
        }
        channel.write(new DatagramPacket(data, f.key), channel.voidPromise());
        pendingFlush = true;
    }

    void flushReplies() {
        if (pendingFlush) {
            pendingFlush = false;
            channel.flush();
        }
    }

    /** Learns the server's connection id from a long-header reply of a QUIC flow. */
    void learnConnectionId(UdpFlow f, ByteBuf reply) {
        QuicIds.Id id = QuicIds.sourceId(reply);
        if (id == null || !f.isOpen()) {
            return;
        }
        List<QuicIds.Id> list = f.connectionIds;
        if (list == null) {
            f.connectionIds = list = new ArrayList<>(2);
        } else if (list.contains(id)) {
            return;
        }
        if (list.size() >= MAX_IDS_PER_FLOW) {
            ids.remove(list.remove(0), f);
        }
        UdpFlow previous = ids.put(id, f);
        if (previous != null && previous != f && previous.connectionIds != null) {
            previous.connectionIds.remove(id);
        }
        list.add(id);
        idLengths |= 1 << id.length();
    }

    private UdpFlow byConnectionId(ByteBuf d, InetSocketAddress sender) {
        UdpFlow f = null;
        if (QuicIds.isLong(d)) {
            QuicIds.Id id = QuicIds.longDestinationId(d);
            f = id == null ? null : ids.get(id);
        } else {
            for (int lengths = idLengths; lengths != 0 && f == null; lengths &= lengths - 1) {
                QuicIds.Id id = QuicIds.shortDestinationId(d, Integer.numberOfTrailingZeros(lengths));
                f = id == null ? null : ids.get(id);
            }
        }
        if (f == null || !f.isOpen() || f.backend() == null) {
            return null;
        }
        InetSocketAddress old = f.key;
        log.debug("[{}] quic connection moved from {} to {}", f.conn.id(), old, sender);
        if (!old.getAddress().equals(sender.getAddress())) {
            count(old.getAddress(), -1);
            count(sender.getAddress(), 1);
        }
        f.key = sender;
        f.conn.clientAddress(sender);
        flows.put(sender, f);
        flows.invalidate(old); // the removal sees the new key and leaves the flow alone
        return f;
    }

    // ---------------------------------------------------------------- table

    private UdpFlow newFlow(InetSocketAddress sender) {
        if (closing) {
            return null;
        }
        InetAddress ip = sender.getAddress();
        int[] n = perAddress.get(ip);
        if (n != null && n[0] >= settings.maxFlowsPerAddress()) {
            refuse(RefusalReason.MAX_CONNECTIONS_PER_IP, "udpMaxFlowsPerAddress=" + settings.maxFlowsPerAddress(),
                    sender);
            return null;
        }
        if (detecting >= settings.maxFlowsInDetection()) {
            refuse(RefusalReason.MAX_DETECTING, "udpMaxFlowsInDetection=" + settings.maxFlowsInDetection(), sender);
            return null;
        }
        if (path.peekBudget().isExhausted()) {
            refuse(RefusalReason.PEEK_MEMORY, "maxPeekMemoryBytes=" + path.peekBudget().limit(), sender);
            return null;
        }
        UdpFlow f = new UdpFlow(this, sender, services.snapshot(), services.nextId());
        count(ip, 1);
        detecting++;
        flows.put(sender, f);
        if (open >= settings.maxFlows()) {
            flows.cleanUp(); // Caffeine evicts after the write; make it happen now, so the bound is exact
        }
        if (f.isOpen()) {
            // Counted once the table is back within its bound (the new flow itself may have been evicted).
            f.counted = true;
            open++;
        }
        return f;
    }

    private void refuse(RefusalReason reason, String limit, InetSocketAddress sender) {
        dropped(Drop.FLOW_REFUSED);
        services.refused(reason, limit, sender, localAddress);
    }

    private void count(InetAddress ip, int delta) {
        int[] n = perAddress.get(ip);
        if (n == null) {
            if (delta > 0) {
                perAddress.put(ip, new int[] {delta});
            }
            return;
        }
        n[0] += delta;
        if (n[0] <= 0) {
            perAddress.remove(ip);
        }
    }

    private void onRemoval(InetSocketAddress key, UdpFlow f, RemovalCause cause) {
        if (f == null || key == null || !key.equals(f.key)) {
            return; // a flow that moved to another address
        }
        closed(f, cause);
    }

    private void closed(UdpFlow f, RemovalCause cause) {
        if (!f.isOpen()) {
            return;
        }
        if (f.counted) {
            open--;
        }
        leftDetection(f);
        count(f.key.getAddress(), -1);
        if (f.connectionIds != null) {
            for (QuicIds.Id id : f.connectionIds) {
                ids.remove(id, f);
            }
            f.connectionIds = null;
        }
        CloseReason reason;
        String detail = null;
        switch (cause) {
            case EXPIRED:
                reason = CloseReason.IDLE_TIMEOUT;
                break;
            case SIZE:
                reason = CloseReason.IDLE_TIMEOUT;
                detail = "evicted from the full flow table (udpMaxFlows=" + settings.maxFlows() + ")";
                break;
            default:
                reason = closing ? CloseReason.SHUTDOWN : CloseReason.COMPLETED;
                break;
        }
        try {
            f.removed(reason, detail);
        } catch (RuntimeException e) {
            log.warn("[{}] closing a UDP flow failed: {}", f.conn.id(), e.toString(), e);
        }
    }

    // ---------------------------------------------------------------- the socket

    private final class Inbound extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            DatagramPacket p = (DatagramPacket) msg;
            ByteBuf data = p.content();
            try {
                InetSocketAddress sender = p.sender();
                UdpFlow f = flows.getIfPresent(sender);
                if (f == null && idLengths != 0) {
                    f = byConnectionId(data, sender);
                }
                if (f == null) {
                    f = newFlow(sender);
                    if (f == null) {
                        data.release();
                        return;
                    }
                }
                ByteBuf owned = data;
                data = null;
                f.received(owned);
            } catch (Throwable t) {
                dropped(Drop.ERROR);
                log.warn("udp listener {}: a datagram from {} failed: {}", localAddress, p.sender(), t.toString(), t);
                if (data != null) {
                    ReferenceCountUtil.safeRelease(data);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushReplies();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("udp listener {}: {}", localAddress, cause.toString());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!closing) {
                log.warn("udp listener {} closed unexpectedly", localAddress);
            }
        }
    }

    @Override
    public String toString() {
        return "udp " + localAddress + " (" + open + " flows)";
    }
}
