package io.refractium.internal.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.hook.CloseReason;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.detect.DetectionSession;
import io.refractium.internal.detect.PeekBuffer;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.health.BackendState;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.Router;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One UDP flow: the datagrams of one client address and port on one listener, from the first datagram until the
 * flow leaves the listener's table (idle, evicted, or closed). Lives on the listener's event loop; nothing here is
 * thread-safe.
 *
 * <p>Its path is a TCP connection's: the hooks admit it, the first datagrams are detected (at most
 * {@link UdpSettings#maxDetectionDatagrams()}, offered concatenated with their boundaries), a route picks the target
 * (UDP flows use neither the fallback nor the silence targets), the load balancer picks a backend, and one
 * connected datagram channel per flow carries its datagrams to that backend; the backend's replies leave from the
 * listening socket. While the flow is admitted, detected and routed its datagrams are held, bounded in count and
 * bytes, and replayed in order once the backend channel is connected; datagrams over the bound are dropped and
 * counted. A flow whose detection failed, that no route took or that a hook refused stays in the table (so its
 * later datagrams are dropped at once, counted) until it expires.
 *
 * <p>Buffer ownership: {@link #received} takes the datagram's bytes; held bytes live in a {@link PeekBuffer},
 * charged to the instance's peek memory, released when the flow forwards them or leaves the table.
 */
final class UdpFlow implements ConnectionState.Flow, HookDispatcher.Verdicts {

    private static final Logger log = LoggerFactory.getLogger(UdpFlow.class);

    /**
     * The receive buffer of the listening socket and of backend channels: room for the largest UDP payload; reads go
     * on until the socket is empty (up to the channel's messages per read), since a datagram shorter than the buffer
     * says nothing about whether more are queued.
     */
    static final RecvByteBufAllocator DATAGRAM_ALLOCATOR =
            new FixedRecvByteBufAllocator(65_536).respectMaybeMoreData(false);

    private enum Phase { NEW, ADMITTING, DETECTING, ROUTING, CONNECTING, FORWARDING, REJECTED, CLOSED }

    private final UdpListener listener;
    private final EventLoop loop;
    private final EngineConfig config;
    final ConnectionState conn;
    private final DetectionSession session;
    private final int maxDatagrams;
    private final int maxHeldBytes;
    /** The key of the flow in the listener's table: the client's address now. */
    InetSocketAddress key;
    private Phase phase = Phase.NEW;
    /** Whether the flow counts as in detection in its listener. */
    boolean inDetection = true;
    /** Whether the flow counts in its listener's number of flows. */
    boolean counted;

    private PeekBuffer held;
    private final int[] ends;
    private int count;
    private ScheduledFuture<?> deadline;
    private boolean deadlinePassed;
    private ForwardTarget choosing;

    private TargetRuntime runtime;
    private final List<BackendState> tried = new ArrayList<>(2);
    private boolean waitedForAnswers;
    private ScheduledFuture<?> answerTimer;
    private Channel backend;
    private BackendState backendState;
    private boolean replied;
    /** The QUIC connection ids learned from the backend's replies, when the protocol is {@code quic}. */
    List<QuicIds.Id> connectionIds;

    private List<Runnable> onClose;

    UdpFlow(UdpListener listener, InetSocketAddress client, RoutingSnapshot snapshot, long id) {
        this.listener = listener;
        this.loop = listener.loop();
        this.config = listener.path().config();
        this.key = client;
        this.conn = new ConnectionState(id, this, loop, client, listener.localAddress(), snapshot,
                new CountingRecvByteBufAllocator(), listener.connections());
        this.session = new DetectionSession(config.protocols().udp(), Transport.UDP, client, listener.localAddress(),
                id);
        conn.detection(session);
        this.maxDatagrams = listener.settings().maxDetectionDatagrams();
        this.maxHeldBytes = Math.max(config.maxPeekBytes(), 65_535);
        this.ends = new int[maxDatagrams];
    }

    // ---------------------------------------------------------------- ConnectionState.Flow

    @Override
    public boolean isOpen() {
        return phase != Phase.CLOSED;
    }

    @Override
    public void close() {
        if (phase != Phase.CLOSED) {
            listener.remove(this);
        }
    }

    @Override
    public void onClose(Runnable action) {
        if (phase == Phase.CLOSED) {
            action.run();
            return;
        }
        if (onClose == null) {
            onClose = new ArrayList<>(2);
        }
        onClose.add(action);
    }

    // ---------------------------------------------------------------- datagrams from the client

    /**
     * A datagram from the client.
     *
     * @param data its bytes; ownership passes to the flow
     */
    void received(ByteBuf data) {
        int n = data.readableBytes();
        switch (phase) {
            case FORWARDING:
                conn.clientCounter().add(n);
                if (backend.isWritable()) {
                    backend.writeAndFlush(data, backend.voidPromise());
                } else {
                    data.release();
                    listener.dropped(UdpListener.Drop.BACKEND_NOT_WRITABLE);
                }
                return;
            case NEW:
                conn.clientCounter().add(n);
                held = new PeekBuffer(listener.path().peekBudget());
                hold(data);
                phase = Phase.ADMITTING;
                if (config.hasMetrics()) {
                    config.metrics().connectionAccepted(conn.localAddress());
                }
                listener.path().hooks().accepted(conn, this);
                return;
            case ADMITTING:
            case ROUTING:
            case CONNECTING:
                conn.clientCounter().add(n);
                hold(data);
                return;
            case DETECTING:
                conn.clientCounter().add(n);
                if (hold(data)) {
                    detect();
                }
                return;
            case REJECTED:
                conn.clientCounter().add(n);
                data.release();
                listener.dropped(UdpListener.Drop.REJECTED_FLOW);
                return;
            default:
                data.release();
                listener.dropped(UdpListener.Drop.REJECTED_FLOW);
        }
    }

    /** Holds a datagram for detection and replay; returns false (and drops it) over the bounds. */
    private boolean hold(ByteBuf data) {
        int n = data.readableBytes();
        if (count >= maxDatagrams || (count > 0 && held.readableBytes() + n > maxHeldBytes)) {
            data.release();
            listener.dropped(UdpListener.Drop.HOLD_FULL);
            return false;
        }
        held.append(listener.alloc(), data);
        ends[count++] = held.readableBytes();
        return true;
    }

    // ---------------------------------------------------------------- admission and detection

    @Override
    public void admitted(String refusal) {
        if (phase != Phase.ADMITTING) {
            return;
        }
        if (refusal != null) {
            log.debug("[{}] refused: {}", conn.id(), refusal);
            conn.detail(refusal);
            reject(CloseReason.REFUSED);
            return;
        }
        phase = Phase.DETECTING;
        deadline = loop.schedule(this::onDeadline, config.peekTimeout().toNanos(), TimeUnit.NANOSECONDS);
        detect();
    }

    private void detect() {
        session.datagrams(ends, count);
        if (!session.update(held.buffer(), config.maxPeekBytes(), count >= maxDatagrams, deadlinePassed)) {
            return;
        }
        if (session.protocol() != null) {
            detected(session.protocol(), session.result());
        } else {
            failed(session.failure());
        }
    }

    private void onDeadline() {
        deadline = null;
        if (phase == Phase.DETECTING) {
            deadlinePassed = true;
            detect();
        }
    }

    private void leaveDetection() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        listener.leftDetection(this);
    }

    private void detected(RefractiumProtocol p, DetectionResult r) {
        leaveDetection();
        conn.detected(p.id(), r.attributes());
        RoutingTable table = conn.snapshot().table();
        Route route = table.select(p.id(), r.attributes(), conn.clientAddress().getAddress(), conn.localAddress());
        conn.route(route);
        int bytes = held.readableBytes();
        long elapsed = conn.ageNanos();
        session.decided(route != null ? DetectionReport.Outcome.ROUTED : DetectionReport.Outcome.NO_ROUTE, bytes,
                elapsed);
        if (log.isDebugEnabled()) {
            log.debug("[{}] udp detected {} {}: {}", conn.id(), p.id(), r.attributes(), session.report());
        }
        if (config.hasMetrics()) {
            config.metrics().detectionDecided(conn, session.report());
        }
        HookDispatcher hooks = listener.path().hooks();
        if (!hooks.isEmpty()) {
            hooks.detected(conn, new Detection(p.id(), r.attributes(), bytes, Duration.ofNanos(elapsed)));
        }
        if (phase != Phase.DETECTING) {
            return; // a hook closed the flow
        }
        if (route == null) {
            log.debug("[{}] no UDP route for {}; dropping the flow's datagrams", conn.id(), p.id());
            reject(CloseReason.NO_ROUTE);
            return;
        }
        phase = Phase.ROUTING;
        choosing = route.target();
        hooks.routeChosen(conn, choosing, this);
    }

    private void failed(DetectionFailure reason) {
        leaveDetection();
        session.fail(reason);
        int bytes = held.readableBytes();
        session.decided(DetectionReport.Outcome.of(reason), bytes, conn.ageNanos());
        if (log.isDebugEnabled()) {
            log.debug("[{}] udp detection failed: {}", conn.id(), session.report());
        }
        if (config.hasMetrics()) {
            config.metrics().detectionDecided(conn, session.report());
        }
        conn.detectionFailure(reason);
        listener.path().hooks().detectionFailed(conn, reason, bytes);
        if (phase == Phase.DETECTING) {
            reject(CloseReason.DETECTION_FAILED);
        }
    }

    /**
     * Keeps the flow in the table without a backend: its held bytes are released and its later datagrams dropped
     * until it expires; the reason is what the hooks see when it does.
     */
    private void reject(CloseReason reason) {
        if (phase == Phase.CLOSED) {
            return;
        }
        leaveDetection();
        phase = Phase.REJECTED;
        conn.reason(reason);
        releaseHeld();
        listener.rejected(this);
    }

    @Override
    public void routeDecided(RouteDecision decision) {
        ForwardTarget chosen = choosing;
        choosing = null;
        if (phase != Phase.ROUTING || chosen == null) {
            return;
        }
        switch (Router.apply(conn, chosen, decision)) {
            case REFUSED:
                conn.detail(decision.refusal());
                reject(CloseReason.REFUSED);
                return;
            case UNKNOWN_TARGET:
                reject(CloseReason.NO_ROUTE);
                return;
            default:
                break;
        }
        phase = Phase.CONNECTING;
        runtime = Router.runtime(conn);
        connect();
    }

    // ---------------------------------------------------------------- backend

    private void connect() {
        if (phase != Phase.CONNECTING) {
            return;
        }
        ForwardTarget target = runtime.target();
        if (tried.size() >= target.maxAttempts()) {
            unavailable();
            return;
        }
        String serverName = conn.attributes().get(AttributeKey.SNI);
        BackendState state = runtime.acquire(tried, conn.clientAddress(), serverName, conn.protocol(),
                conn.attributes());
        if (state == null) {
            CompletableFuture<Void> answers = runtime.firstAnswers();
            if (!answers.isDone() && !waitedForAnswers) {
                waitedForAnswers = true;
                answerTimer = loop.schedule(this::answersArrived, config.connectTimeout().toNanos(),
                        TimeUnit.NANOSECONDS);
                answers.whenComplete((v, t) -> loop.execute(this::answersArrived));
                return;
            }
            unavailable();
            return;
        }
        tried.add(state);
        if (config.hasMetrics()) {
            config.metrics().connectStarted(conn, target, state.backend());
        }
        long startNanos = conn.ticker().nanoTime();
        CountingRecvByteBufAllocator counter = new CountingRecvByteBufAllocator();
        InetSocketAddress address = state.connectAddress();
        ChannelFuture f;
        try {
            f = new Bootstrap()
                    .group(loop)
                    .channelFactory(listener.transports().datagramChannel(address))
                    .option(ChannelOption.RCVBUF_ALLOCATOR, DATAGRAM_ALLOCATOR)
                    .handler(new BackendHandler(counter))
                    .connect(address);
        } catch (RuntimeException e) {
            // No socket could be created (EMFILE): not the backend's fault.
            runtime.release(state);
            if (config.hasMetrics()) {
                config.metrics().connectFailed(conn, target, state.backend(), e);
            }
            log.debug("[{}] udp backend {}: {} (local error)", conn.id(), state.backend().hostAndPort(), e.toString());
            listener.path().hooks().backendFailed(conn, address, e);
            connect();
            return;
        }
        Channel ch = f.channel();
        backend = ch;
        backendState = state;
        conn.attempt(ch, counter, state.backend().address());
        listener.backendOpened();
        ch.closeFuture().addListener((ChannelFutureListener) cf -> {
            runtime.release(state);
            listener.backendClosed();
            if (phase == Phase.FORWARDING && backend == ch) {
                // The backend socket closed under an open flow (an I/O error): the flow ends with it, so that the
                // client's next datagram starts a new one.
                conn.close(CloseReason.ERROR);
            }
            conn.channelClosed();
        });
        f.addListener((ChannelFutureListener) cf -> connected(cf, state, startNanos));
    }

    private void answersArrived() {
        if (answerTimer == null) {
            return;
        }
        answerTimer.cancel(false);
        answerTimer = null;
        connect();
    }

    private void connected(ChannelFuture f, BackendState state, long startNanos) {
        Channel ch = f.channel();
        if (phase != Phase.CONNECTING || ch != backend) {
            ch.close();
            return;
        }
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            log.debug("[{}] udp backend {} failed: {}", conn.id(), state.backend().hostAndPort(), cause.toString());
            backend = null;
            backendState = null;
            ch.close();
            runtime.connectFailed(state, cause);
            if (config.hasMetrics()) {
                config.metrics().connectFailed(conn, runtime.target(), state.backend(), cause);
            }
            listener.path().hooks().backendFailed(conn, state.backend().address(), cause);
            connect();
            return;
        }
        InetSocketAddress remote = ch.remoteAddress() instanceof InetSocketAddress
                ? (InetSocketAddress) ch.remoteAddress() : state.connectAddress();
        if (config.hasMetrics()) {
            config.metrics().connectSucceeded(conn, runtime.target(), state.backend(),
                    conn.ticker().nanoTime() - startNanos);
        }
        conn.backendConnected(remote);
        listener.path().hooks().backendConnected(conn, remote);
        if (phase != Phase.CONNECTING) {
            return; // a hook closed the flow
        }
        phase = Phase.FORWARDING;
        ByteBuf bytes = held.buffer();
        int start = 0;
        for (int i = 0; i < count; i++) {
            ch.write(bytes.retainedSlice(bytes.readerIndex() + start, ends[i] - start), ch.voidPromise());
            start = ends[i];
        }
        ch.flush();
        releaseHeld();
        if (log.isDebugEnabled()) {
            log.debug("[{}] udp {} -> {} ({}, {} datagrams replayed)", conn.id(), conn.clientAddress(), remote,
                    conn.protocol(), count);
        }
    }

    private void unavailable() {
        log.debug("[{}] target {}: no UDP backend available", conn.id(), runtime.target().name());
        reject(CloseReason.BACKEND_UNAVAILABLE);
    }

    /** The backend channel of the flow: replies go to the client from the listening socket. */
    private final class BackendHandler extends ChannelInboundHandlerAdapter {
        private final CountingRecvByteBufAllocator counter;

        BackendHandler(CountingRecvByteBufAllocator counter) {
            this.counter = counter;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket) || phase != Phase.FORWARDING) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ByteBuf data = ((DatagramPacket) msg).content();
            counter.add(data.readableBytes());
            if (!replied) {
                replied = true;
                runtime.connectSucceeded(backendState);
            }
            if ("quic".equals(conn.protocol())) {
                listener.learnConnectionId(UdpFlow.this, data);
            }
            listener.reply(UdpFlow.this, data);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            listener.flushReplies();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof PortUnreachableException || isRefused(cause)) {
                // ICMP port unreachable for a datagram we sent: the backend is not there. Passive health counts
                // it like a refused TCP connect, and the flow ends so the client's next datagram picks again.
                log.debug("[{}] udp backend {}: port unreachable", conn.id(), backendState.backend().hostAndPort());
                if (phase == Phase.FORWARDING && ctx.channel() == backend) {
                    runtime.connectFailed(backendState, cause);
                    listener.path().hooks().backendFailed(conn, backendState.backend().address(), cause);
                    conn.detail("backend port unreachable");
                    conn.close(CloseReason.BACKEND_UNAVAILABLE);
                }
                return;
            }
            log.debug("[{}] udp backend error: {}", conn.id(), cause.toString());
        }
    }

    private static boolean isRefused(Throwable cause) {
        String m = cause.getMessage();
        return cause instanceof IOException && m != null && m.contains("Connection refused");
    }

    // ---------------------------------------------------------------- removal

    /**
     * The flow left the table (expired, evicted, closed, shutdown): held bytes are released, the backend channel
     * closed, and the end reported once that channel is closed too.
     *
     * @param reason why, unless a reason was recorded before
     * @param detail in words, or {@code null}
     */
    void removed(CloseReason reason, String detail) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        if (detail != null) {
            conn.detail(detail);
        }
        conn.reason(reason);
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        if (answerTimer != null) {
            answerTimer.cancel(false);
            answerTimer = null;
        }
        releaseHeld();
        List<Runnable> actions = onClose;
        onClose = null;
        if (actions != null) {
            for (Runnable r : actions) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    log.warn("[{}] flow close action failed: {}", conn.id(), e.toString(), e);
                }
            }
        }
        Channel b = backend;
        if (b != null && b.isOpen()) {
            b.close(); // its close listener reports the end
        } else {
            conn.channelClosed();
        }
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
        }
    }

    /** Returns the backend channel, or {@code null}. */
    Channel backend() {
        return backend;
    }

    @Override
    public String toString() {
        return "#" + conn.id() + " " + key + " " + phase;
    }
}
