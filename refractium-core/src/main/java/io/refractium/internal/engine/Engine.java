package io.refractium.internal.engine;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.refractium.Backend;
import io.refractium.BackendStatus;
import io.refractium.ConnectionSnapshot;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.TapStatus;
import io.refractium.TargetStatus;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.HealthChange;
import io.refractium.hook.Hook;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.admit.AdmissionControl;
import io.refractium.internal.admit.Ticket;
import io.refractium.internal.connect.Dialer;
import io.refractium.internal.detect.DetectHandler;
import io.refractium.internal.detect.PeekBudget;
import io.refractium.internal.health.BackendState;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.proxy.ProxyAcceptance;
import io.refractium.internal.proxy.ProxyGate;
import io.refractium.internal.relay.BandwidthShaping;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.internal.transport.BackendResolver;
import io.refractium.internal.transport.BootstrapDialer;
import io.refractium.internal.transport.Listeners;
import io.refractium.IoTransport;
import io.refractium.internal.transport.Transports;
import io.refractium.internal.udp.UdpListener;
import io.refractium.metrics.MetricsRecorder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running engine behind a {@code Refractium}: the event loops and listeners, the routing snapshot and the
 * targets' run-time state, the open connections, and the lifecycle. Each accepted connection goes through the
 * stages of its path: admission (here, before any handler is added), {@link DetectHandler detect} (which routes),
 * connect, relay.
 */
public final class Engine implements ConnectionState.Listener {

    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** The write buffer water marks of client and backend channels. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private enum State { NEW, RUNNING, CLOSED }

    private final EngineConfig config;
    /** The metrics recorder, and whether it is a real one (calls that need work are skipped for the no-op). */
    private final MetricsRecorder metrics;
    private final boolean hasMetrics;
    private final HookDispatcher hooks;
    private final Transports transports;
    private final boolean ownsGroups;
    private final ConnectionPath path;
    private final PeekBudget peekBudget;
    private final AdmissionControl admission;
    private final BandwidthShaping shaping;
    private final BackendResolver resolver;
    private final Set<ConnectionState> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong splicedConnections = new AtomicLong();
    private final AtomicLong refusedOverBudget = new AtomicLong();
    private final AtomicInteger liveCheckers = new AtomicInteger();
    private volatile RoutingSnapshot snapshot;
    private volatile State state = State.NEW;
    private IoEventLoopGroup workerGroup;
    private Listeners listeners;
    private volatile List<InetSocketAddress> localAddresses;
    private volatile List<InetSocketAddress> udpLocalAddresses;
    private final List<UdpListener> udpListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger udpBackendChannels = new AtomicInteger();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();

    /**
     * Creates a stopped engine.
     *
     * @param config the validated settings
     * @param routes the initial routing table, validated against the protocols
     */
    public Engine(EngineConfig config, RoutingTable routes) {
        this(config, routes, transports -> new BootstrapDialer(transports, WATER_MARK));
    }

    /**
     * Creates a stopped engine with its own dialer of backend channels; a seam for tests.
     *
     * @param config the validated settings
     * @param routes the initial routing table, validated against the protocols
     * @param dialers creates the dialer from the transport the engine chose
     */
    public Engine(EngineConfig config, RoutingTable routes, Function<Transports, Dialer> dialers) {
        this.config = config;
        this.metrics = config.metrics();
        this.hasMetrics = config.hasMetrics();
        this.hooks = new HookDispatcher(config.hooks(), config.hookSettings());
        this.ownsGroups = config.workerGroup() == null;
        this.transports = ownsGroups ? Transports.choose(config.transport(), config.splice())
                : Transports.of(config.workerGroup());
        this.peekBudget = new PeekBudget(config.maxPeekMemoryBytes());
        this.admission = new AdmissionControl(config.admission());
        this.resolver = new BackendResolver(transports, config.dnsServers(), config.dnsMinTtl(), config.dnsMaxTtl());
        this.shaping = config.bandwidth().isUnlimited() ? BandwidthShaping.NONE
                : new BandwidthShaping(config.bandwidth(), config.admission().ipv6PrefixLength());
        this.path = new ConnectionPath(config, hooks, dialers.apply(transports), peekBudget, new Gate(), shaping);
        this.snapshot = newSnapshot(routes, null);
    }

