package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.refractium.BackendStatus.Health;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.Hook;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.transport.Transports;
import io.refractium.internal.udp.UdpListener;
import io.refractium.testing.TestDnsServer;
import io.refractium.testing.UdpProtocols;
import io.refractium.testing.UdpResponder;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** UDP listeners end to end, on real loopback sockets, with NIO and (where available) epoll. */
@Timeout(120)
class UdpTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T t) {
        closeables.add(t);
        return t;
    }

    private static void assumeTransport(boolean epoll) {
        if (epoll) {
            assumeTrue(Epoll.isAvailable(), "epoll is not available");
        }
    }

    private RefractiumBuilder builder(boolean epoll) {
        return Refractium.builder()
                .listenUdp("127.0.0.1", 0)
                .nativeTransport(epoll)
                .workerThreads(2)
                .shutdownGracePeriod(Duration.ZERO);
    }

    /** A DNS query for a name: id, RD, one question of type A, class IN. */
    static byte[] dnsQuery(int id, String name) {
        ByteBuffer b = ByteBuffer.allocate(512);
        b.putShort((short) id).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0);
        for (String label : name.split("\\.")) {
            b.put((byte) label.length()).put(label.getBytes(StandardCharsets.US_ASCII));
        }
        b.put((byte) 0).putShort((short) 1).putShort((short) 1);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] exchange(DatagramSocket s, InetSocketAddress to, byte[] data) throws IOException {
        s.send(new DatagramPacket(data, data.length, to));
        byte[] buf = new byte[65_536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return Arrays.copyOfRange(buf, 0, p.getLength());
    }

    private static DatagramSocket socket(InetAddress address) throws IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0));
        s.setSoTimeout(5000);
        return s;
    }

    private static void await(BooleanSupplier condition, Duration max, String what) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + max);
            }
            Thread.sleep(10);
        }
    }

    // ---------------------------------------------------------------- DNS with a real client

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void realDnsQueriesGoThroughTheProxy(boolean epoll) throws Exception {
        assumeTransport(epoll);
        TestDnsServer dns = keep(new TestDnsServer());
        dns.answer("a.example", 60, "10.1.2.3");
        dns.answer("b.example", 60, "10.4.5.6");
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", dns.address().getHostString() + ":" + dns.address().getPort()))
                .build().start());
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        keep(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        DnsNameResolver resolver = new DnsNameResolverBuilder(group.next())
                .datagramChannelType(NioDatagramChannel.class)
                .nameServerProvider(new SingletonDnsServerAddressStreamProvider(r.udpLocalAddresses().get(0)))
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                .queryTimeoutMillis(3000)
                .maxQueriesPerResolve(2)
                .searchDomains(List.of())
                .ndots(1)
                .build();
        keep(resolver::close);

        assertThat(resolver.resolve("a.example").get(5, TimeUnit.SECONDS).getHostAddress()).isEqualTo("10.1.2.3");
        assertThat(resolver.resolve("b.example").get(5, TimeUnit.SECONDS).getHostAddress()).isEqualTo("10.4.5.6");
        assertThat(dns.aQueries("a.example")).isGreaterThanOrEqualTo(1);
        assertThat(r.activeUdpFlows()).isGreaterThanOrEqualTo(1);
        assertThat(r.udpBackendChannels()).isEqualTo(r.activeUdpFlows());

        r.close();
        assertThat(r.activeUdpFlows()).isZero();
        await(() -> r.udpBackendChannels() == 0, Duration.ofSeconds(5), "backend sockets closed");
    }

    /** A {@code dns} route serves TCP and UDP with the same target. */
    @Test
    void oneRouteServesTcpAndUdp() throws Exception {
        UdpResponder udp = keep(UdpResponder.echo());
        Refractium r = keep(builder(false)
                .listen("127.0.0.1", 0)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", udp.hostAndPort()))
                .build().start());
        assertThat(r.localAddresses()).hasSize(1);
        try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
            byte[] q = dnsQuery(7, "x.example");
            assertThat(exchange(s, r.udpLocalAddresses().get(0), q)).isEqualTo(q);
        }
    }

    // ---------------------------------------------------------------- many flows

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void aThousandSourcePortsEachGetTheirOwnFlow(boolean epoll) throws Exception {
        assumeTransport(epoll);
        UdpResponder backend = keep(new UdpResponder(InetAddress.getLoopbackAddress(), (d, from) -> {
            byte[] reply = Arrays.copyOf(d, d.length + 2);
            reply[d.length] = (byte) (from.getPort() >> 8);
            reply[d.length + 1] = (byte) from.getPort();
            return reply;
        }));
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        Set<Integer> backendPorts = new HashSet<>();
        int ports = 1000;
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            // Every socket stays open to the end, so that no port is used twice.
            for (int batch = 0; batch < ports / 100; batch++) {
                for (int i = 0; i < 100; i++) {
                    DatagramSocket s = socket(InetAddress.getLoopbackAddress());
                    sockets.add(s);
                    byte[] q = dnsQuery(batch * 100 + i, "n" + i + ".example");
                    s.send(new DatagramPacket(q, q.length, proxy));
                }
                for (int i = 0; i < 100; i++) {
                    byte[] buf = new byte[1024];
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    sockets.get(batch * 100 + i).receive(p);
                    int id = ((buf[0] & 0xFF) << 8) | (buf[1] & 0xFF);
                    assertThat(id).isEqualTo(batch * 100 + i);
                    backendPorts.add(((buf[p.getLength() - 2] & 0xFF) << 8) | (buf[p.getLength() - 1] & 0xFF));
                }
            }
        } finally {
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }
        assertThat(backendPorts).as("one backend socket per flow").hasSize(ports);
        assertThat(r.activeUdpFlows()).isEqualTo(ports);
        assertThat(r.udpBackendChannels()).isEqualTo(ports);
        r.close();
        await(() -> r.udpBackendChannels() == 0, Duration.ofSeconds(10), "backend sockets closed");
        assertThat(r.activeUdpFlows()).isZero();
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void aGarbageFloodStaysBoundedAndTheListenerKeepsServing(boolean epoll) throws Exception {
        assumeTransport(epoll);
        UdpResponder backend = keep(UdpResponder.echo());
        int maxFlows = 200;
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .protocol(UdpProtocols.twoParts()) // says NEED_MORE on PART1, so some garbage flows wait
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .udpMaxFlows(maxFlows)
                .udpMaxFlowsInDetection(50)
                .peekTimeout(Duration.ofMillis(500))
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        Random random = new Random(42);
        int most = 0;
        long mostPeek = 0;
        for (int batch = 0; batch < 20; batch++) {
            List<DatagramSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    sockets.add(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
                }
                for (int round = 0; round < 5; round++) {
                    for (DatagramSocket s : sockets) {
                        byte[] junk = new byte[3 + random.nextInt(1400)];
                        random.nextBytes(junk);
                        if (random.nextInt(4) == 0) {
                            System.arraycopy("PART1".getBytes(StandardCharsets.US_ASCII), 0, junk, 0,
                                    Math.min(5, junk.length));
                        } else {
                            junk[2] = (byte) 0x80; // a DNS response, never a query
                        }
                        s.send(new DatagramPacket(junk, junk.length, proxy));
                    }
                }
            } finally {
                for (DatagramSocket s : sockets) {
                    s.close();
                }
            }
            most = Math.max(most, r.activeUdpFlows());
            mostPeek = Math.max(mostPeek, r.peekMemoryBytes());
            assertThat(r.activeUdpFlows()).isLessThanOrEqualTo(maxFlows);
            assertThat(r.udpFlowsInDetection()).isLessThanOrEqualTo(50);
        }
        // 2 000 garbage flows came; the table never held more than its bound.
        assertThat(most).isLessThanOrEqualTo(maxFlows).isGreaterThan(0);
        assertThat(mostPeek).isLessThanOrEqualTo(50L * 4 * 2048);
        Long refused = r.refusals().get(RefusalReason.MAX_DETECTING);
        Long rejected = r.udpDrops().get(UdpListener.Drop.REJECTED_FLOW);
        assertThat(refused + rejected).isGreaterThan(0);
        // The listener still serves a real client, which retries like a DNS client: while garbage flows fill the
        // detection cap (until their detection deadline), new flows are refused.
        try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(250);
            byte[] q = dnsQuery(99, "still.example");
            byte[] answer = null;
            for (int attempt = 0; attempt < 40 && answer == null; attempt++) {
                try {
                    answer = exchange(s, proxy, q);
                } catch (SocketTimeoutException e) {
                    // retry
                }
            }
            assertThat(answer).as("flows %s, detecting %s, refusals %s, drops %s", r.activeUdpFlows(),
                    r.udpFlowsInDetection(), r.refusals(), r.udpDrops()).isEqualTo(q);
        }
        await(() -> r.udpFlowsInDetection() == 0, Duration.ofSeconds(5), "detection over");
        await(() -> r.peekMemoryBytes() == 0, Duration.ofSeconds(5), "peek memory released");
        assertThat(r.udpBackendChannels()).isLessThanOrEqualTo(r.activeUdpFlows());
    }

    // ---------------------------------------------------------------- expiry, caps, hooks

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void idleFlowsExpireAndCloseTheirBackendSockets(boolean epoll) throws Exception {
        assumeTransport(epoll);
        UdpResponder backend = keep(UdpResponder.echo());
        Queue<String> events = new ConcurrentLinkedQueue<>();
        Queue<ConnectionSummary> closed = new ConcurrentLinkedQueue<>();
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .udpFlowIdleTimeout(Duration.ofSeconds(1))
                .hook(new Hook() {
                    @Override
                    public io.refractium.hook.Admission onAccepted(ConnectionInfo c) {
                        events.add(c.id() + " accepted");
                        return io.refractium.hook.Admission.ACCEPT;
                    }

                    @Override
                    public void onDetected(ConnectionInfo c, Detection d) {
                        events.add(c.id() + " detected " + d.protocol());
                    }

                    @Override
                    public io.refractium.hook.RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
                        events.add(c.id() + " route " + t.name());
                        return io.refractium.hook.RouteDecision.proceed();
                    }

                    @Override
                    public void onBackendConnected(ConnectionInfo c, InetSocketAddress b) {
                        events.add(c.id() + " backend " + b.getPort());
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        events.add(c.id() + " closed");
                        closed.add(s);
                    }
                })
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                DatagramSocket s = socket(InetAddress.getLoopbackAddress());
                sockets.add(s);
                byte[] q = dnsQuery(i, "e.example");
                assertThat(exchange(s, proxy, q)).isEqualTo(q);
                assertThat(exchange(s, proxy, q)).isEqualTo(q);
            }
            assertThat(r.activeUdpFlows()).isEqualTo(20);
            assertThat(r.udpBackendChannels()).isEqualTo(20);
        } finally {
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }
        await(() -> r.activeUdpFlows() == 0, Duration.ofSeconds(10), "flows expired");
        await(() -> r.udpBackendChannels() == 0, Duration.ofSeconds(5), "backend sockets closed");
        await(() -> closed.size() == 20, Duration.ofSeconds(5), "onClosed for every flow");
        int q = dnsQuery(0, "e.example").length;
        for (ConnectionSummary s : closed) {
            assertThat(s.reason()).isEqualTo(CloseReason.IDLE_TIMEOUT);
            assertThat(s.bytesFromClient()).isEqualTo(2L * q);
            assertThat(s.bytesToClient()).isEqualTo(2L * q);
            assertThat(s.backend().getPort()).isEqualTo(backend.address().getPort());
        }
        String id = events.peek().split(" ")[0];
        List<String> first = events.stream().filter(e -> e.startsWith(id + " ")).map(e -> e.substring(id.length() + 1))
                .toList();
        assertThat(first).containsExactly("accepted", "detected dns", "route dns",
                "backend " + backend.address().getPort(), "closed");
    }

    @Test
    void theTableAndEachAddressAreCapped() throws Exception {
        UdpResponder backend = keep(UdpResponder.echo());
        Refractium r = keep(builder(false)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .udpMaxFlowsPerAddress(5)
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            int answered = 0;
            for (int i = 0; i < 8; i++) {
                DatagramSocket s = socket(InetAddress.getLoopbackAddress());
                s.setSoTimeout(300);
                sockets.add(s);
                try {
                    exchange(s, proxy, dnsQuery(i, "cap.example"));
                    answered++;
                } catch (SocketTimeoutException e) {
                    // refused: over the per-address cap
                }
            }
            assertThat(answered).isEqualTo(5);
            assertThat(r.activeUdpFlows()).isEqualTo(5);
            assertThat(r.refusals().get(RefusalReason.MAX_CONNECTIONS_PER_IP)).isEqualTo(3);
        } finally {
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }

        Refractium small = keep(builder(false)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .udpMaxFlows(10)
                .build().start());
        InetSocketAddress smallProxy = small.udpLocalAddresses().get(0);
        for (int i = 0; i < 40; i++) {
            try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
                byte[] q = dnsQuery(i, "evict.example");
                s.send(new DatagramPacket(q, q.length, smallProxy));
                s.setSoTimeout(300);
                try {
                    s.receive(new DatagramPacket(new byte[512], 512));
                } catch (SocketTimeoutException e) {
                    // the table evicted the new flow at once: allowed
                }
            }
        }
        await(() -> small.activeUdpFlows() <= 10, Duration.ofSeconds(5), "table within its size");
        await(() -> small.udpBackendChannels() <= 10, Duration.ofSeconds(5), "evicted flows closed their sockets");
    }

    // ---------------------------------------------------------------- detection over several datagrams

    @Test
    void heldDatagramsAreReplayedInOrder() throws Exception {
        Queue<String> seen = new ConcurrentLinkedQueue<>();
        UdpResponder backend = keep(new UdpResponder(InetAddress.getLoopbackAddress(), (d, from) -> {
            seen.add(new String(d, StandardCharsets.US_ASCII));
            return d;
        }));
        Refractium r = keep(builder(false)
                .protocol(UdpProtocols.twoParts())
                .route("twoparts", ForwardTarget.of("t", backend.hostAndPort()))
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
            for (String m : List.of("PART1-a", "PART2-b", "PART3-c")) {
                byte[] b = m.getBytes(StandardCharsets.US_ASCII);
                s.send(new DatagramPacket(b, b.length, proxy));
                Thread.sleep(20);
            }
            await(() -> seen.size() == 3, Duration.ofSeconds(5), "three datagrams at the backend");
        }
        assertThat(seen).containsExactly("PART1-a", "PART2-b", "PART3-c");
    }

    // ---------------------------------------------------------------- QUIC connection ids

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void aQuicClientThatChangesPortKeepsItsBackend(boolean epoll) throws Exception {
        assumeTransport(epoll);
        byte[] serverId = "SRVCID01".getBytes(StandardCharsets.US_ASCII);
        Queue<String> seenBy = new ConcurrentLinkedQueue<>();
        List<UdpResponder> backends = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            String name = "b" + b;
            backends.add(keep(new UdpResponder(InetAddress.getLoopbackAddress(), (d, from) -> {
                seenBy.add(name + " " + from.getPort());
                if ((d[0] & 0x80) != 0) {
                    // A long-header reply (Handshake type) with the server's connection id as SCID.
                    ByteBuffer reply = ByteBuffer.allocate(64);
                    reply.put((byte) 0xE0).putInt(1).put((byte) 0).put((byte) serverId.length).put(serverId)
                            .put(name.getBytes(StandardCharsets.US_ASCII));
                    return Arrays.copyOf(reply.array(), reply.position());
                }
                return (name + " short").getBytes(StandardCharsets.US_ASCII);
            })));
        }
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.quic())
                .route("quic", ForwardTarget.of("quic", backends.get(0).hostAndPort(), backends.get(1).hostAndPort()))
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        ByteBuffer initial = ByteBuffer.allocate(1200);
        initial.put((byte) 0xC0).putInt(1).put((byte) 8).put("CLIENTID".getBytes(StandardCharsets.US_ASCII))
                .put((byte) 0);
        byte[] first = initial.array();
        String servedBy;
        try (DatagramSocket a = socket(InetAddress.getLoopbackAddress())) {
            byte[] reply = exchange(a, proxy, first);
            servedBy = new String(reply, reply.length - 2, 2, StandardCharsets.US_ASCII);
        }
        // The client's port changes; its short-header packets carry the server's connection id.
        byte[] shortHeader = new byte[40];
        shortHeader[0] = 0x41;
        System.arraycopy(serverId, 0, shortHeader, 1, serverId.length);
        try (DatagramSocket b = socket(InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 3; i++) {
                byte[] reply = exchange(b, proxy, shortHeader);
                assertThat(new String(reply, StandardCharsets.US_ASCII)).isEqualTo(servedBy + " short");
            }
        }
        Set<String> backendSockets = new HashSet<>(seenBy);
        assertThat(backendSockets).as("every datagram reached one backend from one socket").hasSize(1);
        assertThat(r.activeUdpFlows()).isEqualTo(1);
        assertThat(r.udpBackendChannels()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- health

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void anIcmpPortUnreachableMarksTheBackend(boolean epoll) throws Exception {
        assumeTransport(epoll);
        int deadPort;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            deadPort = probe.getLocalPort();
        }
        UdpResponder live = keep(UdpResponder.echo());
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.builder("dns")
                        .backend("127.0.0.1:" + deadPort)
                        .backend(live.hostAndPort())
                        .loadBalancer(io.refractium.balance.LoadBalancers.roundRobin())
                        .ejectAfter(1)
                        .ejectionCooldown(Duration.ofSeconds(30))
                        .build())
                .hook(new Hook() {
                    @Override
                    public void onBackendFailed(ConnectionInfo c, InetSocketAddress b, Throwable cause) {
                        failures.add(cause);
                    }
                })
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        for (int i = 0; i < 4 && failures.isEmpty(); i++) {
            try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
                byte[] q = dnsQuery(i, "icmp.example");
                s.send(new DatagramPacket(q, q.length, proxy));
                Thread.sleep(100);
            }
        }
        await(() -> !failures.isEmpty(), Duration.ofSeconds(5), "a backend failure from ICMP");
        assertThat(failures.peek()).isInstanceOf(java.net.PortUnreachableException.class);
        await(() -> health(r, deadPort) == Health.EJECTED, Duration.ofSeconds(5), "dead backend ejected");
        // New flows now go to the live backend only.
        for (int i = 0; i < 4; i++) {
            try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
                byte[] q = dnsQuery(100 + i, "icmp.example");
                assertThat(exchange(s, proxy, q)).isEqualTo(q);
            }
        }
    }

    private static Health health(Refractium r, int port) {
        for (BackendStatus b : r.target("dns").backends()) {
            if (b.backend().port() == port) {
                return b.health();
            }
        }
        return null;
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void aUdpHealthCheckMarksBackendsDownAndUp(boolean epoll) throws Exception {
        assumeTransport(epoll);
        byte[] probe = dnsQuery(0x4242, "health.example");
        UdpResponder backend = keep(new UdpResponder(InetAddress.getLoopbackAddress(),
                (d, from) -> Arrays.equals(d, probe) ? d : null));
        int dead;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            dead = s.getLocalPort();
        }
        HealthCheck check = HealthCheck.udp(probe, new byte[] {0x42, 0x42})
                .withInterval(Duration.ofMillis(100)).withTimeout(Duration.ofMillis(300)).withRise(1).withFall(1);
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.builder("dns")
                        .backend(backend.hostAndPort())
                        .backend("127.0.0.1:" + dead)
                        .healthCheck(check)
                        .build())
                .build().start());
        await(() -> health(r, dead) == Health.DOWN, Duration.ofSeconds(10), "the dead backend down");
        await(() -> backend.received() >= 2, Duration.ofSeconds(10), "checks reached the live backend");
        int live = backend.address().getPort();
        assertThat(health(r, live)).isEqualTo(Health.UP);
        backend.close();
        await(() -> health(r, live) == Health.DOWN, Duration.ofSeconds(10),
                "the closed backend down");
    }

    // ---------------------------------------------------------------- sizes and families

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void theLargestDatagramGoesBothWays(boolean epoll) throws Exception {
        assumeTransport(epoll);
        UdpResponder backend = keep(UdpResponder.echo());
        Refractium r = keep(builder(epoll)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .build().start());
        byte[] big = new byte[65_507];
        new Random(7).nextBytes(big);
        System.arraycopy(dnsQuery(5, "big.example"), 0, big, 0, dnsQuery(5, "big.example").length);
        try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
            s.setReceiveBufferSize(1 << 20);
            s.setSendBufferSize(1 << 20);
            byte[] back = exchange(s, r.udpLocalAddresses().get(0), big);
            assertThat(back).hasSize(65_507).isEqualTo(big);
            back = exchange(s, r.udpLocalAddresses().get(0), big);
            assertThat(back).isEqualTo(big);
        }
    }

    @ParameterizedTest(name = "epoll={0}")
    @ValueSource(booleans = {false, true})
    void ipv6Loopback(boolean epoll) throws Exception {
        assumeTransport(epoll);
        InetAddress v6;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("::1", 0))) {
            v6 = s.getLocalAddress();
        } catch (IOException e) {
            assumeTrue(false, "no IPv6 loopback: " + e);
            return;
        }
        assumeTrue(v6 instanceof Inet6Address, "no IPv6 loopback");
        UdpResponder backend = keep(new UdpResponder(v6, (d, from) -> d));
        Refractium r = keep(Refractium.builder()
                .listenUdp("::1", 0)
                .nativeTransport(epoll)
                .shutdownGracePeriod(Duration.ZERO)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        assertThat(proxy.getAddress()).isInstanceOf(Inet6Address.class);
        try (DatagramSocket s = socket(v6)) {
            byte[] q = dnsQuery(6, "six.example");
            assertThat(exchange(s, proxy, q)).isEqualTo(q);
        }
        assertThat(backend.senders().peek().getAddress()).isInstanceOf(Inet6Address.class);
    }

    @Test
    void aMetricsRecorderSeesEachFlowOpenAndClose() throws Exception {
        UdpResponder backend = keep(UdpResponder.echo());
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger connected = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        Refractium r = keep(builder(false)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.of("dns", backend.hostAndPort()))
                .metrics(new io.refractium.metrics.MetricsRecorder() {
                    @Override
                    public void connectionAccepted(InetSocketAddress listener) {
                        accepted.incrementAndGet();
                    }

                    @Override
                    public void connectSucceeded(ConnectionInfo c, ForwardTarget t, Backend b, long nanos) {
                        connected.incrementAndGet();
                    }

                    @Override
                    public void connectionClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.incrementAndGet();
                    }
                })
                .build().start());
        List<DatagramSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                DatagramSocket s = socket(InetAddress.getLoopbackAddress());
                sockets.add(s);
                byte[] q = dnsQuery(i, "m.example");
                assertThat(exchange(s, r.udpLocalAddresses().get(0), q)).isEqualTo(q);
            }
        } finally {
            for (DatagramSocket s : sockets) {
                s.close();
            }
        }
        assertThat(accepted.get()).isEqualTo(3);
        assertThat(connected.get()).isEqualTo(3);
        r.close();
        await(() -> closed.get() == 3, Duration.ofSeconds(5), "every flow closed");
    }

    @Test
    void ioUringForwardsFlowsAndSeesPortUnreachable() throws Exception {
        assumeTrue(Transports.isIoUringAvailable(), "io_uring is not available");
        int deadPort;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            deadPort = probe.getLocalPort();
        }
        UdpResponder live = keep(UdpResponder.echo());
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Refractium r = keep(Refractium.builder()
                .listenUdp("127.0.0.1", 0)
                .transport(IoTransport.IO_URING)
                .workerThreads(2)
                .shutdownGracePeriod(Duration.ZERO)
                .protocol(UdpProtocols.dns())
                .route("dns", ForwardTarget.builder("dns")
                        .backend("127.0.0.1:" + deadPort)
                        .backend(live.hostAndPort())
                        .ejectAfter(1)
                        .ejectionCooldown(Duration.ofSeconds(30))
                        .build())
                .hook(new Hook() {
                    @Override
                    public void onBackendFailed(ConnectionInfo c, InetSocketAddress b, Throwable cause) {
                        failures.add(cause);
                    }
                })
                .build().start());
        InetSocketAddress proxy = r.udpLocalAddresses().get(0);
        int answered = 0;
        for (int i = 0; i < 6; i++) {
            try (DatagramSocket s = socket(InetAddress.getLoopbackAddress())) {
                s.setSoTimeout(500);
                byte[] q = dnsQuery(i, "uring.example");
                try {
                    assertThat(exchange(s, proxy, q)).isEqualTo(q);
                    answered++;
                } catch (SocketTimeoutException e) {
                    // the flow that went to the dead backend
                }
            }
        }
        assertThat(answered).isGreaterThanOrEqualTo(4);
        await(() -> !failures.isEmpty(), Duration.ofSeconds(5), "a backend failure from ICMP");
        await(() -> health(r, deadPort) == Health.EJECTED, Duration.ofSeconds(5), "dead backend ejected");
        r.close();
        await(() -> r.udpBackendChannels() == 0, Duration.ofSeconds(5), "backend sockets closed");
    }
}
