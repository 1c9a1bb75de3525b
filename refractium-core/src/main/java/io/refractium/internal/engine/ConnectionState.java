package io.refractium.internal.engine;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Ticker;
import io.refractium.ConnectionSnapshot;
import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.Hook;
import io.refractium.hook.HookAttributeKey;
import io.refractium.hook.ProxyInfo;
import io.refractium.internal.admit.Ticket;
import io.refractium.internal.detect.DetectionSession;
import io.refractium.internal.health.BackendState;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One client connection's state from accept to close, filled in by each stage of the path (detect, route, connect,
 * relay). Mutated only on the connection's event loop; the hook view ({@link ConnectionInfo}) is read there too.
 * Time comes from the event loop's {@link Ticker}, so an {@code EmbeddedChannel} test drives it.
 *
 * <p>A UDP flow is a connection too: its client side is a {@link Flow} (an entry of a listener's flow table) instead
 * of a channel, and its backend is the flow's connected datagram channel.
 */
public final class ConnectionState implements ConnectionInfo {

    /** The client side of a connection that has no channel of its own: a UDP flow of a listening socket. */
    public interface Flow {
        /** Returns whether the flow is still in its listener's table. */
        boolean isOpen();

        /** Removes the flow from its listener's table; idempotent. */
        void close();

        /** Runs the action on the flow's event loop once the flow is closed (at once when it already is). */
        void onClose(Runnable action);
    }

    /** Told when a connection ends and when it first splices. */
    public interface Listener {
        /** The connection's channels are all closed; called once, on its event loop. */
        void finished(ConnectionState conn, ConnectionSummary summary);

        /** A direction of the connection switched to {@code splice(2)}; called at most once per connection. */
        void spliced(ConnectionState conn);
    }

    private final long id;
    private final Channel client;
    private final Flow flow;
    private final EventLoop loop;
    private final Listener listener;
    private final RoutingSnapshot snapshot;
    private final CountingRecvByteBufAllocator clientCounter;
    private final InetSocketAddress socketAddress;
    private InetSocketAddress clientAddress;
    private ProxyInfo proxyHeader;
    private Ticket ticket;
    private final InetSocketAddress localAddress;
    private final Ticker ticker;
    private final Instant acceptedAt = Instant.now();
    private final long acceptedNanos;

    private String protocol;
    private ProtocolAttributes attributes = ProtocolAttributes.EMPTY;
    private Route route;
    private DetectionFailure detectionFailure;
    private ForwardTarget target;
    private DetectionSession detection;

    private Channel backend;
    /** The backend of the current or last connect attempt; its admin state may close the connection. */
    private BackendState backendState;
    private CountingRecvByteBufAllocator backendCounter;
    private InetSocketAddress backendAddress;
    private boolean backendConnected;
    private boolean spliced;

    private CloseReason reason;
    private String detail;
    private boolean finished;
    private Runnable detectionEnd;
    /** Told the summary when the connection ends, before the listener; or {@code null}. */
    private Consumer<ConnectionSummary> onFinished;
    /** Set while the detect stage may still tell the hooks about the connection: the end waits for it. */
    private boolean holdEnd;

    /** The connection's hooks (the shared ones, then the factories'), or {@code null} before admission. */
    private Hook[] hooks;
    /** How many of {@link #hooks} were asked {@code onAccepted}: only those hear of the connection later. */
    private int startedHooks;
    /** The hooks' per-connection values, created on the first set; guarded by {@code this}. */
    private Map<HookAttributeKey<?>, Object> attrs;

    /**
     * Creates the state of a just accepted connection.
     *
     * @param id the connection id, unique per process
     * @param client the client channel
     * @param clientAddress the client's address
     * @param localAddress the listening address the client connected to
     * @param snapshot the routing snapshot the connection keeps for its whole life
     * @param clientCounter counts the bytes read from the client
     * @param listener told when the connection ends
     */
    public ConnectionState(long id, Channel client, InetSocketAddress clientAddress, InetSocketAddress localAddress,
                           RoutingSnapshot snapshot, CountingRecvByteBufAllocator clientCounter, Listener listener) {
        this(id, client, null, client.eventLoop(), clientAddress, localAddress, snapshot, clientCounter, listener);
    }

    /**
     * Creates the state of a new UDP flow.
     *
     * @param id the connection id, unique per process
     * @param flow the flow's entry in its listener's table
     * @param loop the listener's event loop, where the flow lives
     * @param clientAddress the client's address
     * @param localAddress the listening address the client sent to
     * @param snapshot the routing snapshot the flow keeps for its whole life
     * @param clientCounter counts the bytes received from the client
     * @param listener told when the flow ends
     */
    public ConnectionState(long id, Flow flow, EventLoop loop, InetSocketAddress clientAddress,
                           InetSocketAddress localAddress, RoutingSnapshot snapshot,
                           CountingRecvByteBufAllocator clientCounter, Listener listener) {
        this(id, null, flow, loop, clientAddress, localAddress, snapshot, clientCounter, listener);
    }

    private ConnectionState(long id, Channel client, Flow flow, EventLoop loop, InetSocketAddress clientAddress,
                            InetSocketAddress localAddress, RoutingSnapshot snapshot,
                            CountingRecvByteBufAllocator clientCounter, Listener listener) {
        this.id = id;
        this.client = client;
        this.flow = flow;
        this.loop = loop;
        this.socketAddress = clientAddress;
        this.clientAddress = clientAddress;
        this.localAddress = localAddress;
        this.snapshot = snapshot;
        this.clientCounter = clientCounter;
        this.listener = listener;
        this.ticker = loop.ticker();
        this.acceptedNanos = ticker.nanoTime();
    }

    @Override
    public long id() {
        return id;
    }

    /** Returns the client channel, or {@code null} for a UDP flow. */
    public Channel client() {
        return client;
    }

    /** Returns the UDP flow, or {@code null} for a TCP connection. */
    public Flow flow() {
        return flow;
    }

    /** Returns the event loop the connection (or flow) lives on. */
    public EventLoop eventLoop() {
        return loop;
    }

    /** Returns whether the client side is still there: the channel active, or the flow in its table. */
    public boolean isClientActive() {
        return client != null ? client.isActive() : flow.isOpen();
    }

    /** Runs the action on the event loop once the client side closes. */
    public void onClientClosed(Runnable action) {
        if (client != null) {
            client.closeFuture().addListener((ChannelFutureListener) f -> action.run());
        } else {
            flow.onClose(action);
        }
    }

    /** Returns the routing snapshot the connection started with. */
    public RoutingSnapshot snapshot() {
        return snapshot;
    }

    /** Returns the counter of bytes read from the client. */
    public CountingRecvByteBufAllocator clientCounter() {
        return clientCounter;
    }

    /** Returns the clock of the connection's event loop. */
    public Ticker ticker() {
        return ticker;
    }

    /** Returns nanoseconds since the connection was accepted, by the event loop's clock. */
    public long ageNanos() {
        return ticker.nanoTime() - acceptedNanos;
    }

    /**
     * Returns the real client's address: the one a trusted PROXY protocol header gave, else the socket's peer
     * address.
     */
    @Override
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    /** Records the real client's address, read from a PROXY protocol header before detection. */
    public void clientAddress(InetSocketAddress real) {
        this.clientAddress = java.util.Objects.requireNonNull(real, "real");
        DetectionSession d = detection;
        if (d != null) {
            d.remoteAddress(real);
        }
    }

    @Override
    public ProxyInfo proxyHeader() {
        return proxyHeader;
    }

    /** Records the PROXY protocol header the connection arrived with. */
    public void proxyHeader(ProxyInfo header) {
        this.proxyHeader = header;
    }

    /** Returns the connection's admission ticket, or {@code null} when none was recorded (tests). */
    public Ticket ticket() {
        return ticket;
    }

    /** Records the connection's admission ticket, whose per-address check may wait for a PROXY header. */
    public void ticket(Ticket ticket) {
        this.ticket = ticket;
    }

    /** Returns the socket's peer address: a proxy in front, when a PROXY protocol header came. */
    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public Instant acceptedAt() {
        return acceptedAt;
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public ProtocolAttributes attributes() {
        return attributes;
    }

    @Override
    public Route route() {
        return route;
    }

    @Override
    public DetectionFailure detectionFailure() {
        return detectionFailure;
    }

    @Override
    public ForwardTarget target() {
        return target;
    }

    @Override
    public DetectionReport detection() {
        DetectionSession d = detection;
        return d == null ? null : d.report();
    }

    /** Records the detection session, whose report {@link #detection()} returns once it is decided. */
    public void detection(DetectionSession session) {
        this.detection = session;
    }

    /** Sets what runs, once, when the connection leaves detection (admission gives back its detection slot). */
    public void onDetectionEnd(Runnable action) {
        this.detectionEnd = action;
    }

    /** Sets what is told the summary, once, when the connection ends (before the hooks' {@code onClosed}). */
    public void onFinished(Consumer<ConnectionSummary> action) {
        this.onFinished = action;
    }

    /** Called by the detect stage when it leaves the pipeline (decided, or the channel closed); runs once. */
    public void detectionEnded() {
        Runnable r = detectionEnd;
        if (r != null) {
            detectionEnd = null;
            r.run();
        }
    }

    /** Records the detected protocol and its attributes. */
    public void detected(String protocol, ProtocolAttributes attributes) {
        this.protocol = protocol;
        this.attributes = attributes;
    }

    /** Records why detection failed. */
    public void detectionFailure(DetectionFailure failure) {
        this.detectionFailure = failure;
    }

    /** Records the route that matched, or {@code null}. */
    public void route(Route route) {
        this.route = route;
    }

    /** Records the target the connection goes to. */
    public void target(ForwardTarget target) {
        this.target = target;
    }

    /** Returns the connection's hooks, or {@code null} before the hooks were asked about admission. */
    public Hook[] hooks() {
        return hooks;
    }

    /** Records the connection's hooks (see {@link HookDispatcher}). */
    public void hooks(Hook[] hooks) {
        this.hooks = hooks;
    }

    /** Returns how many of the connection's hooks, from the first, were asked {@code onAccepted}. */
    public int startedHooks() {
        return startedHooks;
    }

    /** Records how many of the connection's hooks, from the first, were asked {@code onAccepted}. */
    public void startedHooks(int n) {
        this.startedHooks = n;
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T> T attr(HookAttributeKey<T> key) {
        return attrs == null ? null : (T) attrs.get(key);
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T> T attr(HookAttributeKey<T> key, T value) {
        Objects.requireNonNull(key, "key");
        if (value == null) {
            return attrs == null ? null : (T) attrs.remove(key);
        }
        if (attrs == null) {
            attrs = new IdentityHashMap<>(4);
        }
        return (T) attrs.put(key, value);
    }

    /** Records why the connection ends, in words, if no detail was recorded yet. */
    public void detail(String d) {
        if (detail == null) {
            detail = d;
        }
    }

    /** Returns the backend channel of the current or last connect attempt, or {@code null}. */
    public Channel backend() {
        return backend;
    }

    /** Returns the backend of the current or last connect attempt, or {@code null}; read on the event loop. */
    public BackendState backendState() {
        return backendState;
    }

    /** Records the backend of a connect attempt. */
    public void backendState(BackendState state) {
        this.backendState = state;
    }

    /** Returns the counter of bytes read from the backend, or {@code null} before the first attempt. */
    public CountingRecvByteBufAllocator backendCounter() {
        return backendCounter;
    }

    /** Records a connect attempt: its channel, the channel's counter and the backend's configured address. */
    public void attempt(Channel channel, CountingRecvByteBufAllocator counter, InetSocketAddress address) {
        this.backend = channel;
        this.backendCounter = counter;
        this.backendAddress = address;
    }

    /** Records that the current attempt connected, to the given address. */
    public void backendConnected(InetSocketAddress address) {
        this.backendConnected = true;
        if (address != null) {
            this.backendAddress = address;
        }
    }

    /** Returns the backend's address: the connected one, else the configured one of the last attempt. */
    public InetSocketAddress backendAddress() {
        return backendAddress;
    }

    /** Reports, once per connection, that a direction switched to {@code splice(2)}. */
    public void spliced() {
        if (!spliced) {
            spliced = true;
            listener.spliced(this);
        }
    }

    /** Records why the connection ends, if no reason was recorded yet. */
    public void reason(CloseReason r) {
        if (reason == null) {
            reason = r;
        }
    }

    /** Records the reason (first one wins) and closes both sides at once. */
    public void close(CloseReason r) {
        reason(r);
        if (client != null) {
            client.close();
        } else {
            flow.close();
        }
        Channel b = backend;
        if (b != null) {
            b.close();
        }
    }

    /**
     * Called whenever one of the connection's channels closes (the client, or a backend attempt); reports the end
     * once the client and the current backend channel are both closed.
     */
    public void channelClosed() {
        if (finished || holdEnd || (client != null ? client.isOpen() : flow.isOpen()) || (backend != null && backend.isOpen())) {
            return;
        }
        finished = true;
        reason(CloseReason.COMPLETED);
        ConnectionSummary summary = new ConnectionSummary(clientCounter.bytesRead(),
                backendCounter == null ? 0 : backendCounter.bytesRead(), Duration.ofNanos(ageNanos()), reason,
                backendConnected ? backendAddress : null, detail);
        Consumer<ConnectionSummary> f = onFinished;
        if (f != null) {
            onFinished = null;
            f.accept(summary);
        }
        listener.finished(this, summary);
    }

    /**
     * Holds back (or, with {@code false}, releases) the report of the end: the detect stage holds it while it may
     * still tell the hooks about detection, since the channel's close future completes before its
     * {@code channelInactive}, and the end must come last.
     */
    public void holdEnd(boolean hold) {
        holdEnd = hold;
        if (!hold) {
            channelClosed();
        }
    }

    /** Returns an immutable snapshot of the connection; call on its event loop. */
    public ConnectionSnapshot toSnapshot() {
        CountingRecvByteBufAllocator b = backendCounter;
        ForwardTarget t = target;
        return new ConnectionSnapshot(id, clientAddress, localAddress, protocol, attributes,
                t == null ? null : t.name(), backendAddress, backendConnected, clientCounter.bytesRead(),
                b == null ? 0 : b.bytesRead(), acceptedAt, Duration.ofNanos(ageNanos()));
    }

    /** Returns whether the end was reported. */
    public boolean isFinished() {
        return finished;
    }

    @Override
    public String toString() {
        return "#" + id + " " + clientAddress;
    }
}