    public EngineConfig config() {
        return config;
    }

    public RoutingTable routes() {
        return snapshot.table();
    }

    public boolean isRunning() {
        return state == State.RUNNING;
    }

    /** Returns how many connections have been relayed with {@code splice(2)}. */
    public long splicedConnections() {
        return splicedConnections.get();
    }

    /** Returns the transport the event loops run on: the one chosen, or the one of the groups passed in. */
    public IoTransport transport() {
        return transports.kind();
    }

    public int activeConnections() {
        return connections.size();
    }

    /** Returns how many connections were refused at accept or at the PROXY header stage, by reason. */
    public Map<RefusalReason, Long> refusals() {
        return admission.refusals();
    }

    /** Returns the admission state (counts and buckets); for tests and metrics. */
    public AdmissionControl admission() {
        return admission;
    }

    /** Returns the bandwidth shaping (shared shapers and running traffic counters); for tests and metrics. */
    public BandwidthShaping shaping() {
        return shaping;
    }

    /** Returns the totals of each tap. */
    public List<TapStatus> taps() {
        return hooks.inspection().tapStatus();
    }

    /** Returns how many tap threads are running. */
    public int runningTaps() {
        return hooks.inspection().runningTaps();
    }

    /** Returns the bytes held in peek buffers now. */
    public long peekMemoryBytes() {
        return peekBudget.held();
    }

    public List<InetSocketAddress> localAddresses() {
        List<InetSocketAddress> l = localAddresses;
        if (l == null) {
            throw new IllegalStateException("not started: call start() first");
        }
        return l;
    }

    /** Returns the bound UDP listen addresses, in the order configured. */
    public List<InetSocketAddress> udpLocalAddresses() {
        List<InetSocketAddress> l = udpLocalAddresses;
        if (l == null) {
            throw new IllegalStateException("not started: call start() first");
        }
        return l;
    }

    /** Returns the UDP flows in the tables of all UDP listeners now. */
    public int udpFlows() {
        int n = 0;
        for (UdpListener l : udpListeners) {
            n += l.flows();
        }
        return n;
    }

    /** Returns the UDP flows in detection now. */
    public int udpFlowsInDetection() {
        int n = 0;
        for (UdpListener l : udpListeners) {
            n += l.flowsInDetection();
        }
        return n;
    }

    /** Returns the open backend channels of UDP flows. */
    public int udpBackendChannels() {
        return udpBackendChannels.get();
    }

    /** Returns the datagrams the UDP listeners dropped, by reason, summed over listeners. */
    public Map<UdpListener.Drop, Long> udpDrops() {
        Map<UdpListener.Drop, Long> m = new java.util.EnumMap<>(UdpListener.Drop.class);
        for (UdpListener.Drop d : UdpListener.Drop.values()) {
            m.put(d, 0L);
        }
        for (UdpListener l : udpListeners) {
            l.drops().forEach((k, v) -> m.merge(k, v, Long::sum));
        }
        return m;
    }

