package io.refractium.internal.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.hook.CloseReason;
import io.refractium.TargetStatus;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.HealthChange;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running engine behind a {@code Refractium}: listeners, event loops, the routing snapshot, the open
 * connections, and the lifecycle.
 */
public final class Engine {

    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final AtomicLong IDS = new AtomicLong();
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private enum State { NEW, RUNNING, CLOSED }

    private final EngineConfig config;
    private final HookDispatcher hooks;
    private final Transports transports;
    private final boolean ownsGroups;
    private final Set<ConnectionState> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong splicedConnections = new AtomicLong();
    private final AtomicInteger liveCheckers = new AtomicInteger();
    private final Map<EventLoop, Bootstrap> backendBootstraps = new ConcurrentHashMap<>();
    private final Cache<ForwardTarget, TargetRuntime> reroutes = Caffeine.newBuilder().maximumSize(1024).build();
    private volatile RoutingSnapshot snapshot;
    private volatile State state = State.NEW;
    private IoEventLoopGroup bossGroup;
    private IoEventLoopGroup workerGroup;
    private final List<Channel> serverChannels = new ArrayList<>();
    private volatile List<InetSocketAddress> localAddresses;

    /**
     * Creates a stopped engine.
     *
     * @param config the validated settings
     * @param routes the initial routing table, validated against the protocols
     */
    public Engine(EngineConfig config, RoutingTable routes) {
        this.config = config;
        this.hooks = new HookDispatcher(config.hooks());
        this.ownsGroups = config.workerGroup() == null;
        this.transports = ownsGroups ? Transports.choose(config.nativeTransport()) : Transports.of(config.workerGroup());
        this.snapshot = newSnapshot(routes, null);
    }

    public EngineConfig config() {
        return config;
    }

