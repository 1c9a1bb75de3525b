package io.refractium;

import io.netty.channel.IoEventLoopGroup;
import io.refractium.hook.Hook;
import io.refractium.hook.HookFactory;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookSettings;
import io.refractium.internal.transport.Transports;
import io.refractium.internal.relay.Inspection;
import io.refractium.hook.DataHook;
import io.refractium.hook.DataHookFactory;
import io.refractium.hook.Tap;
import io.refractium.internal.engine.ProtocolRegistry;
import io.refractium.internal.proxy.ProxyAcceptance;
import io.refractium.internal.route.Router;
import io.refractium.internal.udp.UdpSettings;
import io.refractium.metrics.MetricsRecorder;
import io.refractium.spi.RefractiumProtocol;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Configures a {@link Refractium}: where it listens, how it peeks and detects, the protocols, the routes, the
 * timeouts and the hooks. Get one from {@link Refractium#builder()}.
 *
 * <p>Mutable and single-threaded. Each setter checks its value at once and names it in the error
 * ({@code peekTimeout: PT-1S (expected: > 0)}); rules that involve several settings are checked by {@link #build()},
 * which returns an immutable, not yet started {@link Refractium} and leaves the builder reusable.
 */
public final class RefractiumBuilder {

    /** Default {@link #maxPeekBytes(int)}: 32 KiB, room for a post-quantum ClientHello over several records. */
    public static final int DEFAULT_MAX_PEEK_BYTES = 32 * 1024;
    /** Default {@link #peekTimeout(Duration)}: 5 seconds. */
    public static final Duration DEFAULT_PEEK_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Default {@link #quietTimeout(Duration)}: 100 ms. Long enough that a client sending its first message in a
     * burst is not cut short: a gap inside one burst is client-side scheduling plus, for a client without
     * {@code TCP_NODELAY}, a Nagle hold until the proxy's delayed ACK (40 ms on Linux); short enough that a gRPC
     * client waiting for the server's SETTINGS pays it once per connection without noticing.
     */
    public static final Duration DEFAULT_QUIET_TIMEOUT = EngineConfig.DEFAULT_QUIET_TIMEOUT;
    /** Default {@link #silenceTimeout(Duration)}: 2 seconds. */
    public static final Duration DEFAULT_SILENCE_TIMEOUT = Duration.ofSeconds(2);
    /** Default {@link #connectTimeout(Duration)}: 5 seconds. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** Default {@link #idleTimeout(Duration)}: 10 minutes. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** Default {@link #drainTimeout(Duration)}: 30 seconds. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = EngineConfig.DEFAULT_DRAIN_TIMEOUT;
    /** Default {@link #dnsMinTtl(Duration)}: 1 second. */
    public static final Duration DEFAULT_DNS_MIN_TTL = EngineConfig.DEFAULT_DNS_MIN_TTL;
    /** Default {@link #dnsMaxTtl(Duration)}: 5 minutes. */
    public static final Duration DEFAULT_DNS_MAX_TTL = EngineConfig.DEFAULT_DNS_MAX_TTL;
    /** Default bound of a {@link #tap(Tap, long) tap}'s queue: 8 MiB of copied bytes. */
    public static final long DEFAULT_TAP_QUEUE_BYTES = 8L * 1024 * 1024;
    /** Default {@link #hookDecisionTimeout(Duration)}: 5 seconds. */
    public static final Duration DEFAULT_HOOK_DECISION_TIMEOUT = HookSettings.DEFAULT_DECISION_TIMEOUT;
    /** Default {@link #hookFailurePolicy(HookFailurePolicy)}: {@link HookFailurePolicy#FAIL_CLOSED}. */
    public static final HookFailurePolicy DEFAULT_HOOK_FAILURE_POLICY = HookFailurePolicy.FAIL_CLOSED;
    /** Default {@link #shutdownGracePeriod(Duration)}: 10 seconds. */
    public static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(10);

    /** Default {@link #udpFlowIdleTimeout(Duration)}: 30 seconds. */
    public static final Duration DEFAULT_UDP_FLOW_IDLE_TIMEOUT = UdpSettings.DEFAULT_FLOW_IDLE_TIMEOUT;
    /** Default {@link #udpMaxFlows(int)}: 65 536 flows per UDP listener. */
    public static final int DEFAULT_UDP_MAX_FLOWS = UdpSettings.DEFAULT_MAX_FLOWS;
    /** Default {@link #udpMaxFlowsPerAddress(int)}: 4 096 flows per client address and UDP listener. */
    public static final int DEFAULT_UDP_MAX_FLOWS_PER_ADDRESS = UdpSettings.DEFAULT_MAX_FLOWS_PER_ADDRESS;
    /** Default {@link #udpMaxFlowsInDetection(int)}: 4 096 flows per UDP listener. */
    public static final int DEFAULT_UDP_MAX_FLOWS_IN_DETECTION = UdpSettings.DEFAULT_MAX_FLOWS_IN_DETECTION;
    /** Default {@link #udpMaxDetectionDatagrams(int)}: 4 datagrams. */
    public static final int DEFAULT_UDP_MAX_DETECTION_DATAGRAMS = UdpSettings.DEFAULT_MAX_DETECTION_DATAGRAMS;

    /**
     * Default {@link #maxPeekMemoryBytes(long)}: 4 % of the JVM's maximum direct memory (Netty's
     * {@code PlatformDependent.maxDirectMemory()}), at least 4 MiB.
     */
    public static final long DEFAULT_MAX_PEEK_MEMORY_BYTES =
            Math.max(4L << 20, io.netty.util.internal.PlatformDependent.maxDirectMemory() / 25);

    private final List<InetSocketAddress> listenAddresses = new ArrayList<>();
    private final List<InetSocketAddress> udpListenAddresses = new ArrayList<>();
    private Duration udpFlowIdleTimeout = DEFAULT_UDP_FLOW_IDLE_TIMEOUT;
    private int udpMaxFlows = DEFAULT_UDP_MAX_FLOWS;
    private int udpMaxFlowsPerAddress = DEFAULT_UDP_MAX_FLOWS_PER_ADDRESS;
    private int udpMaxFlowsInDetection = DEFAULT_UDP_MAX_FLOWS_IN_DETECTION;
    private int udpMaxDetectionDatagrams = DEFAULT_UDP_MAX_DETECTION_DATAGRAMS;
    private int maxPeekBytes = DEFAULT_MAX_PEEK_BYTES;
    private long maxPeekMemoryBytes = DEFAULT_MAX_PEEK_MEMORY_BYTES;
    private Duration peekTimeout = DEFAULT_PEEK_TIMEOUT;
    private Duration silenceTimeout = DEFAULT_SILENCE_TIMEOUT;
    private Duration quietTimeout = DEFAULT_QUIET_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
    private Duration shutdownGracePeriod = DEFAULT_SHUTDOWN_GRACE_PERIOD;
    private final List<RefractiumProtocol> protocols = new ArrayList<>();
    private boolean discoverProtocols;
    private ClassLoader discoveryClassLoader;
    private RoutingTable.Builder routes = RoutingTable.builder();
    private final List<Hook> hooks = new ArrayList<>();
    private final List<HookFactory> hookFactories = new ArrayList<>();
    private final List<DataHookFactory> dataHooks = new ArrayList<>();
    private final List<Inspection.TapSpec> taps = new ArrayList<>();
    private HookFailurePolicy hookFailurePolicy = DEFAULT_HOOK_FAILURE_POLICY;
    private Duration hookDecisionTimeout = DEFAULT_HOOK_DECISION_TIMEOUT;
    private IoEventLoopGroup bossGroup;
    private IoEventLoopGroup workerGroup;
    private int workerThreads;
    private IoTransport transport = IoTransport.NATIVE;
    private boolean splice;
    private List<InetSocketAddress> dnsServers = List.of();
    private Duration dnsMinTtl = DEFAULT_DNS_MIN_TTL;
    private Duration dnsMaxTtl = DEFAULT_DNS_MAX_TTL;
    private AdmissionLimits limits = AdmissionLimits.none();
    private BandwidthLimits bandwidth = BandwidthLimits.none();
    private ProxyAcceptance proxyAll;
    private final Map<Integer, ProxyAcceptance> proxyByPort = new HashMap<>();
    private MetricsRecorder metrics = MetricsRecorder.none();

    RefractiumBuilder() {
    }

    /**
     * Adds a TCP listen address; call it again for more. Port 0 picks a free port, readable after
     * {@link Refractium#start()} through {@link Refractium#localAddresses()}.
     *
     * @param address the address to bind
     * @return this builder
     */
    public RefractiumBuilder listen(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("listen: " + address + " (expected: a resolved address)");
        }
        listenAddresses.add(address);
        return this;
    }

    /**
     * Adds a TCP listen address.
     *
     * @param host an IP literal or a local name
     * @param port 0 to 65535; 0 picks a free port
     * @return this builder
     */
    public RefractiumBuilder listen(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("listen port: " + port + " (expected: 0-65535)");
        }
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("listen host: \"" + host + "\" (expected: a local address)");
        }
        return listen(a);
    }

    /**
     * Adds a UDP listen address; call it again for more. Each datagram's client address and port make a flow: its
     * first datagrams are detected by the detectors that can identify UDP
     * ({@link io.refractium.spi.RefractiumProtocol#transports()}), a route for the detected protocol picks the
     * target (the same routes and targets as TCP: a {@code dns} route serves both), and one connected datagram socket
     * per flow carries its datagrams to the chosen backend, whose replies leave from this listening socket. UDP flows
     * use neither the fallback nor the silence targets: a flow that no route takes is dropped. Port 0 picks a free
     * port, readable after {@link Refractium#start()} through {@link Refractium#udpLocalAddresses()}. Default: none.
     *
     * @param address the address to bind
     * @return this builder
     */
    public RefractiumBuilder listenUdp(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("listenUdp: " + address + " (expected: a resolved address)");
        }
        udpListenAddresses.add(address);
        return this;
    }

    /**
     * Adds a UDP listen address (see {@link #listenUdp(InetSocketAddress)}).
     *
     * @param host an IP literal or a local name
     * @param port 0 to 65535; 0 picks a free port
     * @return this builder
     */
    public RefractiumBuilder listenUdp(String host, int port) {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("listenUdp port: " + port + " (expected: 0-65535)");
        }
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("listenUdp host: \"" + host + "\" (expected: a local address)");
        }
        return listenUdp(a);
    }

    /**
     * Sets how long a UDP flow may see no datagram either way before it leaves its listener's flow table, which
     * closes its backend socket. A flow whose detection failed, or that no route took, also stays this long (its
     * datagrams are dropped) before it counts no more. Default 30 seconds.
     *
     * @param timeout greater than zero
     * @return this builder
     */
    public RefractiumBuilder udpFlowIdleTimeout(Duration timeout) {
        this.udpFlowIdleTimeout = positive("udpFlowIdleTimeout", timeout);
        return this;
    }

    /**
     * Sets the most flows one UDP listener's table holds. Over it, the table evicts the flow it deems least valuable
     * (Caffeine's frequency-based policy: a flood of one-datagram flows does not push out busy ones), closing its
     * backend socket. Default {@value #DEFAULT_UDP_MAX_FLOWS}.
     *
     * @param maxFlows at least 1
     * @return this builder
     */
    public RefractiumBuilder udpMaxFlows(int maxFlows) {
        this.udpMaxFlows = atLeastOne("udpMaxFlows", maxFlows);
        return this;
    }

    /**
     * Sets the most flows of one client IP address in one UDP listener's table; a datagram that would start one more
     * is dropped and counted as a refusal ({@link io.refractium.hook.RefusalReason#MAX_CONNECTIONS_PER_IP}).
     * Default {@value #DEFAULT_UDP_MAX_FLOWS_PER_ADDRESS}.
     *
     * @param maxFlows at least 1
     * @return this builder
     */
    public RefractiumBuilder udpMaxFlowsPerAddress(int maxFlows) {
        this.udpMaxFlowsPerAddress = atLeastOne("udpMaxFlowsPerAddress", maxFlows);
        return this;
    }

    /**
     * Sets the most flows of one UDP listener that may be in detection (or waiting for a hook's admission) at once;
     * a datagram that would start one more is dropped and counted as a refusal
     * ({@link io.refractium.hook.RefusalReason#MAX_DETECTING}). Default {@value #DEFAULT_UDP_MAX_FLOWS_IN_DETECTION}.
     *
     * @param maxFlows at least 1
     * @return this builder
     */
    public RefractiumBuilder udpMaxFlowsInDetection(int maxFlows) {
        this.udpMaxFlowsInDetection = atLeastOne("udpMaxFlowsInDetection", maxFlows);
        return this;
    }

    /**
     * Sets how many of a flow's first datagrams detection may look at (offered concatenated, see
     * {@link io.refractium.spi.DetectionContext#datagrams()}), and so how many are held until the flow's backend
     * socket is connected; later datagrams in that time are dropped. Held bytes are bounded too, by
     * {@link #maxPeekBytes} or 65 535, whichever is larger, and count against {@link #maxPeekMemoryBytes}.
     * Default {@value #DEFAULT_UDP_MAX_DETECTION_DATAGRAMS}.
     *
     * @param datagrams 1 to 64
     * @return this builder
     */
    public RefractiumBuilder udpMaxDetectionDatagrams(int datagrams) {
        if (datagrams < 1 || datagrams > 64) {
            throw new IllegalArgumentException("udpMaxDetectionDatagrams: " + datagrams + " (expected: 1-64)");
        }
        this.udpMaxDetectionDatagrams = datagrams;
        return this;
    }

    private static int atLeastOne(String setting, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(setting + ": " + value + " (expected: >= 1)");
        }
        return value;
    }

    /**
     * Sets the most bytes read while detecting. A client that sends this many with detectors still undecided goes
     * to the fallback target with reason {@code TOO_MANY_BYTES}. Default {@value #DEFAULT_MAX_PEEK_BYTES}.
     *
     * @param maxPeekBytes 1 to 16 MiB
     * @return this builder
     */
    public RefractiumBuilder maxPeekBytes(int maxPeekBytes) {
        if (maxPeekBytes < 1 || maxPeekBytes > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("maxPeekBytes: " + maxPeekBytes + " (expected: 1-16777216)");
        }
        this.maxPeekBytes = maxPeekBytes;
        return this;
    }

    /**
     * Sets the most memory all connections together may hold in peek buffers (the bytes read before a backend is
     * connected). Each connection holds memory proportional to the bytes it sent, up to {@link #maxPeekBytes}; when
     * the total reaches this limit, new connections are closed as soon as they are accepted, before any hook or
     * buffer is involved (a warning is logged), until connections holding peeked bytes move on. Default {@link #DEFAULT_MAX_PEEK_MEMORY_BYTES}.
     *
     * @param bytes at least 64 KiB
     * @return this builder
     */
    public RefractiumBuilder maxPeekMemoryBytes(long bytes) {
        if (bytes < 64 * 1024) {
            throw new IllegalArgumentException("maxPeekMemoryBytes: " + bytes + " (expected: >= 65536)");
        }
        this.maxPeekMemoryBytes = bytes;
        return this;
    }

    /**
     * Sets the detection deadline, counted from accept. When it passes, a client that sent bytes goes to the
     * fallback target ({@code DEADLINE}) and one that sent nothing is handled as silent. Default 5 seconds.
     *
     * @param peekTimeout greater than zero
     * @return this builder
     */
    public RefractiumBuilder peekTimeout(Duration peekTimeout) {
        this.peekTimeout = positive("peekTimeout", peekTimeout);
        return this;
    }

    /**
     * Sets how long a client that has sent some bytes may stay quiet before a detector that asked for it decides on
     * what it has ({@link io.refractium.spi.DetectionContext#lastCallWhenQuiet()}): the h2c detector asks once the
     * client sent its preface and SETTINGS but no request, since gRPC clients wait there for the server's SETTINGS.
     * Each new byte restarts it; other detectors keep waiting until the {@linkplain #peekTimeout detection
     * deadline}, which it must be shorter than. Default 100 ms ({@link #DEFAULT_QUIET_TIMEOUT}).
     *
     * @param quietTimeout greater than zero, shorter than the detection deadline
     * @return this builder
     */
    public RefractiumBuilder quietTimeout(Duration quietTimeout) {
        this.quietTimeout = positive("quietTimeout", quietTimeout);
        return this;
    }

    /**
     * Sets the silence deadline: a client that sends nothing for this long after accept goes to the silent-client
     * target ({@link #onSilence(ForwardTarget)}). Used only on listeners with a silence route whose own timeout is
     * unset; it must be shorter than the {@linkplain #peekTimeout detection deadline}. Default 2 seconds.
     *
     * @param silenceTimeout greater than zero
     * @return this builder
     */
    public RefractiumBuilder silenceTimeout(Duration silenceTimeout) {
        this.silenceTimeout = positive("silenceTimeout", silenceTimeout);
        return this;
    }

    /**
     * Sets how long one backend connection attempt may take. Default 5 seconds.
     *
     * @param connectTimeout greater than zero
     * @return this builder
     */
    public RefractiumBuilder connectTimeout(Duration connectTimeout) {
        this.connectTimeout = positive("connectTimeout", connectTimeout);
        if (connectTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: < 24 days)");
        }
        return this;
    }

    /**
     * Sets how long a relayed connection may see no bytes either way before both sides are closed.
     * {@link Duration#ZERO} disables it. Default 10 minutes.
     *
     * @param idleTimeout zero or more
     * @return this builder
     */
    public RefractiumBuilder idleTimeout(Duration idleTimeout) {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: >= 0, 0 disables)");
        }
        this.idleTimeout = idleTimeout;
        return this;
    }

    /**
     * Sets how long a relayed connection of which one side has finished (sent its FIN or closed) may hold bytes queued
     * for the other side that do not move: when neither side reads nor writes a byte for this long while bytes are
     * queued, both sides are reset ({@link io.refractium.hook.CloseReason#DRAIN_TIMEOUT}). It bounds what a client
     * that leaves, facing a backend that stopped reading, can hold; a half-closed connection that keeps moving bytes,
     * or has nothing queued, is not affected (the {@linkplain #idleTimeout idle timeout} governs it). Default 30
     * seconds.
     *
     * @param drainTimeout greater than zero
     * @return this builder
     */
    public RefractiumBuilder drainTimeout(Duration drainTimeout) {
        this.drainTimeout = positive("drainTimeout", drainTimeout);
        return this;
    }

    /**
     * Sets how long {@link Refractium#close()} lets open connections finish before it closes them.
     * Default 10 seconds.
     *
     * @param shutdownGracePeriod zero or more
     * @return this builder
     */
    public RefractiumBuilder shutdownGracePeriod(Duration shutdownGracePeriod) {
        Objects.requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
        if (shutdownGracePeriod.isNegative()) {
            throw new IllegalArgumentException("shutdownGracePeriod: " + shutdownGracePeriod + " (expected: >= 0)");
        }
        this.shutdownGracePeriod = shutdownGracePeriod;
        return this;
    }

    /**
     * Registers a protocol detector. Explicit registration wins over discovery for the same id; two explicit
     * detectors with the same id are an error.
     *
     * @param protocol the detector
     * @return this builder
     */
    public RefractiumBuilder protocol(RefractiumProtocol protocol) {
        protocols.add(Objects.requireNonNull(protocol, "protocol"));
        return this;
    }

    /**
     * Registers protocol detectors.
     *
     * @param protocols the detectors
     * @return this builder
     */
    public RefractiumBuilder protocols(Iterable<? extends RefractiumProtocol> protocols) {
        for (RefractiumProtocol p : Objects.requireNonNull(protocols, "protocols")) {
            protocol(p);
        }
        return this;
    }

    /**
     * Also loads detectors through {@link java.util.ServiceLoader} from the thread's context class loader. A provider
     * that fails to load is logged and skipped. Off by default.
     *
     * @return this builder
     */
    public RefractiumBuilder discoverProtocols() {
        return discoverProtocols(null);
    }

    /**
     * Also loads detectors through {@link java.util.ServiceLoader} from the given class loader.
     *
     * @param classLoader the class loader, or {@code null} for the thread's context class loader
     * @return this builder
     */
    public RefractiumBuilder discoverProtocols(ClassLoader classLoader) {
        this.discoverProtocols = true;
        this.discoveryClassLoader = classLoader;
        return this;
    }

    /**
     * Adds a route. When several match, the most specific wins, then declared order.
     *
     * @param route the route
     * @return this builder
     */
    public RefractiumBuilder route(Route route) {
        routes.route(route);
        return this;
    }

    /**
     * Replaces the routes, declared targets, fallback and silence routes set so far with the table's; later calls
     * of {@link #route(Route)}, {@link #fallback} and the others add to (or replace in) that content, as they would
     * on {@link RoutingTable#toBuilder()}. Useful to start from a table built or loaded elsewhere.
     *
     * @param table the table
     * @return this builder
     */
    public RefractiumBuilder routes(RoutingTable table) {
        this.routes = Objects.requireNonNull(table, "routes").toBuilder();
        return this;
    }

    /**
     * Adds a route for every connection of a protocol.
     *
     * @param protocol the protocol id
     * @param target where its connections go
     * @return this builder
     */
    public RefractiumBuilder route(String protocol, ForwardTarget target) {
        routes.route(protocol, target);
        return this;
    }

    /**
     * Declares a target that no route uses, so that a hook can {@link io.refractium.hook.RouteDecision#reroute
     * reroute} connections to it; it gets health checks and connection counts like route targets. A hook can only
     * reroute to targets the routing table names.
     *
     * @param target the target
     * @return this builder
     */
    public RefractiumBuilder target(ForwardTarget target) {
        routes.target(target);
        return this;
    }

    /**
     * Sets where connections go when detection fails (no match, too many bytes, deadline) or no route matches.
     * Default none: they are closed.
     *
     * @param target the fallback target, or {@code null}
     * @return this builder
     */
    public RefractiumBuilder fallback(ForwardTarget target) {
        routes.fallback(target);
        return this;
    }

    /**
     * Sets where clients that send nothing before the {@linkplain #silenceTimeout silence deadline} go, for
     * protocols where the server speaks first (an SSH client waiting for the banner, SMTP, MySQL), on every listener
     * without a {@linkplain #onSilence(int, ForwardTarget, Duration) silence route of its own}. Default none:
     * silent clients wait for the detection deadline and then go to the fallback target, or are closed.
     *
     * @param target the silent-client target, or {@code null}
     * @return this builder
     */
    public RefractiumBuilder onSilence(ForwardTarget target) {
        routes.onSilence(target);
        return this;
    }

    /**
     * Sets where clients that send nothing go on one listener port, and that port's silence deadline; it replaces
     * the {@linkplain #onSilence(ForwardTarget) default silent-client target} on that port. Server-first protocols
     * differ by port (an SSH greeter on one, an SMTP server on another). A connection on a port with no silence
     * route, its own or the default, does not wait for silence: with no bytes by the detection deadline it goes to
     * the fallback target, or is closed. Default: none per port.
     *
     * @param listenerPort the local port, 1 to 65535 (the real port: with port 0, set it by
     *        {@link Refractium#updateRoutes} once {@link Refractium#localAddresses()} tells it)
     * @param target where silent clients on that port go
     * @param timeout the silence deadline there, shorter than the {@linkplain #peekTimeout detection deadline};
     *        {@code null} for the {@linkplain #silenceTimeout instance's}
     * @return this builder
     */
    public RefractiumBuilder onSilence(int listenerPort, ForwardTarget target, Duration timeout) {
        routes.onSilence(listenerPort, target, timeout);
        return this;
    }

    /**
     * Makes every listener without a setting of its own receive PROXY protocol headers (v1 or v2; see
     * {@code https://www.haproxy.org/download/3.0/doc/proxy-protocol.txt}) from a proxy or load balancer in front.
     * The header is read before detection and never forwarded; its source address becomes the connection's client
     * address for the per-address admission limits, routes by network, client-IP hashing, hooks and logs, and the
     * header itself is shown to hooks ({@link io.refractium.hook.ConnectionInfo#proxyHeader()}) and its v2
     * authority and ALPN to routes and load balancers ({@code proxy.authority}, {@code proxy.alpn}). A header is
     * believed only from a trusted source network: from anywhere else the connection is refused. For a connection
     * from a trusted source, the per-address limits of {@link #limits} (lists, rate, per-address cap) are checked
     * once the header is read, against the real client address, never against the proxy's; the other caps are
     * taken at accept. Every refusal at this stage is counted by {@link Refractium#refusals()} and reported to
     * {@link Hook#onRefused}. The header must be complete within {@link #peekTimeout(Duration)}. Default: no
     * listener takes a header.
     *
     * @param mode {@link ProxyProtocolMode#REQUIRED} (no header: refused) or {@link ProxyProtocolMode#OPTIONAL}
     *        (the header is decoded only when the first bytes are a PROXY signature)
     * @param trustedSources the networks allowed to send a header, at least one ({@code 0.0.0.0/0} and
     *        {@code ::/0} trust everyone)
     * @return this builder
     */
    public RefractiumBuilder acceptProxyProtocol(ProxyProtocolMode mode, Collection<Cidr> trustedSources) {
        proxyAll = proxyAcceptance(mode, trustedSources);
        return this;
    }

    /**
     * Makes the listener on one port receive PROXY protocol headers, as {@link #acceptProxyProtocol(ProxyProtocolMode,
     * Collection)} does for every listener; this setting wins on that port. Default: none per port.
     *
     * @param listenerPort the local port, 1 to 65535
     * @param mode required or optional
     * @param trustedSources the networks allowed to send a header, at least one
     * @return this builder
     */
    public RefractiumBuilder acceptProxyProtocol(int listenerPort, ProxyProtocolMode mode,
                                                 Collection<Cidr> trustedSources) {
        if (listenerPort < 1 || listenerPort > 65535) {
            throw new IllegalArgumentException("acceptProxyProtocol listenerPort: " + listenerPort
                    + " (expected: 1-65535)");
        }
        proxyByPort.put(listenerPort, proxyAcceptance(mode, trustedSources));
        return this;
    }

    private static ProxyAcceptance proxyAcceptance(ProxyProtocolMode mode, Collection<Cidr> trustedSources) {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(trustedSources, "trustedSources");
        if (trustedSources.isEmpty()) {
            throw new IllegalArgumentException("acceptProxyProtocol trustedSources: [] (expected: at least one "
                    + "network, e.g. 10.0.0.0/8)");
        }
        for (Cidr c : trustedSources) {
            Objects.requireNonNull(c, "trustedSources element");
        }
        return new ProxyAcceptance(mode, List.copyOf(trustedSources));
    }

    /**
     * Sets the admission limits checked when a connection is accepted, before anything is built for it: caps on
     * open connections (instance, listener, client address), a per-address connection rate, allow and deny lists,
     * and a cap on connections in detection. Refused connections are closed at once, counted by
     * {@link Refractium#refusals()} and reported to {@link Hook#onRefused}. On a listener that receives the PROXY
     * protocol, a connection from a trusted proxy is checked against the per-address limits once the header names
     * the real client ({@link #acceptProxyProtocol(ProxyProtocolMode, Collection)}). Default
     * {@link AdmissionLimits#none()}.
     *
     * @param limits the limits, from {@link AdmissionLimits#builder()}
     * @return this builder
     */
    public RefractiumBuilder limits(AdmissionLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /**
     * Sets the bandwidth caps of relayed connections: per connection, per client address, per route and per target,
     * in bytes per second each way. A connection to which a cap applies is relayed by copying buffers (never
     * spliced) and read no faster than its lowest cap allows. Default {@link BandwidthLimits#none()}.
     *
     * @param bandwidth the caps, from {@link BandwidthLimits#builder()}
     * @return this builder
     */
    public RefractiumBuilder bandwidth(BandwidthLimits bandwidth) {
        this.bandwidth = Objects.requireNonNull(bandwidth, "bandwidth");
        return this;
    }

    /**
     * Adds a hook shared by every connection; hooks run in the order added, before the hooks of the
     * {@link #hookFactory(HookFactory) factories}. Only these hooks get {@link Hook#onHealthChanged}. Default: none.
     *
     * @param hook the hook
     * @return this builder
     */
    public RefractiumBuilder hook(Hook hook) {
        hooks.add(Objects.requireNonNull(hook, "hook"));
        return this;
    }

    /**
     * Adds a factory that creates a hook for each connection (for per-connection state in plain fields); the
     * hooks of the factories run after the shared {@link #hook(Hook) hooks}, in the order the factories were added.
     * Default: none.
     *
     * @param factory the factory
     * @return this builder
     */
    public RefractiumBuilder hookFactory(HookFactory factory) {
        hookFactories.add(Objects.requireNonNull(factory, "factory"));
        return this;
    }

    /**
     * Adds a factory of {@link DataHook}s: hooks that see every byte of a connection, in order, both ways, and may
     * pass, replace, drop or inject bytes or close the connection. A connection for which a factory makes a hook is
     * relayed by copying buffers; when splicing is on, every other connection keeps the {@code splice(2)} path. Bytes
     * from the client go through the hooks in the order their factories were added, bytes from the backend in the
     * reverse order. Default: none.
     *
     * @param factory the factory; it may return {@code null} for connections it leaves alone
     * @return this builder
     */
    public RefractiumBuilder dataHook(DataHookFactory factory) {
        dataHooks.add(Objects.requireNonNull(factory, "factory"));
        return this;
    }

    /**
     * Adds a {@link Tap} with a queue of {@value #DEFAULT_TAP_QUEUE_BYTES} bytes; see {@link #tap(Tap, long)}.
     *
     * @param tap the tap
     * @return this builder
     */
    public RefractiumBuilder tap(Tap tap) {
        return tap(tap, DEFAULT_TAP_QUEUE_BYTES);
    }

    /**
     * Adds a {@link Tap}: it gets read-only copies of the bytes of the connections it {@linkplain Tap#wants wants},
     * on a thread of its own, through a queue bounded in bytes; bytes that do not fit are not copied, and are counted
     * and reported ({@link Tap#onClosed}, {@link Refractium#taps()}). A tapped connection is relayed by copying
     * buffers, never with {@code splice(2)}. Default: none.
     *
     * @param tap the tap
     * @param maxQueuedBytes how many copied bytes may wait for the tap, {@code >= 1}
     * @return this builder
     */
    public RefractiumBuilder tap(Tap tap, long maxQueuedBytes) {
        Objects.requireNonNull(tap, "tap");
        if (maxQueuedBytes < 1) {
            throw new IllegalArgumentException("tap maxQueuedBytes: " + maxQueuedBytes + " (expected: >= 1)");
        }
        taps.add(new Inspection.TapSpec(tap, maxQueuedBytes));
        return this;
    }

    /**
     * Sets what happens when a hook fails at a verdict point: it throws in {@link Hook#onAccepted} or
     * {@link Hook#onRouteChosen} (or their asynchronous forms, or a {@link HookFactory}), returns a {@code null}
     * admission, or its stage completes exceptionally or not within the {@link #hookDecisionTimeout(Duration)}.
     * {@link HookFailurePolicy#FAIL_CLOSED} refuses the connection ({@link io.refractium.hook.CloseReason#REFUSED},
     * with the failure as the summary's detail); {@link HookFailurePolicy#FAIL_OPEN} ignores the failed hook and
     * asks the next. Default: {@link HookFailurePolicy#FAIL_CLOSED}, for admission and route decisions alike.
     *
     * @param policy the policy
     * @return this builder
     */
    public RefractiumBuilder hookFailurePolicy(HookFailurePolicy policy) {
        this.hookFailurePolicy = Objects.requireNonNull(policy, "policy");
        return this;
    }

    /**
     * Sets how long a connection waits for one hook's asynchronous verdict ({@link Hook#onAcceptedAsync},
     * {@link Hook#onRouteChosenAsync}) before applying the {@link #hookFailurePolicy(HookFailurePolicy) failure
     * policy}. Each hook that answers later gets the whole timeout. Default: 5 seconds.
     *
     * @param timeout the timeout, {@code > 0}
     * @return this builder
     */
    public RefractiumBuilder hookDecisionTimeout(Duration timeout) {
        this.hookDecisionTimeout = positive("hookDecisionTimeout", timeout);
        return this;
    }

    /**
     * Uses the caller's event loops for accepting and for connections; Refractium does not shut them down. The
     * transport follows the group: epoll channels for an epoll group, NIO otherwise. Default: Refractium creates
     * its own. Note: the event loops Refractium creates work around a Netty 4.2 epoll bug (a half-closed socket
     * whose interest set becomes empty leaves the epoll set, and a later stalled write to it fails with
     * {@code ENOENT}, losing the bytes queued for it); an epoll group made with plain
     * {@code EpollIoHandler.newFactory()} does not.
     *
     * @param bossGroup runs the listening sockets
     * @param workerGroup runs client and backend connections
     * @return this builder
     */
    public RefractiumBuilder eventLoopGroups(IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup) {
        this.bossGroup = Objects.requireNonNull(bossGroup, "bossGroup");
        this.workerGroup = Objects.requireNonNull(workerGroup, "workerGroup");
        return this;
    }

    /**
     * Sets the number of event loop threads Refractium creates when it owns its event loops. Default: the number of
     * available processors.
     *
     * @param workerThreads at least 1
     * @return this builder
     */
    public RefractiumBuilder workerThreads(int workerThreads) {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads: " + workerThreads + " (expected: >= 1)");
        }
        this.workerThreads = workerThreads;
        return this;
    }

    /**
     * Sets whether to use a native transport when one is available (Linux): {@code true} is
     * {@code transport(IoTransport.NATIVE)}, {@code false} is {@code transport(IoTransport.NIO)}. Default
     * {@code true}.
     *
     * @param nativeTransport whether to prefer io_uring or epoll
     * @return this builder
     */
    public RefractiumBuilder nativeTransport(boolean nativeTransport) {
        return transport(nativeTransport ? IoTransport.NATIVE : IoTransport.NIO);
    }

    /**
     * Sets the I/O transport of the event loops Refractium creates: {@link IoTransport#NATIVE} (io_uring where the
     * kernel allows it, else epoll, else NIO; epoll first when {@link #splice(boolean)} is on),
     * {@link IoTransport#EPOLL}, {@link IoTransport#IO_URING} or {@link IoTransport#NIO}. Asking for epoll
     * or io_uring where it cannot run fails in {@link #build()}, with the reason. Ignored with
     * {@link #eventLoopGroups}, whose transport wins. Default {@link IoTransport#NATIVE}.
     *
     * @param transport the transport
     * @return this builder
     */
    public RefractiumBuilder transport(IoTransport transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
        return this;
    }

    /**
     * Sets whether relayed bytes may move with {@code splice(2)} (epoll only: with it on, {@link IoTransport#NATIVE}
     * chooses epoll over io_uring), never entering the JVM heap. When
     * enabled, a connection starts on buffers and each direction switches to {@code splice(2)} at its first read of
     * 16 KiB or more, so short exchanges do not pay for pipes. Default {@code false}: bytes are relayed through
     * pooled buffers, with reads of up to 1 MiB in a bulk transfer. Netty's pipes hold 64 KiB, so a spliced direction
     * makes about five system calls per 64 KiB against about one per 64 KiB on buffers; where system calls are dear
     * (kernel page-table isolation without PCID, as on many virtual machines) the copies are the cheaper of the two.
     * Measure on the deployment's machines before turning it on.
     *
     * @param splice whether to splice when possible
     * @return this builder
     */
    public RefractiumBuilder splice(boolean splice) {
        this.splice = splice;
        return this;
    }

    /**
     * Sets the DNS servers that resolve backends named by host name, asked in order. Backends given by IP literal
     * never go through DNS. Default: none given, the system's servers (and search domains) from
     * {@code /etc/resolv.conf}, read by Netty's default provider.
     *
     * @param servers resolved addresses with a port (usually 53), or an empty list for the system's servers
     * @return this builder
     */
    public RefractiumBuilder dnsServers(List<InetSocketAddress> servers) {
        Objects.requireNonNull(servers, "dnsServers");
        for (InetSocketAddress a : servers) {
            if (a == null || a.isUnresolved() || a.getPort() == 0) {
                throw new IllegalArgumentException("dnsServers: " + servers
                        + " (expected: resolved addresses with a port, such as 10.0.0.53:53)");
            }
        }
        this.dnsServers = List.copyOf(servers);
        return this;
    }

    /**
     * Sets the shortest time a DNS answer for a named backend is kept before the name is resolved again, whatever
     * the records' TTL says (a TTL of 0 would mean a query per connection). Also the first retry delay after a
     * failed resolution, doubling on each further failure up to {@link #dnsMaxTtl}. Default 1 second.
     *
     * @param minTtl greater than zero, at most {@link #dnsMaxTtl}
     * @return this builder
     */
    public RefractiumBuilder dnsMinTtl(Duration minTtl) {
        this.dnsMinTtl = positive("dnsMinTtl", minTtl);
        return this;
    }

    /**
     * Sets the longest time a DNS answer for a named backend is kept before the name is resolved again, whatever
     * the records' TTL says; names answered from the hosts file are resolved again at this interval. Default 5
     * minutes.
     *
     * @param maxTtl greater than zero, at least {@link #dnsMinTtl}
     * @return this builder
     */
    public RefractiumBuilder dnsMaxTtl(Duration maxTtl) {
        this.dnsMaxTtl = positive("dnsMaxTtl", maxTtl);
        return this;
    }

    // ---- metrics

    /**
     * Sets the recorder of metrics: every connection's path is reported to it (see {@link MetricsRecorder}).
     * Default {@link MetricsRecorder#none()}, which records nothing and costs nothing. The
     * {@code refractium-micrometer} module provides one for a Micrometer {@code MeterRegistry}.
     *
     * @param recorder the recorder; it is {@linkplain MetricsRecorder#bind bound} to the instance {@link #build()}
     *        returns
     * @return this builder
     */
    public RefractiumBuilder metrics(MetricsRecorder recorder) {
        this.metrics = Objects.requireNonNull(recorder, "metrics");
        return this;
    }

    // ---- end metrics

    /**
     * Validates the settings and returns a new, not yet started {@link Refractium}.
     *
     * @return the instance
     * @throws IllegalArgumentException naming the setting and value when the settings do not fit together:
     *         no listen address (TCP or UDP), a route to an unknown protocol, a silence deadline not shorter than the
     *         detection deadline, a quiet timeout not shorter than the detection deadline, a duplicate protocol
     *         id, a DNS minimum TTL above the maximum, a bandwidth cap for a target the routing table does not have
     */
    public Refractium build() {
        if (listenAddresses.isEmpty() && udpListenAddresses.isEmpty()) {
            throw new IllegalArgumentException("listen: none (expected: at least one address, e.g. listen(\"127.0.0.1\", 0)"
                    + " or listenUdp(\"127.0.0.1\", 0))");
        }
        RoutingTable table = routes.build();
        Router.checkSilence(table, peekTimeout, silenceTimeout);
        if (quietTimeout.compareTo(peekTimeout) >= 0) {
            throw new IllegalArgumentException("quietTimeout: " + quietTimeout + " (expected: < peekTimeout "
                    + peekTimeout + "); shorten quietTimeout or lengthen peekTimeout");
        }
        if (dnsMinTtl.compareTo(dnsMaxTtl) > 0) {
            throw new IllegalArgumentException("dnsMinTtl: " + dnsMinTtl + " (expected: <= dnsMaxTtl " + dnsMaxTtl
                    + "); shorten dnsMinTtl or lengthen dnsMaxTtl");
        }
        for (String name : bandwidth.targets().keySet()) {
            if (!table.targets().containsKey(name)) {
                throw new IllegalArgumentException("bandwidth perTarget \"" + name + "\": no such target (expected "
                        + "one of " + new TreeSet<>(table.targets().keySet()) + ")");
            }
        }
        if (workerGroup == null) {
            try {
                Transports.choose(transport, splice);
            } catch (IllegalStateException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        ProtocolRegistry registry = ProtocolRegistry.create(protocols, discoverProtocols, discoveryClassLoader);
        registry.checkRoutes(table);
        EngineConfig config = new EngineConfig(List.copyOf(listenAddresses), maxPeekBytes, maxPeekMemoryBytes, peekTimeout,
                silenceTimeout, connectTimeout, idleTimeout, drainTimeout, shutdownGracePeriod, registry, List.copyOf(hooks),
                bossGroup, workerGroup, workerThreads == 0 ? Runtime.getRuntime().availableProcessors() : workerThreads,
                transport, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, limits,
                new HookSettings(hookFactories, hookFailurePolicy, hookDecisionTimeout, dataHooks, taps),
                new ProxyAcceptance.Listeners(proxyAll, proxyByPort), metrics, bandwidth,
                new UdpSettings(udpListenAddresses, udpFlowIdleTimeout, udpMaxFlows, udpMaxFlowsPerAddress,
                        udpMaxFlowsInDetection, udpMaxDetectionDatagrams));
        return new Refractium(config, table);
    }

    private static Duration positive(String setting, Duration d) {
        Objects.requireNonNull(d, setting);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(setting + ": " + d + " (expected: > 0)");
        }
        return d;
    }
}