    /** Binds the listeners; idempotent while running. */
    public synchronized void start() {
        if (state == State.RUNNING) {
            return;
        }
        if (state == State.CLOSED) {
            throw new IllegalStateException("closed: a closed Refractium cannot be started again");
        }
        IoEventLoopGroup bossGroup;
        if (ownsGroups) {
            workerGroup = transports.newGroup(config.workerThreads(), "refractium");
            bossGroup = workerGroup;
        } else {
            bossGroup = config.bossGroup();
            workerGroup = config.workerGroup();
        }
        listeners = new Listeners(transports, bossGroup, workerGroup, ownsGroups, config.workerThreads(), WATER_MARK,
                this::accept);
        List<InetSocketAddress> bound = new ArrayList<>();
        List<InetSocketAddress> udpBound = new ArrayList<>();
        try {
            for (InetSocketAddress address : config.listenAddresses()) {
                bound.add(listeners.bind(address));
            }
            UdpListener.Services services = udpServices();
            for (InetSocketAddress address : config.udp().listenAddresses()) {
                UdpListener l = UdpListener.bind(services, config.udp(), (io.netty.channel.EventLoop) workerGroup.next(),
                        address, udpBackendChannels);
                udpListeners.add(l);
                udpBound.add(l.localAddress());
            }
        } catch (RuntimeException e) {
            closeUdp();
            listeners.close();
            shutdownGroups();
            state = State.CLOSED;
            closeFuture.complete(null);
            throw e;
        }
        localAddresses = List.copyOf(bound);
        udpLocalAddresses = List.copyOf(udpBound);
        hooks.inspection().start();
        state = State.RUNNING;
        for (TargetRuntime rt : snapshot.runtimes().values()) {
            rt.start(workerGroup, transports, liveCheckers, resolver);
        }
        log.info("listening on {}{} ({}{})", localAddresses, udpBound.isEmpty() ? "" : " and udp " + udpBound,
                transports.kind().name().toLowerCase(java.util.Locale.ROOT),
                transports.epoll() && config.splice() ? ", splice" : "");
    }

    private UdpListener.Services udpServices() {
        return new UdpListener.Services() {
            @Override
            public ConnectionPath path() {
                return path;
            }

            @Override
            public Transports transports() {
                return transports;
            }

            @Override
            public RoutingSnapshot snapshot() {
                return snapshot;
            }

            @Override
            public long nextId() {
                return IDS.incrementAndGet();
            }

            @Override
            public ConnectionState.Listener connections() {
                return Engine.this;
            }

            @Override
            public void refused(RefusalReason reason, String limit, InetSocketAddress client,
                                InetSocketAddress listener) {
                Refusal refusal = admission.refuse(reason, limit);
                if (log.isDebugEnabled()) {
                    log.debug("refused udp flow {}: {} ({})", client, reason, limit);
                }
                Engine.this.refused(client, listener, refusal);
            }
        };
    }

    /** Closes the UDP listeners and their flows. */
    private void closeUdp() {
        for (UdpListener l : udpListeners) {
            try {
                l.close();
            } catch (RuntimeException e) {
                log.warn("closing {} failed: {}", l, e.toString());
            }
        }
    }

    /**
     * Binds one more listen address while running; the others keep accepting.
     *
     * @param address the address to bind; port 0 picks a free port
     * @return the bound address with its real port
     * @throws IllegalStateException when not running
     * @throws IllegalArgumentException when the address is already bound by this instance
     * @throws java.io.UncheckedIOException naming the address when the bind fails
     */
    public synchronized InetSocketAddress addListener(InetSocketAddress address) {
        if (state != State.RUNNING) {
            throw new IllegalStateException("not running: addListener needs a started instance");
        }
        if (address.getPort() != 0 && localAddresses.contains(address)) {
            throw new IllegalArgumentException("addListener: " + address + " (expected: an address not bound yet)");
        }
        InetSocketAddress bound = listeners.bind(address);
        List<InetSocketAddress> next = new ArrayList<>(localAddresses);
        next.add(bound);
        localAddresses = List.copyOf(next);
        log.info("listening on {} too", bound);
        return bound;
    }