    HookDispatcher hooks() {
        return hooks;
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

    void spliced() {
        splicedConnections.incrementAndGet();
    }

    public int activeConnections() {
        return connections.size();
    }

    public List<InetSocketAddress> localAddresses() {
        List<InetSocketAddress> l = localAddresses;
        if (l == null) {
            throw new IllegalStateException("not started: call start() first");
        }
        return l;
    }

    /** Binds the listeners; idempotent while running. */
    public synchronized void start() {
        if (state == State.RUNNING) {
            return;
        }
        if (state == State.CLOSED) {
            throw new IllegalStateException("closed: a closed Refractium cannot be started again");
        }
        if (ownsGroups) {
            workerGroup = transports.newGroup(config.workerThreads(), "refractium");
            bossGroup = workerGroup;
        } else {
            bossGroup = config.bossGroup();
            workerGroup = config.workerGroup();
        }
        List<InetSocketAddress> bound = new ArrayList<>();
        try {
            for (InetSocketAddress address : config.listenAddresses()) {
                bound.add(bind(address));
            }
        } catch (RuntimeException e) {
            closeServerChannels();
            shutdownGroups();
            state = State.CLOSED;
            throw e;
        }
        localAddresses = List.copyOf(bound);
        state = State.RUNNING;
        for (TargetRuntime rt : snapshot.runtimes().values()) {
            rt.start(workerGroup, transports, liveCheckers);
        }
        log.info("listening on {} ({}{})", localAddresses, transports.epoll() ? "epoll" : "nio",
                transports.epoll() && config.splice() ? ", splice" : "");
    }

    // TCP_NODELAY is not set here: Netty's socket channels enable it by default, and setting it again costs a
    // setsockopt per socket.
    private InetSocketAddress bind(InetSocketAddress address) {
        // With epoll, one listener per event loop shares the port through SO_REUSEPORT, so every loop accepts.
        int listeners = transports.epoll() && ownsGroups ? config.workerThreads() : 1;
        if (listeners > 1 && address.getPort() != 0) {
            // SO_REUSEPORT would let this instance silently share a port another process already listens on.
            ensureFree(address);
        }
        InetSocketAddress actual = null;
        for (int i = 0; i < listeners; i++) {
            ServerBootstrap sb = new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(transports.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            accept(ch);
                        }
                    });
            if (transports.epoll()) {
                sb.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
                if (listeners > 1) {
                    sb.option(EpollChannelOption.SO_REUSEPORT, true);
                }
            }
            InetSocketAddress bindTo = actual == null ? address : actual;
            ChannelFuture f = sb.bind(bindTo).awaitUninterruptibly();
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                String msg = "listen " + bindTo + ": bind failed: " + cause.getMessage();
                throw new UncheckedIOException(msg, cause instanceof java.io.IOException
                        ? (java.io.IOException) cause : new BindException(cause.toString()));
            }
            serverChannels.add(f.channel());
            actual = (InetSocketAddress) f.channel().localAddress();
        }
        return actual;
    }

    private static void ensureFree(InetSocketAddress address) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.bind(address, 1);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException("listen " + address + ": bind failed: " + e.getMessage(), e);
        }
    }

    private void accept(SocketChannel ch) {
        if (state != State.RUNNING) {
            ch.close();
            return;
        }
        CountingRecvByteBufAllocator counter = new CountingRecvByteBufAllocator();
        ch.config().setRecvByteBufAllocator(counter);
        ConnectionState conn = new ConnectionState(IDS.incrementAndGet(), ch, this, snapshot, counter);
        connections.add(conn);
        ch.closeFuture().addListener((ChannelFutureListener) f -> conn.channelClosed());
        ch.pipeline().addLast("frontend", new FrontendHandler(this, conn));
    }

    /**
     * Opens a backend connection on the client's event loop. The channel is registered from a bootstrap kept per
     * event loop, given its own counter and timeout, then connected; an unresolved (named) address is resolved
     * first, on the event loop, like Netty's default resolver does.
     */
    ChannelFuture connectBackend(EventLoop loop, InetSocketAddress address, CountingRecvByteBufAllocator counter,
                                int connectTimeoutMillis) {
        ChannelFuture registered = backendBootstraps.computeIfAbsent(loop, this::newBackendBootstrap).register();
        Channel ch = registered.channel();
        if (registered.isDone() && !registered.isSuccess()) {
            return registered;
        }
        ch.config().setRecvByteBufAllocator(counter);
        ch.config().setConnectTimeoutMillis(Math.max(1, connectTimeoutMillis));
        ChannelPromise connected = ch.newPromise();
        registered.addListener((ChannelFutureListener) r -> {
            if (!r.isSuccess()) {
                connected.setFailure(r.cause());
            } else if (address.isUnresolved()) {
                DefaultAddressResolverGroup.INSTANCE.getResolver(loop).resolve(address).addListener(resolved -> {
                    if (resolved.isSuccess()) {
                        ch.connect((InetSocketAddress) resolved.getNow(), connected);
                    } else {
                        ch.close();
                        connected.setFailure(resolved.cause());
                    }
                });
            } else {
                ch.connect(address, connected);
            }
        });
        return connected;
    }

    private Bootstrap newBackendBootstrap(EventLoop loop) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transports.socketChannel())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(NoopInitializer.INSTANCE);
        if (transports.epoll()) {
            b.option(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return b;
    }

    /** The backend pipeline starts empty; the relay adds its handler once the connection is up. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class NoopInitializer extends ChannelInitializer<Channel> {
        static final NoopInitializer INSTANCE = new NoopInitializer();

        @Override
        protected void initChannel(Channel ch) {
            // nothing to add
        }
    }

    void connectionFinished(ConnectionState conn, ConnectionSummary summary) {
        connections.remove(conn);
        if (log.isDebugEnabled()) {
            log.debug("[{}] closed: {} in={} out={} {} ms", conn.id, summary.reason(), summary.bytesFromClient(),
                    summary.bytesToClient(), summary.duration().toMillis());
        }
        hooks.closed(conn, summary);
    }

    // ---------------------------------------------------------------- routing

    /**
     * Installs a new routing table. Unchanged targets keep their runtime; backends that stay in a changed target
     * keep their health; checks of removed targets stop and checks of new ones start.
     */
    public synchronized void updateRoutes(RoutingTable table) {
        config.protocols().checkRoutes(table);
        RoutingSnapshot old = snapshot;
        RoutingSnapshot next = newSnapshot(table, old);
        snapshot = next;
        Set<TargetRuntime> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        kept.addAll(next.runtimes().values());
        for (TargetRuntime rt : old.runtimes().values()) {
            if (!kept.contains(rt)) {
                rt.stop();
            }
        }
        if (state == State.RUNNING) {
            for (TargetRuntime rt : next.runtimes().values()) {
                rt.start(workerGroup, transports, liveCheckers);
            }
        }
        log.info("routing table replaced: {} routes", table.routes().size());
    }

    private RoutingSnapshot newSnapshot(RoutingTable table, RoutingSnapshot previous) {
        Map<ForwardTarget, TargetRuntime> runtimes = new HashMap<>();
        Map<String, TargetRuntime> previousByName = new HashMap<>();
        if (previous != null) {
            for (TargetRuntime rt : previous.runtimes().values()) {
                previousByName.put(rt.target.name(), rt);
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

    /** Returns the runtime of a target of the snapshot, or of a target a hook rerouted to. */
    TargetRuntime runtime(RoutingSnapshot s, ForwardTarget target) {
        TargetRuntime rt = s.runtimes().get(target);
        if (rt == null) {
            rt = snapshot.runtimes().get(target);
        }
        return rt != null ? rt : reroutes.get(target, t -> new TargetRuntime(t, null, this::healthChanged));
    }

    // ---------------------------------------------------------------- lifecycle

    /** Stops accepting, drains for the grace period, closes the rest; idempotent and blocking. */
    public void close() {
        IoEventLoopGroup group = workerGroup;
        if (group != null) {
            for (io.netty.util.concurrent.EventExecutor e : group) {
                if (e.inEventLoop()) {
                    throw new IllegalStateException("close() blocks until connections drain and cannot run on one of "
                            + "Refractium's event loops (for example inside a hook); call it from another thread");
                }
            }
        }
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            boolean wasRunning = state == State.RUNNING;
            state = State.CLOSED;
            if (!wasRunning) {
                return;
            }
        }
        closeServerChannels();
        synchronized (this) {
            for (TargetRuntime rt : snapshot.runtimes().values()) {
                rt.stop();
            }
        }
        long deadline = System.nanoTime() + config.shutdownGracePeriod().toNanos();
        while (!connections.isEmpty() && System.nanoTime() < deadline) {
            sleep(Math.min(50, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
        }
        if (!connections.isEmpty()) {
            log.info("grace period over: closing {} open connections", connections.size());
            CountDownLatch done = new CountDownLatch(connections.size());
            for (ConnectionState c : connections) {
                c.client.eventLoop().execute(() -> {
                    c.close(CloseReason.SHUTDOWN);
                    done.countDown();
                });
            }
            try {
                done.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!connections.isEmpty() && System.nanoTime() < until) {
                sleep(5);
            }
        }
        shutdownGroups();
        log.info("closed");
    }

    private void closeServerChannels() {
        for (Channel c : serverChannels) {
            c.close().awaitUninterruptibly();
        }
        serverChannels.clear();
    }

    private void shutdownGroups() {
        if (ownsGroups && workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
