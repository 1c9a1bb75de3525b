package io.refractium.internal.engine;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.RouteDecision;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every client connection: admits it, peeks at the first bytes without losing them, runs the
 * detectors, routes, connects a backend (trying the next one on failure), replays the peeked bytes and hands the
 * connection to the relay, removing itself.
 *
 * <p>Buffer ownership: every buffer read from the client is merged into {@link #peeked}, which this handler owns
 * until it is written to the backend, and releases in {@link #handlerRemoved} otherwise.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements DetectionContext {

    private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);

    private enum Phase { DETECTING, CONNECTING, RELAYING, CLOSED }

    private final Engine engine;
    private final EngineConfig config;
    private final ConnectionState conn;
    private final RefractiumProtocol[] candidates;
    private final boolean[] ruledOut;

    private ChannelHandlerContext ctx;
    private Phase phase = Phase.DETECTING;
    private ByteBuf peeked;
    private boolean inputShutdown;
    private boolean deadlinePassed;
    private ScheduledFuture<?> deadlineTimer;
    private ScheduledFuture<?> silenceTimer;

    private ForwardTarget target;
    private TargetRuntime runtime;
    private long[] tried;
    private int attempts;
    private long connectDeadline;

    FrontendHandler(Engine engine, ConnectionState conn) {
        this.engine = engine;
        this.config = engine.config();
        this.conn = conn;
        this.candidates = config.protocols().tcp();
        this.ruledOut = new boolean[candidates.length];
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimers();
        releasePeeked();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (engine.hooks().accepted(conn) == Admission.REFUSE) {
            log.debug("[{}] refused by a hook", conn.id);
            end(CloseReason.REFUSED);
            return;
        }
        deadlineTimer = ctx.executor().schedule(this::onDeadline, config.peekTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (conn.snapshot.table().silenceTarget() != null) {
            silenceTimer = ctx.executor().schedule(this::onSilence, config.silenceTimeout().toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf) || phase == Phase.CLOSED || phase == Phase.RELAYING) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        peeked = peeked == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), peeked, in);
        if (phase == Phase.DETECTING) {
            detect();
        } else if (peeked.readableBytes() >= config.maxPeekBytes()) {
            // Connecting: hold at most the peek cap; the rest waits in the kernel until the relay starts.
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            if (phase == Phase.DETECTING) {
                if (peekedBytes() == 0) {
                    detectionFailed(DetectionFailure.CLIENT_CLOSED);
                } else {
                    detect();
                }
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (phase == Phase.DETECTING) {
            phase = Phase.CLOSED;
            conn.detectionFailure = DetectionFailure.CLIENT_CLOSED;
            engine.hooks().detectionFailed(conn, DetectionFailure.CLIENT_CLOSED, peekedBytes());
            conn.reason(CloseReason.DETECTION_FAILED);
        }
        phase = Phase.CLOSED;
        cancelTimers();
        releasePeeked();
        Channel b = conn.backend;
        if (b != null) {
            b.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("[{}] client error before relay: {}", conn.id, cause.toString());
        end(CloseReason.ERROR);
    }

    // ---------------------------------------------------------------- detection

    private void detect() {
        ByteBuf buf = peeked;
        int readable = buf.readableBytes();
        boolean atCap = readable >= config.maxPeekBytes();
        boolean starved = false;
        boolean waiting = false;
        int readerIndex = buf.readerIndex();
        int writerIndex = buf.writerIndex();
        for (int i = 0; i < candidates.length; i++) {
            if (ruledOut[i]) {
                continue;
            }
            RefractiumProtocol p = candidates[i];
            DetectionResult r;
            try {
                r = p.detect(buf, this);
                if (r == null) {
                    throw new NullPointerException("detect() returned null");
                }
            } catch (Throwable t) {
                log.warn("[{}] detector {} threw; treating it as no match: {}", conn.id, p.id(), t.toString(), t);
                r = DetectionResult.noMatch();
            }
            if (buf.readerIndex() != readerIndex || buf.writerIndex() != writerIndex) {
                log.warn("[{}] detector {} moved the buffer's indexes; restoring them", conn.id, p.id());
                buf.setIndex(readerIndex, writerIndex);
            }
            switch (r.status()) {
                case NO_MATCH:
                    ruledOut[i] = true;
                    break;
                case NEED_MORE:
                    if (inputShutdown || deadlinePassed || readable >= p.maxBytes()) {
                        ruledOut[i] = true;
                    } else if (atCap) {
                        ruledOut[i] = true;
                        starved = true;
                    } else {
                        waiting = true;
                    }
                    break;
                default:
                    if (!waiting) {
                        detected(p, r);
                        return;
                    }
                    // A higher-priority detector still needs more bytes: wait for it.
                    return;
            }
        }
        if (!waiting) {
            detectionFailed(deadlinePassed ? DetectionFailure.DEADLINE
                    : starved ? DetectionFailure.TOO_MANY_BYTES : DetectionFailure.NO_MATCH);
        }
    }

    private void onDeadline() {
        if (phase != Phase.DETECTING) {
            return;
        }
        if (peekedBytes() == 0) {
            detectionFailed(DetectionFailure.SILENCE);
        } else {
            // Last pass: detectors still waiting for bytes drop out, so a lower-priority match can still win.
            deadlinePassed = true;
            detect();
        }
    }

    private void onSilence() {
        if (phase == Phase.DETECTING && peekedBytes() == 0) {
            detectionFailed(DetectionFailure.SILENCE);
        }
    }

    private void detected(RefractiumProtocol p, DetectionResult r) {
        cancelTimers();
        conn.protocol = p.id();
        conn.attributes = r.attributes();
        int bytes = peekedBytes();
        if (log.isDebugEnabled()) {
            log.debug("[{}] detected {} {} after {} bytes", conn.id, p.id(), r.attributes(), bytes);
        }
        if (!engine.hooks().isEmpty()) {
            engine.hooks().detected(conn, new Detection(p.id(), r.attributes(), bytes,
                    Duration.ofNanos(System.nanoTime() - conn.acceptedNanos)));
        }
        if (phase != Phase.DETECTING) {
            return; // a hook closed the connection
        }
        RoutingTable table = conn.snapshot.table();
        Route route = table.select(p.id(), r.attributes(), conn.clientAddress().getAddress());
        conn.route = route;
        ForwardTarget t = route != null ? route.target() : table.fallback();
        if (t == null) {
            log.debug("[{}] no route for {} and no fallback; closing", conn.id, p.id());
            end(CloseReason.NO_ROUTE);
            return;
        }
        routeTo(t);
    }

    private void detectionFailed(DetectionFailure reason) {
        cancelTimers();
        int bytes = peekedBytes();
        log.debug("[{}] detection failed: {} after {} bytes", conn.id, reason, bytes);
        conn.detectionFailure = reason;
        engine.hooks().detectionFailed(conn, reason, bytes);
        if (phase != Phase.DETECTING) {
            return;
        }
        RoutingTable table = conn.snapshot.table();
        ForwardTarget t;
        switch (reason) {
            case SILENCE:
                t = table.silenceTarget() != null ? table.silenceTarget() : table.fallback();
                break;
            case CLIENT_CLOSED:
                t = null;
                break;
            default:
                t = table.fallback();
        }
        if (t == null) {
            end(CloseReason.DETECTION_FAILED);
            return;
        }
        routeTo(t);
    }

    // ---------------------------------------------------------------- routing and connecting

    private void routeTo(ForwardTarget chosen) {
        RouteDecision d = engine.hooks().routeChosen(conn, chosen);
        if (d.isRefused()) {
            log.debug("[{}] refused by a hook: {}", conn.id, d.refusal());
            end(CloseReason.REFUSED);
            return;
        }
        if (!ctx.channel().isActive()) {
            return;
        }
        target = d.reroute() != null ? d.reroute() : chosen;
        conn.target = target;
        runtime = engine.runtime(conn.snapshot, target);
        tried = new long[(runtime.backends.length + 63) >>> 6];
        connectDeadline = target.connectDeadline() == null ? 0 : System.nanoTime() + target.connectDeadline().toNanos();
        phase = Phase.CONNECTING;
        if (peekedBytes() >= config.maxPeekBytes()) {
            ctx.channel().config().setAutoRead(false);
        }
        connectNext();
    }

    private void connectNext() {
        Channel client = ctx.channel();
        if (!client.isActive() || phase != Phase.CONNECTING) {
            return;
        }
        long timeoutMillis = config.connectTimeout().toMillis();
        if (connectDeadline != 0) {
            long left = TimeUnit.NANOSECONDS.toMillis(connectDeadline - System.nanoTime());
            if (left <= 0) {
                log.debug("[{}] target {}: connect deadline passed after {} attempts", conn.id, target.name(), attempts);
                end(CloseReason.BACKEND_UNAVAILABLE);
                return;
            }
            timeoutMillis = Math.min(timeoutMillis, left);
        }
        if (attempts >= target.maxAttempts()) {
            log.debug("[{}] target {}: no backend could be connected after {} attempts", conn.id, target.name(), attempts);
            end(CloseReason.BACKEND_UNAVAILABLE);
            return;
        }
        String serverName = conn.attributes.get(AttributeKey.SNI);
        if (serverName == null) {
            serverName = conn.attributes.get(AttributeKey.HTTP_HOST);
        }
        int index = runtime.acquire(tried, conn.clientAddress(), serverName);
        if (index < 0) {
            log.debug("[{}] target {}: no eligible backend", conn.id, target.name());
            end(CloseReason.BACKEND_UNAVAILABLE);
            return;
        }
        tried[index >>> 6] |= 1L << index;
        attempts++;
        BackendState state = runtime.backends[index];
        Backend backend = state.backend;
        CountingRecvByteBufAllocator counter = new CountingRecvByteBufAllocator();
        ChannelFuture f = engine.connectBackend(client.eventLoop(), state.connectAddress, counter, (int) timeoutMillis);
        Channel ch = f.channel();
        conn.backend = ch;
        conn.backendCounter = counter;
        conn.backendAddress = backend.address();
        TargetRuntime rt = runtime;
        ch.closeFuture().addListener((ChannelFutureListener) cf -> {
            rt.release(index);
            conn.channelClosed();
        });
        f.addListener((ChannelFutureListener) cf -> connectDone(cf, backend, index));
    }

    private void connectDone(ChannelFuture f, Backend backend, int index) {
        Channel client = ctx.channel();
        if (!f.isSuccess()) {
            // A connect aborted because the client left says nothing about the backend's health.
            boolean abortedByClient = !client.isActive() && f.cause() instanceof java.nio.channels.ClosedChannelException;
            if (!abortedByClient) {
                runtime.connectFailed(index, f.cause());
            }
            log.debug("[{}] backend {} failed: {}", conn.id, backend.hostAndPort(), f.cause().toString());
            engine.hooks().backendFailed(conn, backend.address(), f.cause());
            connectNext();
            return;
        }
        Channel ch = f.channel();
        runtime.connectSucceeded(index);
        if (!client.isActive() || phase != Phase.CONNECTING) {
            ch.close();
            return;
        }
        conn.backendConnected = true;
        if (ch.remoteAddress() instanceof InetSocketAddress) {
            conn.backendAddress = (InetSocketAddress) ch.remoteAddress();
        }
        engine.hooks().backendConnected(conn, conn.backendAddress);
        if (!client.isActive() || !ch.isActive()) {
            conn.close(CloseReason.ERROR);
            return;
        }
        phase = Phase.RELAYING;
        ByteBuf bytes = peeked;
        peeked = null;
        if (bytes != null && bytes.isReadable()) {
            ch.write(bytes, ch.voidPromise());
        } else if (bytes != null) {
            bytes.release();
        }
        Relay.start(conn, config, inputShutdown);
        ctx.pipeline().remove(this);
    }

    // ---------------------------------------------------------------- helpers

    private void end(CloseReason reason) {
        phase = Phase.CLOSED;
        cancelTimers();
        releasePeeked();
        conn.close(reason);
    }

    private int peekedBytes() {
        return peeked == null ? 0 : peeked.readableBytes();
    }

    private void releasePeeked() {
        if (peeked != null) {
            ByteBuf b = peeked;
            peeked = null;
            b.release();
        }
    }

    private void cancelTimers() {
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
            deadlineTimer = null;
        }
        if (silenceTimer != null) {
            silenceTimer.cancel(false);
            silenceTimer = null;
        }
    }

    // ---------------------------------------------------------------- DetectionContext

    @Override
    public Transport transport() {
        return Transport.TCP;
    }

    @Override
    public SocketAddress remoteAddress() {
        return conn.clientAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return conn.localAddress();
    }

    @Override
    public boolean isInputComplete() {
        return inputShutdown;
    }
}