    /**
     * Closes one listen address while running; connections it accepted carry on, the other listeners keep
     * accepting.
     *
     * @param bound the bound address, as {@link #localAddresses()} reports it
     * @return whether it was bound
     */
    public synchronized boolean removeListener(InetSocketAddress bound) {
        if (state != State.RUNNING || !localAddresses.contains(bound)) {
            return false;
        }
        listeners.unbind(bound);
        List<InetSocketAddress> next = new ArrayList<>(localAddresses);
        next.remove(bound);
        localAddresses = List.copyOf(next);
        log.info("stopped listening on {}", bound);
        return true;
    }

    /**
     * Admits an accepted channel and builds its pipeline. Admission runs first, before any handler or state is
     * created, so that a refused connection costs almost nothing: the peek memory check, then the
     * {@link AdmissionControl} limits; a refused channel is closed at once (reset with {@code SO_LINGER} 0 when
     * configured), counted and reported to {@link Hook#onRefused}. An admitted connection gives back its detection
     * slot when the detect stage leaves the pipeline and its other slots when the client channel closes. A PROXY
     * protocol decoder, when a listener accepts one, goes in front of the detect stage.
     *
     * <p>A connection from a trusted source on such a listener is admitted in two steps: here only the caps that do
     * not depend on the client's address (peek memory, in detection, instance, listener); the lists, the rate token
     * and the per-address cap once the header stage knows the real client ({@link Gate#admitClient}), so that the
     * balancer's own address is never counted per address. Any other connection (no PROXY on the listener, or an
     * untrusted source, which is refused if it sends a header) is checked here in full against its socket address.
     */
    private void accept(SocketChannel ch) {
        if (state != State.RUNNING) {
            ch.close();
            return;
        }
        InetSocketAddress client = ch.remoteAddress();
        Object listener = ch.parent() == null ? null : ch.parent().localAddress();
        if (peekBudget.isExhausted()) {
            long n = refusedOverBudget.incrementAndGet();
            if ((n & (n - 1)) == 0) {
                log.warn("peek memory limit reached ({} of {} bytes held by connections in detection): refusing new "
                        + "connections ({} so far)", peekBudget.held(), peekBudget.limit(), n);
            }
            refuse(ch, client, admission.refuse(RefusalReason.PEEK_MEMORY,
                    "maxPeekMemoryBytes=" + peekBudget.limit()));
            return;
        }
        ProxyAcceptance proxy = config.proxyProtocol().forListener(ch.localAddress());
        Ticket ticket = proxy != null && proxy.isTrusted(client.getAddress())
                ? admission.admitPendingAddress(listener)
                : admission.admit(client.getAddress(), listener);
        if (ticket.isRefused()) {
            refuse(ch, client, ticket.refusal());
            return;
        }
        CountingRecvByteBufAllocator counter = new CountingRecvByteBufAllocator();
        ch.config().setRecvByteBufAllocator(counter);
        ConnectionState conn = new ConnectionState(IDS.incrementAndGet(), ch, client, ch.localAddress(),
                snapshot, counter, this);
        conn.ticket(ticket);
        connections.add(conn);
        if (hasMetrics) {
            metrics.connectionAccepted(conn.localAddress());
        }
        if (ticket.holdsDetectionSlot()) {
            conn.onDetectionEnd(ticket::endDetection);
        }
        ch.closeFuture().addListener((ChannelFutureListener) f -> {
            ticket.release();
            conn.channelClosed();
        });
        ch.pipeline().addLast("detect", new DetectHandler(path, conn));
    }

    /** Closes a refused channel at once (with an RST when configured) and tells the hooks. */
    private void refuse(SocketChannel ch, InetSocketAddress client, Refusal refusal) {
        resetOnClose(ch, client);
        ch.close();
        if (log.isDebugEnabled()) {
            log.debug("refused {}: {} ({})", client, refusal.reason(), refusal.limit());
        }
        refused(client, ch.localAddress(), refusal);
    }

