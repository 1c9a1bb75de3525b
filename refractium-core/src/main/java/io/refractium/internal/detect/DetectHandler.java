package io.refractium.internal.detect;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.ForwardTarget;
import io.refractium.SilenceRoute;
import io.refractium.hook.CloseReason;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.connect.ConnectHandler;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.proxy.ProxyAcceptance;
import io.refractium.internal.proxy.ProxyHeaderHandler;
import io.refractium.internal.route.Router;
import io.refractium.metrics.MetricsRecorder;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detect stage of a TCP connection: asks the hooks whether to accept it, peeks at the first bytes without
 * losing them (they are kept in a {@link PeekBuffer}), runs a {@link DetectionSession} after each read, and on a
 * decision routes the connection ({@link Router}) and replaces itself with the {@link ConnectHandler}, handing it
 * the peeked bytes. The detection deadline and the silence deadline run on the channel's event loop and its clock;
 * the silence deadline only when the listener has a {@link SilenceRoute}, with that route's timeout.
 *
 * <p>While a detector asks for a last call when the client goes quiet
 * ({@link io.refractium.spi.DetectionContext#lastCallWhenQuiet()}), one more timer runs: the quiet timer, armed for
 * the instance's quiet timeout when a read leaves such a detector, and pushed back by each later read (lazily: the
 * timer, when it fires early, re-arms itself for the rest of the quiet time counted from the last read, so reads do
 * not cancel and reschedule it). When the client has been quiet that long, the session is updated once more with
 * its quiet flag set. Every timer is cancelled on the decision and when the handler is removed or the channel
 * closes.
 *
 * <p>Each decision is recorded in the session ({@link DetectionSession#decided}) before the hooks hear of it, and
 * logged at DEBUG as one line with the {@link DetectionReport}.
 *
 * <p>On a listener that receives PROXY protocol headers, a {@link ProxyHeaderHandler} goes in front of this one
 * first; nothing here starts (hooks, timers) until it has consumed the header, set the real client address and
 * admitted it. A connection closed before that (refused at the header stage, or the client left) tells the hooks
 * nothing from here: they were never asked {@code onAccepted}.
 *
 * <p>The hooks' verdicts (admission, then the route decision) may come later ({@link HookDispatcher.Verdicts}):
 * while one is pending, the bytes the client sends are appended to the peek buffer (reading pauses at the peek
 * cap) and detection waits. Admission comes before the deadlines are armed; the route decision after they are
 * cancelled, so neither wait is cut short by a detection deadline, only by the hook decision timeout.
 *
 * <p>Buffer ownership: bytes read are appended to the peek buffer, which this handler owns until it hands it over,
 * and releases in {@link #handlerRemoved} otherwise.
 */
public final class DetectHandler extends ChannelInboundHandlerAdapter implements HookDispatcher.Verdicts {

    private static final Logger log = LoggerFactory.getLogger(DetectHandler.class);

    private final ConnectionPath path;
    private final EngineConfig config;
    private final ConnectionState conn;
    private final DetectionSession session;
    private PeekBuffer peeked;
    private ChannelHandlerContext ctx;
    private boolean done;
    private boolean started;
    /** Set while the hooks' admission is pending. */
    private boolean admitting;
    /** The target routing chose, while the hooks' route decision is pending; else {@code null}. */
    private ForwardTarget choosing;
    private boolean inputShutdown;
    private boolean deadlinePassed;
    /** Whether a PROXY protocol header is awaited in front of this handler; nothing starts until it is done. */
    private boolean awaitingProxyHeader;
    private ScheduledFuture<?> deadlineTimer;
    private ScheduledFuture<?> silenceTimer;
    /** The quiet timer, or {@code null} when none is pending. */
    private ScheduledFuture<?> quietTimer;
    /** The event loop's ticker time of the last read while the quiet timer is pending. */
    private long lastReadNanos;

    /**
     * Creates the stage for one connection.
     *
     * @param path the instance's shared services
     * @param conn the connection
     */
    public DetectHandler(ConnectionPath path, ConnectionState conn) {
        this.path = path;
        this.config = path.config();
        this.conn = conn;
        this.session = new DetectionSession(config.protocols().tcp(), Transport.TCP, conn.clientAddress(),
                conn.localAddress(), conn.id());
        conn.detection(session);
        this.peeked = new PeekBuffer(path.peekBudget());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ProxyAcceptance proxy = config.proxyProtocol().forListener(conn.localAddress());
        if (proxy != null) {
            awaitingProxyHeader = true;
            ctx.pipeline().addBefore(ctx.name(), "proxy-header", new ProxyHeaderHandler(conn, proxy,
                    config.peekTimeout().toNanos(), path.proxyGate(), this::proxyHeaderDone));
            return;
        }
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        conn.detectionEnded();
        cancelTimers();
        if (peeked != null) {
            peeked.release();
        }
        conn.holdEnd(false);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void proxyHeaderDone() {
        awaitingProxyHeader = false;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    private void start() {
        if (done || started || awaitingProxyHeader) {
            return;
        }
        started = true;
        admitting = true;
        conn.holdEnd(true);
        path.hooks().accepted(conn, this);
    }

    /** The hooks answered about admission (at once, or later on the event loop). */
    @Override
    public void admitted(String refusal) {
        admitting = false;
        if (done) {
            return;
        }
        if (refusal != null) {
            log.debug("[{}] refused: {}", conn.id(), refusal);
            conn.detail(refusal);
            end(CloseReason.REFUSED);
            return;
        }
        deadlineTimer = ctx.executor().schedule(this::onDeadline, config.peekTimeout().toNanos(), TimeUnit.NANOSECONDS);
        SilenceRoute silence = conn.snapshot().table().silenceFor(conn.localAddress());
        if (silence != null) {
            silenceTimer = ctx.executor().schedule(this::onSilence,
                    silence.timeoutOr(config.silenceTimeout()).toNanos(), TimeUnit.NANOSECONDS);
        }
        if (inputShutdown && peeked.readableBytes() == 0) {
            failed(DetectionFailure.CLIENT_CLOSED);
        } else if (peeked.readableBytes() > 0) {
            detect(false); // bytes that came while the admission was pending
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf) || (done && choosing == null)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        peeked.append(ctx.alloc(), (ByteBuf) msg);
        if (admitting || choosing != null) {
            // A hook's verdict is pending: keep the bytes, and stop reading at the cap.
            if (peeked.readableBytes() >= config.maxPeekBytes()) {
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        if (quietTimer != null) {
            lastReadNanos = conn.ticker().nanoTime();
        }
        detect(false);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            if (!done && !admitting) {
                if (peeked.readableBytes() == 0) {
                    failed(DetectionFailure.CLIENT_CLOSED);
                } else {
                    detect(false);
                }
            }
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            done = true;
            decided(DetectionReport.Outcome.CLIENT_CLOSED, peeked == null ? 0 : peeked.readableBytes());
            conn.detectionFailure(DetectionFailure.CLIENT_CLOSED);
            if (!awaitingProxyHeader) {
                // Closed while a PROXY header was awaited: no hook was asked to admit it, so none hears of it.
                path.hooks().detectionFailed(conn, DetectionFailure.CLIENT_CLOSED, peeked.readableBytes());
            }
            conn.reason(CloseReason.DETECTION_FAILED);
        }
        cancelTimers();
        if (peeked != null) {
            peeked.release();
        }
        conn.holdEnd(false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("[{}] client error during detection: {}", conn.id(), cause.toString());
        end(CloseReason.ERROR);
    }

    private void detect(boolean quiet) {
        if (session.update(peeked.buffer(), config.maxPeekBytes(), inputShutdown, deadlinePassed, quiet)) {
            if (session.protocol() != null) {
                detected(session.protocol(), session.result());
            } else {
                failed(session.failure());
            }
        } else if (quietTimer == null && session.wantsQuietCall()) {
            lastReadNanos = conn.ticker().nanoTime();
            quietTimer = ctx.executor().schedule(this::onQuiet, config.quietTimeout().toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void onQuiet() {
        quietTimer = null;
        if (done || !session.wantsQuietCall()) {
            return; // a later read re-arms it if a detector asks again
        }
        long left = config.quietTimeout().toNanos() - (conn.ticker().nanoTime() - lastReadNanos);
        if (left > 0) {
            // Bytes came since the timer was armed: the quiet time starts again at the last read.
            quietTimer = ctx.executor().schedule(this::onQuiet, left, TimeUnit.NANOSECONDS);
        } else {
            detect(true);
        }
    }

    private void onDeadline() {
        if (done) {
            return;
        }
        if (peeked.readableBytes() == 0) {
            failed(DetectionFailure.SILENCE);
        } else {
            // Last pass: detectors still waiting for bytes drop out, so a lower-priority match can still win.
            deadlinePassed = true;
            detect(false);
        }
    }

    private void onSilence() {
        if (!done && peeked.readableBytes() == 0) {
            failed(DetectionFailure.SILENCE);
        }
    }

    private void detected(RefractiumProtocol p, DetectionResult r) {
        done = true;
        cancelTimers();
        conn.detected(p.id(), r.attributes());
        int bytes = peeked.readableBytes();
        long elapsed = conn.ageNanos();
        ForwardTarget t = Router.targetFor(conn, p.id(), r.attributes());
        decided(conn.route() != null ? DetectionReport.Outcome.ROUTED : DetectionReport.Outcome.NO_ROUTE, bytes,
                elapsed);
        if (log.isDebugEnabled()) {
            log.debug("[{}] detected {} {}: {}", conn.id(), p.id(), r.attributes(), session.report());
        }
        if (!path.hooks().isEmpty()) {
            path.hooks().detected(conn, new Detection(p.id(), r.attributes(), bytes, Duration.ofNanos(elapsed)));
        }
        if (!ctx.channel().isActive()) {
            return; // a hook closed the connection
        }
        if (t == null) {
            log.debug("[{}] no route for {} and no fallback; closing", conn.id(), p.id());
            end(CloseReason.NO_ROUTE);
            return;
        }
        routeTo(t);
    }

    private void failed(DetectionFailure reason) {
        done = true;
        cancelTimers();
        session.fail(reason);
        int bytes = peeked.readableBytes();
        decided(DetectionReport.Outcome.of(reason), bytes);
        if (log.isDebugEnabled()) {
            log.debug("[{}] detection failed: {}", conn.id(), session.report());
        }
        conn.detectionFailure(reason);
        path.hooks().detectionFailed(conn, reason, bytes);
        if (!ctx.channel().isActive()) {
            return;
        }
        ForwardTarget t = Router.targetFor(conn, reason);
        if (t == null) {
            end(CloseReason.DETECTION_FAILED);
            return;
        }
        routeTo(t);
    }

    private void decided(DetectionReport.Outcome outcome, int bytes) {
        decided(outcome, bytes, conn.ageNanos());
    }

    private void decided(DetectionReport.Outcome outcome, int bytes, long elapsedNanos) {
        if (!session.isDecided()) {
            session.decided(outcome, bytes, elapsedNanos);
            if (config.hasMetrics()) {
                config.metrics().detectionDecided(conn, session.report());
                if (outcome == DetectionReport.Outcome.TOO_MANY_BYTES) {
                    config.metrics().limitReached(conn, MetricsRecorder.LIMIT_MAX_PEEK_BYTES);
                }
            }
        }
    }

    private void routeTo(ForwardTarget chosen) {
        choosing = chosen;
        path.hooks().routeChosen(conn, chosen, this);
    }

    /** The hooks answered about the chosen target (at once, or later on the event loop). */
    @Override
    public void routeDecided(RouteDecision decision) {
        ForwardTarget chosen = choosing;
        choosing = null;
        if (chosen == null || peeked == null) {
            return;
        }
        switch (Router.apply(conn, chosen, decision)) {
            case REFUSED:
                conn.detail(decision.refusal());
                end(CloseReason.REFUSED);
                return;
            case UNKNOWN_TARGET:
                end(CloseReason.NO_ROUTE);
                return;
            default:
                break;
        }
        if (!ctx.channel().isActive()) {
            return;
        }
        PeekBuffer bytes = peeked;
        peeked = null;
        ctx.pipeline().replace(this, "connect",
                new ConnectHandler(path, conn, Router.runtime(conn), bytes, inputShutdown));
    }

    private void end(CloseReason reason) {
        done = true;
        cancelTimers();
        if (peeked != null) {
            peeked.release();
        }
        conn.close(reason);
    }

    private void cancelTimers() {
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
        if (silenceTimer != null) {
            silenceTimer.cancel(false);
            silenceTimer = null;
        }
        if (quietTimer != null) {
            quietTimer.cancel(false);
            quietTimer = null;
        }
    }
}
