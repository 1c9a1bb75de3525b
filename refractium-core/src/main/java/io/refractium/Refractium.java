package io.refractium;

import io.refractium.hook.RefusalReason;
import io.refractium.internal.admit.AdmissionControl;
import io.refractium.internal.engine.Engine;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.relay.BandwidthShaping;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running (or runnable) multiplexer: listens on one or more ports, detects each connection's protocol from its
 * first bytes, routes it to a {@link ForwardTarget} and relays bytes both ways.
 *
 * <p>Create one with {@link #builder()}:
 * <pre>{@code
 * Refractium proxy = Refractium.builder()
 *     .listen("0.0.0.0", 443)
 *     .discoverProtocols()
 *     .route(Route.builder("tls").sni("a.example").to(ForwardTarget.of("a", "10.0.0.1:443")))
 *     .route("http", ForwardTarget.of("web", "10.0.0.2:80", "10.0.0.3:80"))
 *     .fallback(ForwardTarget.to("10.0.0.9:9000"))
 *     .build()
 *     .start();
 * }</pre>
 *
 * <p>Thread-safe. {@link #start()} and {@link #close()} are idempotent; a closed instance cannot be started again.
 * {@link #closeAsync()} closes without blocking and {@link #awaitClose()} waits for the close. Operators can
 * {@linkplain #drain drain}, {@linkplain #disable disable} and {@linkplain #enable enable} backends and list the
 * {@linkplain #connections() open connections}.
 */
public final class Refractium implements AutoCloseable {

    private final Engine engine;
    private final AtomicBoolean closing = new AtomicBoolean();

    Refractium(EngineConfig config, RoutingTable routes) {
        this.engine = new Engine(config, routes);
        config.metrics().bind(this);
        engine.closeFuture().thenRun(() -> config.metrics().unbind(this));
    }

    /** Returns how many connections a direction of which switched to {@code splice(2)}; a seam for tests. */
    long splicedConnections() {
        return engine.splicedConnections();
    }

    /** Returns how many backends' active health check loops run now; a seam for tests. */
    int liveHealthCheckers() {
        return engine.liveHealthCheckers();
    }

    /** Returns the admission state (open, detecting and per-address counts); a seam for tests. */
    AdmissionControl admission() {
        return engine.admission();
    }

    /** Returns the bandwidth shaping (shared shapers, running traffic counters); a seam for tests. */
    BandwidthShaping shaping() {
        return engine.shaping();
    }

    /** Returns the bytes held in peek buffers now; a seam for tests. */
    long peekMemoryBytes() {
        return engine.peekMemoryBytes();
    }

    /** Returns the UDP flows in detection now; a seam for tests. */
    int udpFlowsInDetection() {
        return engine.udpFlowsInDetection();
    }

    /** Returns the open backend sockets of UDP flows; a seam for tests. */
    int udpBackendChannels() {
        return engine.udpBackendChannels();
    }

    /** Returns the datagrams dropped by UDP listeners, by reason; a seam for tests. */
    Map<io.refractium.internal.udp.UdpListener.Drop, Long> udpDrops() {
        return engine.udpDrops();
    }

    /** Returns a new builder. */
    public static RefractiumBuilder builder() {
        return new RefractiumBuilder();
    }

    /**
     * Binds every listen address and starts accepting. Calling it again on a running instance does nothing.
     *
     * @return this instance
     * @throws java.io.UncheckedIOException naming the address when a bind fails (nothing stays bound)
     * @throws IllegalStateException when the instance was closed
     */
    public Refractium start() {
        engine.start();
        return this;
    }

    /**
     * Returns the bound listen addresses with their real ports, in the order they were configured.
     *
     * @throws IllegalStateException before {@link #start()}
     */
    public List<InetSocketAddress> localAddresses() {
        return engine.localAddresses();
    }

    /**
     * Returns the first bound (TCP) listen address.
     *
     * @throws IllegalStateException before {@link #start()}, or when the instance has only UDP listeners
     */
    public InetSocketAddress localAddress() {
        List<InetSocketAddress> l = engine.localAddresses();
        if (l.isEmpty()) {
            throw new IllegalStateException("no TCP listener: see udpLocalAddresses() for the UDP ones");
        }
        return l.get(0);
    }

    /**
     * Returns the bound UDP listen addresses ({@link RefractiumBuilder#listenUdp}) with their real ports, in the
     * order they were configured; empty when there are none.
     *
     * @throws IllegalStateException before {@link #start()}
     */
    public List<InetSocketAddress> udpLocalAddresses() {
        return engine.udpLocalAddresses();
    }

    /**
     * Returns the UDP flows in the flow tables of all UDP listeners now, in any phase: in detection, forwarding, or
     * kept without a backend until they expire.
     */
    public int activeUdpFlows() {
        return engine.udpFlows();
    }

    /**
     * Binds one more listen address on a running instance; the other listeners keep accepting. The new listener
     * takes the instance's settings (its PROXY protocol setting is the one for its port, else the one for all
     * listeners); routes with a listener condition on it can be added with {@link #updateRoutes}.
     *
     * @param address the address to bind; port 0 picks a free port
     * @return the bound address with its real port
     * @throws IllegalStateException when the instance is not running
     * @throws IllegalArgumentException when this instance already listens on the address
     * @throws java.io.UncheckedIOException naming the address when the bind fails (nothing changes)
     */
    public InetSocketAddress addListener(InetSocketAddress address) {
        return engine.addListener(Objects.requireNonNull(address, "address"));
    }

    /**
     * Stops listening on one address of a running instance. Connections it accepted carry on to their end; the
     * other listeners keep accepting.
     *
     * @param boundAddress the address as {@link #localAddresses()} reports it (with its real port)
     * @return whether the instance listened on it
     */
    public boolean removeListener(InetSocketAddress boundAddress) {
        return engine.removeListener(Objects.requireNonNull(boundAddress, "boundAddress"));
    }

    /** Returns the routing table new connections use. */
    public RoutingTable routes() {
        return engine.routes();
    }

    /**
     * Replaces the routing table in one step. New connections use the new table; connections already open keep
     * the table (and the backend) they started with.
     *
     * @param routes the new table
     * @throws IllegalArgumentException when a route names an unknown protocol; the old table stays in place
     */
    public void updateRoutes(RoutingTable routes) {
        engine.updateRoutes(Objects.requireNonNull(routes, "routes"));
    }

    /**
     * Returns the state of every target of the routing table in use: each backend's health (up, down by its check,
     * or ejected after connect failures), its open client connections and its connect failures.
     */
    public List<TargetStatus> targets() {
        return engine.targets();
    }

    /**
     * Returns the state of the target with the given name in the table in use, or {@code null}.
     *
     * @param name the target's name
     * @return its state or {@code null}
     */
    public TargetStatus target(String name) {
        for (TargetStatus t : engine.targets()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Returns the ids of the registered protocols, in detection order. */
    public List<String> protocols() {
        return List.copyOf(engine.config().protocols().byId().keySet());
    }

    /**
     * Returns how many connections were refused before the hooks were asked to accept them, for each reason (every
     * reason present, 0 when none): by the {@link AdmissionLimits} (at accept, or against the real client address
     * a trusted PROXY header gave), by a full peek memory, and at the PROXY header stage (untrusted source, missing,
     * malformed or late header). Counts since the instance was built; a snapshot.
     *
     * @return the counts by reason
     */
    public Map<RefusalReason, Long> refusals() {
        return Collections.unmodifiableMap(engine.refusals());
    }

    /**
     * Returns the totals of each {@link io.refractium.hook.Tap tap}, in the order added: bytes delivered, bytes
     * dropped because the tap's queue was full, and bytes queued now.
     *
     * @return one status per tap
     */
    public List<TapStatus> taps() {
        return engine.taps();
    }

    /**
     * Returns the number of client TCP connections open now, in any phase (UDP flows: {@link #activeUdpFlows()}). A
     * connection counts until its end has been reported: to the metrics recorder, the taps and every hook's
     * {@code onClosed}.
     */
    public int activeConnections() {
        return engine.activeConnections();
    }

    /**
     * Returns the I/O transport this instance runs on: {@link IoTransport#EPOLL}, {@link IoTransport#IO_URING} or
     * {@link IoTransport#NIO}, never {@link IoTransport#NATIVE}, which is resolved at build; with event loop groups
     * passed in, the transport of those groups.
     */
    public IoTransport transport() {
        return engine.transport();
    }

    // ---------------------------------------------------------------- admin operations

    /**
     * Drains a backend: it takes no new connection, and the connections open to it go on until they finish. Its
     * health checks go on. {@link #enable} undoes it. {@link BackendStatus#isDrained()} tells when the last
     * connection has finished. Applies to the table in use and to later tables while they keep the target's name
     * and the backend.
     *
     * @param target the target's name
     * @param backend the backend as {@code HOST:PORT} ({@code [v6]:PORT}): a backend as configured, or for a backend
     *        named by host name, the name (all its addresses, now and later) or one address
     * @return the target's state after the change
     * @throws IllegalArgumentException naming the target or the backend when the table in use has no such one
     */
    public TargetStatus drain(String target, String backend) {
        return engine.admin(Objects.requireNonNull(target, "target"), Objects.requireNonNull(backend, "backend"),
                BackendStatus.Admin.DRAINING);
    }

    /**
     * Disables a backend: it takes no new connection, and the connections open to it are closed now (their
     * {@link io.refractium.hook.CloseReason} is {@code BACKEND_DISABLED}). {@link #enable} undoes it. Backend and
     * target are named as for {@link #drain}.
     *
     * @param target the target's name
     * @param backend the backend as {@code HOST:PORT}
     * @return the target's state after the change (connections being closed may still be counted)
     * @throws IllegalArgumentException naming the target or the backend when the table in use has no such one
     */
    public TargetStatus disable(String target, String backend) {
        return engine.admin(Objects.requireNonNull(target, "target"), Objects.requireNonNull(backend, "backend"),
                BackendStatus.Admin.DISABLED);
    }

    /**
     * Enables a drained or disabled backend again: it takes new connections when its health allows. Backend and
     * target are named as for {@link #drain}.
     *
     * @param target the target's name
     * @param backend the backend as {@code HOST:PORT}
     * @return the target's state after the change
     * @throws IllegalArgumentException naming the target or the backend when the table in use has no such one
     */
    public TargetStatus enable(String target, String backend) {
        return engine.admin(Objects.requireNonNull(target, "target"), Objects.requireNonNull(backend, "backend"),
                BackendStatus.Admin.ENABLED);
    }

    /**
     * Returns the client connections open now, sorted by id, as immutable snapshots each taken on its connection's
     * event loop. Blocks until every event loop has answered (a few microseconds on idle loops).
     *
     * @return the snapshots
     * @throws IllegalStateException when called on one of the instance's event loops; use
     *         {@link #connectionsAsync()} there
     */
    public List<ConnectionSnapshot> connections() {
        engine.checkNotOnEventLoop("connections()");
        return engine.connections().join();
    }

    /**
     * Returns the client connections open now, as {@link #connections()} does, without blocking: the future
     * completes once every event loop has taken its connections' snapshots. Safe on any thread.
     *
     * @return the snapshots, sorted by id
     */
    public CompletableFuture<List<ConnectionSnapshot>> connectionsAsync() {
        return engine.connections();
    }

    /** Returns whether the instance has been started and not closed. */
    public boolean isRunning() {
        return engine.isRunning();
    }

    /**
     * Stops accepting, lets open connections finish for the grace period (see
     * {@link RefractiumBuilder#shutdownGracePeriod}), then closes the rest and releases the event loops it owns.
     * Blocks until done. Calling it again does nothing.
     *
     * @throws IllegalStateException when called on one of the instance's event loop threads (inside a hook, say),
     *         where blocking would stop the connections it waits for
     */
    @Override
    public void close() {
        closing.set(true);
        engine.close();
    }

    /**
     * Closes the instance as {@link #close()} does, on a new thread, without blocking the caller: safe on any
     * thread, an event loop included. Calling it again, or after {@link #close()}, starts nothing more.
     *
     * @return a future completed when the instance is closed (a copy: completing it changes nothing)
     */
    public CompletableFuture<Void> closeAsync() {
        if (closing.compareAndSet(false, true)) {
            Thread t = new Thread(engine::close, "refractium-close");
            t.setDaemon(false);
            t.start();
        }
        return engine.closeFuture().copy();
    }

    /**
     * Blocks until the instance is closed, by {@link #close()}, {@link #closeAsync()} or a failed {@link #start()};
     * for a main thread that waits while a signal handler closes the instance. Returns at once when it is closed.
     *
     * @throws InterruptedException when the thread is interrupted while waiting
     * @throws IllegalStateException when called on one of the instance's event loops
     */
    public void awaitClose() throws InterruptedException {
        engine.checkNotOnEventLoop("awaitClose()");
        try {
            engine.closeFuture().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Blocks until the instance is closed or the timeout passes.
     *
     * @param timeout how long to wait at most
     * @return whether the instance is closed
     * @throws InterruptedException when the thread is interrupted while waiting
     * @throws IllegalStateException when called on one of the instance's event loops
     */
    public boolean awaitClose(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        engine.checkNotOnEventLoop("awaitClose()");
        try {
            engine.closeFuture().get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public String toString() {
        return "Refractium" + (engine.isRunning() ? engine.localAddresses() : "[not running]");
    }
}