    /** Makes the channel's close send a reset ({@code SO_LINGER} 0) when refused connections are to be reset. */
    private void resetOnClose(io.netty.channel.Channel ch, InetSocketAddress client) {
        if (config.admission().rejectWithRst()) {
            try {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                log.debug("SO_LINGER 0 on a refused connection from {} failed: {}", client, e.toString());
            }
        }
    }

    /** Tells the shared hooks that a connection was refused. */
    private void refused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
        if (hasMetrics) {
            metrics.connectionRefused(listener, refusal.reason());
        }
        notifyRefused(client, listener, refusal);
    }

    private void notifyRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
        if (!hooks.isEmpty()) {
            for (Hook h : config.hooks()) {
                try {
                    h.onRefused(client, listener, refusal);
                } catch (Throwable t) {
                    log.warn("hook {}.onRefused threw; ignoring it: {}", h.getClass().getName(), t.toString(), t);
                }
            }
        }
    }

    /**
     * The admission of the PROXY header stage: the per-address checks left for later at accept, against the client
     * address the header gave (or the socket's, when none came or it named none), and the stage's refusals, which
     * are counted with the accept-time ones, closed like them (reset when configured) and reported to
     * {@link Hook#onRefused} with the connection's client address.
     */
    private final class Gate implements ProxyGate {

        @Override
        public Refusal admitClient(ConnectionState conn) {
            Ticket t = conn.ticket();
            return t == null ? null : t.admitAddress(conn.clientAddress().getAddress());
        }

        @Override
        public Refusal refusal(RefusalReason reason, String limit) {
            return admission.refuse(reason, limit);
        }

        @Override
        public void refuse(ConnectionState conn, Refusal refusal) {
            InetSocketAddress client = conn.clientAddress();
            conn.detail(refusal.reason() + " (" + refusal.limit() + ")");
            resetOnClose(conn.client(), client);
            conn.close(CloseReason.REFUSED);
            if (log.isDebugEnabled()) {
                log.debug("[{}] refused {} (via {}): {} ({})", conn.id(), client, conn.socketAddress(),
                        refusal.reason(), refusal.limit());
            }
            refused(client, conn.localAddress(), refusal);
        }
    }

    @Override
    public void finished(ConnectionState conn, ConnectionSummary summary) {
        if (log.isDebugEnabled()) {
            log.debug("[{}] closed: {} in={} out={} {} ms", conn.id(), summary.reason(), summary.bytesFromClient(),
                    summary.bytesToClient(), summary.duration().toMillis());
        }
        if (hasMetrics) {
            metrics.connectionClosed(conn, summary);
        }
        hooks.closed(conn, summary);
        // Last: once a connection no longer counts as open, its end has been reported everywhere.
        connections.remove(conn);
    }

    @Override
    public void spliced(ConnectionState conn) {
        splicedConnections.incrementAndGet();
        if (hasMetrics) {
            metrics.spliced(conn);
        }
    }

    // ---------------------------------------------------------------- routing

    /**
     * Installs a new routing table. Unchanged targets keep their runtime; backends that stay in a changed target
     * keep their health; checks of removed targets stop and checks of new ones start.
     */
    public synchronized void updateRoutes(RoutingTable table) {
        config.protocols().checkRoutes(table);
        io.refractium.internal.route.Router.checkSilence(table, config.peekTimeout(), config.silenceTimeout());
        RoutingSnapshot old = snapshot;
        RoutingSnapshot next = newSnapshot(table, old);
        snapshot = next;
        Set<TargetRuntime> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(next.runtimes().values());
        for (TargetRuntime rt : old.runtimes().values()) {
            if (!kept.contains(rt)) {
                rt.stop();
            }
        }
        if (state == State.RUNNING) {
            for (TargetRuntime rt : next.runtimes().values()) {
                rt.start(workerGroup, transports, liveCheckers, resolver);
            }
        }
        log.info("routing table replaced: {} routes", table.routes().size());
        if (hasMetrics) {
            metrics.routesUpdated(table);
        }
    }

    private RoutingSnapshot newSnapshot(RoutingTable table, RoutingSnapshot previous) {
        Map<ForwardTarget, TargetRuntime> runtimes = new HashMap<>();
        Map<String, TargetRuntime> previousByName = new HashMap<>();
        if (previous != null) {
            for (TargetRuntime rt : previous.runtimes().values()) {
                previousByName.put(rt.target().name(), rt);
            }
        }
        for (ForwardTarget t : table.targets().values()) {
            TargetRuntime rt = previous == null ? null : previous.runtimes().get(t);
            runtimes.put(t, rt != null ? rt : new TargetRuntime(t, previousByName.get(t.name()), this::healthChanged));
        }
        return new RoutingSnapshot(table, Map.copyOf(runtimes));
    }

    private void healthChanged(HealthChange change) {
        log.info("target {} backend {}: {} -> {} ({})", change.target().name(), change.backend().hostAndPort(),
                change.previous(), change.current(), change.reason());
        if (hasMetrics) {
            metrics.healthChanged(change);
        }
        hooks.healthChanged(change);
    }

    /** Returns the state of every target of the table in use. */
    public List<TargetStatus> targets() {
        RoutingSnapshot s = snapshot;
        List<TargetStatus> list = new ArrayList<>();
        for (ForwardTarget t : s.table().targets().values()) {
            list.add(s.runtimes().get(t).status());
        }
        return List.copyOf(list);
    }

    /** Returns the number of backends whose active health check loop is running. */
    public int liveHealthCheckers() {
        return liveCheckers.get();
    }

    // ---------------------------------------------------------------- admin

    /**
     * Sets what an operator wants of a backend of a target of the table in use: {@code DRAINING} and
     * {@code DISABLED} take it out of load balancing for new connections; {@code DISABLED} also closes its open
     * connections (each on its event loop, with {@link CloseReason#BACKEND_DISABLED}); {@code ENABLED} puts it back.
     *
     * @return the target's state after the change
     * @throws IllegalArgumentException naming the target or the backend when the table has no such one
     */
    public TargetStatus admin(String targetName, String hostAndPort, BackendStatus.Admin admin) {
        RoutingSnapshot s = snapshot;
        ForwardTarget target = s.table().targets().get(targetName);
        if (target == null) {
            throw new IllegalArgumentException("target: \"" + targetName + "\" (expected: one of "
                    + s.table().targets().keySet() + ")");
        }
        TargetRuntime rt = s.runtimes().get(target);
        String key;
        try {
            key = Backend.parse(hostAndPort).hostAndPort();
        } catch (IllegalArgumentException e) {
            key = hostAndPort;
        }
        List<BackendState> changed = rt.admin(key, admin);
        if (changed == null) {
            List<String> known = new ArrayList<>();
            for (BackendStatus b : rt.status().backends()) {
                known.add(b.backend().hostAndPort());
            }
            for (Backend b : target.backends()) {
                if (!known.contains(b.hostAndPort())) {
                    known.add(b.hostAndPort());
                }
            }
            throw new IllegalArgumentException("backend: \"" + hostAndPort + "\" (expected: a backend of target "
                    + targetName + ", one of " + known + ")");
        }
        log.info("target {} backend {}: {}", targetName, key, admin);
        if (admin == BackendStatus.Admin.DISABLED && !changed.isEmpty()) {
            for (ConnectionState c : connections) {
                try {
                    c.client().eventLoop().execute(() -> closeIfOn(c, changed));
                } catch (RejectedExecutionException e) {
                    // the loop is shutting down: the connection closes with it
                }
            }
        }
        return rt.status();
    }

    private static void closeIfOn(ConnectionState c, List<BackendState> disabled) {
        BackendState b = c.backendState();
        if (b == null || c.isFinished()) {
            return;
        }
        for (BackendState d : disabled) {
            if (d.isSameBackend(b) && d.admin() == BackendStatus.Admin.DISABLED) {
                log.debug("[{}] backend {} disabled: closing", c.id(), b.backend().hostAndPort());
                c.close(CloseReason.BACKEND_DISABLED);
                return;
            }
        }
    }

    /**
     * Returns snapshots of the open connections, taken on their event loops, sorted by id; completes once every
     * loop has answered (at once when none is open).
     */
    public CompletableFuture<List<ConnectionSnapshot>> connections() {
        Map<EventExecutor, List<ConnectionState>> byLoop = new IdentityHashMap<>();
        for (ConnectionState c : connections) {
            byLoop.computeIfAbsent(c.client().eventLoop(), l -> new ArrayList<>()).add(c);
        }
        List<CompletableFuture<List<ConnectionSnapshot>>> parts = new ArrayList<>(byLoop.size());
        for (Map.Entry<EventExecutor, List<ConnectionState>> e : byLoop.entrySet()) {
            CompletableFuture<List<ConnectionSnapshot>> part = new CompletableFuture<>();
            parts.add(part);
            List<ConnectionState> list = e.getValue();
            Runnable take = () -> {
                List<ConnectionSnapshot> out = new ArrayList<>(list.size());
                for (ConnectionState c : list) {
                    if (!c.isFinished()) {
                        out.add(c.toSnapshot());
                    }
                }
                part.complete(out);
            };
            try {
                e.getKey().execute(take);
            } catch (RejectedExecutionException ex) {
                part.complete(List.of()); // the loop is shutting down, and its connections with it
            }
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<ConnectionSnapshot> all = new ArrayList<>();
            for (CompletableFuture<List<ConnectionSnapshot>> p : parts) {
                all.addAll(p.join());
            }
            all.sort(Comparator.comparingLong(ConnectionSnapshot::id));
            return Collections.unmodifiableList(all);
        });
    }

    // ---------------------------------------------------------------- lifecycle

    /** Returns a future completed when {@link #close()} has finished. */
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    /** Stops accepting, drains for the grace period, closes the rest; idempotent and blocking. */
    public void close() {
        checkNotOnEventLoop("close()");
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            boolean wasRunning = state == State.RUNNING;
            state = State.CLOSED;
            if (!wasRunning) {
                closeFuture.complete(null);
                return;
            }
        }
        listeners.close();
        closeUdp();
        synchronized (this) {
            for (TargetRuntime rt : snapshot.runtimes().values()) {
                rt.stop();
            }
        }
        long deadline = System.nanoTime() + config.shutdownGracePeriod().toNanos();
        resolver.close();
        awaitNoConnections(deadline);
        if (!connections.isEmpty()) {
            log.info("grace period over: closing {} open connections", connections.size());
            for (ConnectionState c : connections) {
                c.eventLoop().execute(() -> c.close(CloseReason.SHUTDOWN));
            }
            awaitNoConnections(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        }
        shutdownGroups();
        hooks.inspection().stop();
        log.info("closed");
        closeFuture.complete(null);
    }

    /**
     * Throws when called on one of the instance's event loops, where a blocking call would stop the connections it
     * waits for.
     *
     * @param what the blocking call, for the message
     */
    public void checkNotOnEventLoop(String what) {
        IoEventLoopGroup group = workerGroup;
        if (group != null) {
            for (EventExecutor e : group) {
                if (e.inEventLoop()) {
                    throw new IllegalStateException(what + " blocks until connections drain and cannot run on one of "
                            + "Refractium's event loops (for example inside a hook); call it from another thread");
                }
            }
        }
    }

    /** Waits until every connection has finished or the deadline passes, polling briefly. */
    private void awaitNoConnections(long deadlineNanos) {
        while (!connections.isEmpty()) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return;
            }
            try {
                Thread.sleep(Math.max(1, Math.min(20, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void shutdownGroups() {
        if (ownsGroups && workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
