package io.refractium.internal.connect;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.health.BackendState;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.Router;
import io.refractium.metrics.MetricsRecorder;
import io.refractium.spi.AttributeKey;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects one connection to a backend of its target: the load balancer picks an eligible backend, a failed or
 * timed-out attempt is closed (its slot released) and the next backend is tried, up to the target's attempts and
 * connect deadline. Every callback runs on the client's event loop; time comes from its clock.
 *
 * <p>A target whose named backends have not had their first DNS answer yet (just started) makes the connection
 * wait for it, at most the connect timeout (or what is left of the connect deadline); a name that did not resolve
 * is reported to the hooks as the connection's backend failure.
 *
 * <p>What counts against a backend's passive health: a refused, reset or timed-out connect. What does not: a local
 * failure to create a socket ({@link LocalDialException}), an attempt aborted because the client left, and a
 * timeout cut short by the target's connect deadline (the backend was not given its full connect timeout).
 */
public final class BackendConnector {

    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);

    /** Told how the connect stage ended. */
    public interface Callback {
        /** A backend accepted; {@code backend} is active and registered on the client's loop. */
        void connected(Channel backend);

        /** No backend could be connected within the attempts and deadline. */
        void unavailable();
    }

    private final ConnectionPath path;
    private final ConnectionState conn;
    private final TargetRuntime runtime;
    private final ForwardTarget target;
    private final Callback callback;
    private final List<BackendState> tried = new ArrayList<>(2);
    private final long connectDeadline;
    private int attempts;
    private boolean cancelled;
    private Channel inFlight;
    /** Whether this connection already waited for the target's first DNS answers; it waits once. */
    private boolean waitedForAnswers;
    private ScheduledFuture<?> answerTimer;
    /** When the attempt in flight started, by the loop's clock; read only with a metrics recorder. */
    private long attemptStartNanos;

    /**
     * Creates the connector of one connection.
     *
     * @param path the instance's shared services
     * @param conn the connection, with its target recorded
     * @param runtime the target's run-time state
     * @param callback told the outcome
     */
    public BackendConnector(ConnectionPath path, ConnectionState conn, TargetRuntime runtime, Callback callback) {
        this.path = path;
        this.conn = conn;
        this.runtime = runtime;
        this.target = runtime.target();
        this.callback = callback;
        this.connectDeadline = target.connectDeadline() == null ? 0
                : conn.ticker().nanoTime() + target.connectDeadline().toNanos();
    }

    /** Starts the first attempt. */
    public void start() {
        next();
    }

    /** Gives up: the attempt in flight is closed and no other starts. */
    public void cancel() {
        cancelled = true;
        if (answerTimer != null) {
            answerTimer.cancel(false);
        }
        Channel ch = inFlight;
        inFlight = null;
        if (ch != null) {
            ch.close();
        }
    }

    private void answersArrivedOrTimedOut() {
        if (answerTimer == null) {
            return;
        }
        answerTimer.cancel(false);
        answerTimer = null;
        next();
    }

    private void next() {
        if (cancelled) {
            return;
        }
        long timeoutMillis = path.config().connectTimeout().toMillis();
        boolean cutByDeadline = false;
        if (connectDeadline != 0) {
            long left = TimeUnit.NANOSECONDS.toMillis(connectDeadline - conn.ticker().nanoTime());
            if (left <= 0) {
                log.debug("[{}] target {}: connect deadline passed after {} attempts", conn.id(), target.name(), attempts);
                callback.unavailable();
                return;
            }
            if (left < timeoutMillis) {
                timeoutMillis = left;
                cutByDeadline = true;
            }
        }
        if (attempts >= target.maxAttempts()) {
            log.debug("[{}] target {}: no backend could be connected after {} attempts", conn.id(), target.name(), attempts);
            callback.unavailable();
            return;
        }
        String serverName = conn.attributes().get(AttributeKey.SNI);
        if (serverName == null) {
            serverName = conn.attributes().get(AttributeKey.HTTP_HOST);
        }
        BackendState state = runtime.acquire(tried, conn.clientAddress(), serverName, conn.protocol(),
                Router.attributes(conn));
        if (state == null) {
            CompletableFuture<Void> answers = runtime.firstAnswers();
            if (!answers.isDone() && !waitedForAnswers) {
                // Named backends not resolved yet (just started): wait for their first answer without blocking the
                // loop, bounded like a connect attempt; whichever comes first resumes, once.
                waitedForAnswers = true;
                EventLoop loop = conn.client().eventLoop();
                answerTimer = loop.schedule(this::answersArrivedOrTimedOut, timeoutMillis, TimeUnit.MILLISECONDS);
                answers.whenComplete((v, t) -> loop.execute(this::answersArrivedOrTimedOut));
                return;
            }
            TargetRuntime.ResolutionFailure unresolved = attempts == 0 ? runtime.resolutionFailure() : null;
            if (unresolved != null) {
                log.debug("[{}] target {}: no eligible backend; {} did not resolve: {}", conn.id(), target.name(),
                        unresolved.backend().hostAndPort(), BackendState.describe(unresolved.cause()));
                path.hooks().backendFailed(conn, unresolved.backend().address(), unresolved.cause());
            } else {
                log.debug("[{}] target {}: no eligible backend", conn.id(), target.name());
            }
            if (path.config().hasMetrics() && runtime.isCapped()) {
                path.config().metrics().limitReached(conn, MetricsRecorder.LIMIT_BACKEND_MAX_CONNECTIONS);
            }
            callback.unavailable();
            return;
        }
        tried.add(state);
        attempts++;
        conn.backendState(state);
        if (path.config().hasMetrics()) {
            attemptStartNanos = conn.ticker().nanoTime();
            path.config().metrics().connectStarted(conn, target, state.backend());
        }
        CountingRecvByteBufAllocator counter = new CountingRecvByteBufAllocator();
        EventLoop loop = conn.client().eventLoop();
        ChannelFuture f = path.dialer().dial(loop, state.connectAddress(), counter, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
        if (f.isDone() && f.cause() instanceof LocalDialException) {
            // No channel came to life: nothing to close, the slot is given back now.
            runtime.release(state);
            log.debug("[{}] backend {}: {} (local error, not held against the backend)", conn.id(),
                    state.backend().hostAndPort(), f.cause().getMessage());
            if (path.config().hasMetrics()) {
                path.config().metrics().connectFailed(conn, target, state.backend(), f.cause());
            }
            path.hooks().backendFailed(conn, state.backend().address(), f.cause());
            next();
            return;
        }
        Channel ch = f.channel();
        inFlight = ch;
        conn.attempt(ch, counter, state.backend().address());
        // The slot is held until the channel closes, whatever the outcome, so counts return to zero. The listener
        // captures only what it needs: the channel keeps it for the connection's life, and this connector, the
        // handler and the peek buffer are done with once connected.
        TargetRuntime rt = runtime;
        ConnectionState c = conn;
        ch.closeFuture().addListener((ChannelFutureListener) cf -> {
            rt.release(state);
            c.channelClosed();
        });
        boolean cut = cutByDeadline;
        f.addListener((ChannelFutureListener) cf -> done(cf, state, cut));
    }

    private void done(ChannelFuture f, BackendState state, boolean cutByDeadline) {
        Backend backend = state.backend();
        Channel ch = f.channel();
        if (inFlight == ch) {
            inFlight = null;
        }
        if (!f.isSuccess()) {
            // A failed attempt's channel can stay open (epoll keeps the fd after ECONNREFUSED): close it, which
            // releases its slot on the backend.
            ch.close();
            Throwable cause = f.cause();
            boolean abortedByClient = cancelled || cause instanceof ClosedChannelException && !conn.client().isActive();
            boolean local = cause instanceof LocalDialException;
            boolean cutShort = cutByDeadline && cause instanceof ConnectTimeoutException;
            if (!abortedByClient && !local && !cutShort) {
                runtime.connectFailed(state, cause);
            }
            log.debug("[{}] backend {} failed{}: {}", conn.id(), backend.hostAndPort(),
                    local ? " (local error, not held against the backend)" : cutShort ? " (connect deadline)" : "",
                    cause.toString());
            if (!abortedByClient && path.config().hasMetrics()) {
                path.config().metrics().connectFailed(conn, target, backend, cause);
            }
            if (cancelled) {
                return;
            }
            path.hooks().backendFailed(conn, backend.address(), cause);
            next();
            return;
        }
        runtime.connectSucceeded(state);
        if (path.config().hasMetrics()) {
            path.config().metrics().connectSucceeded(conn, target, backend,
                    conn.ticker().nanoTime() - attemptStartNanos);
        }
        if (cancelled) {
            ch.close();
            return;
        }
        InetSocketAddress remote = ch.remoteAddress() instanceof InetSocketAddress
                ? (InetSocketAddress) ch.remoteAddress() : null;
        conn.backendConnected(remote);
        callback.connected(ch);
    }
}
