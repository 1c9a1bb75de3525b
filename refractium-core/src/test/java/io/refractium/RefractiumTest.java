package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.Hook;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.transport.Transports;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The engine end to end on loopback: detection outcomes, routing, failover, hooks, route swaps and shutdown. */
@Timeout(30)
class RefractiumTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private TestServer greeter(String name) {
        TestServer s = TestServer.greeter(name);
        closeables.add(s);
        return s;
    }

    private RefractiumBuilder builder() {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .protocol(new PrefixProtocol("beta", "BETA", 0, true))
                .shutdownGracePeriod(Duration.ofSeconds(2));
    }

    private Refractium start(RefractiumBuilder b) {
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    private Socket connect(Refractium r) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(5000);
        closeables.add(s);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static String line(Socket s) throws IOException {
        return TestServer.readLine(s.getInputStream());
    }

    @Test
    void routesEachProtocolToItsTargetAndReplaysThePeekedBytes() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .route("beta", ForwardTarget.of("b", b.hostAndPort())));

        Socket c1 = connect(r);
        send(c1, "ALPHA hello\n");
        assertThat(line(c1)).isEqualTo("a");
        assertThat(line(c1)).isEqualTo("ALPHA hello");

        Socket c2 = connect(r);
        send(c2, "BETA");
        send(c2, " x\n");
        assertThat(line(c2)).isEqualTo("b");
        assertThat(line(c2)).isEqualTo("BETA x");
    }

    @Test
    void detectsWhenTheFirstBytesArriveOneAtATime() throws Exception {
        TestServer a = greeter("a");
        Refractium r = start(builder().route("alpha", ForwardTarget.of("a", a.hostAndPort())));
        Socket c = connect(r);
        c.setTcpNoDelay(true);
        for (char ch : "ALPHA!\n".toCharArray()) {
            send(c, String.valueOf(ch));
            Thread.sleep(5);
        }
        assertThat(line(c)).isEqualTo("a");
        assertThat(line(c)).isEqualTo("ALPHA!");
    }

    @Test
    void backendsMayBeIpv6LiteralsOrNames() throws Exception {
        // Bound to the wildcard address, so "localhost" works whether it resolves to 127.0.0.1 or ::1.
        TestServer any = TestServer.greeter(new InetSocketAddress(0), "any");
        closeables.add(any);
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("named", "localhost:" + any.port()))
                .route("beta", ForwardTarget.of("v6", "[::1]:" + any.port())));
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("any");
        boolean ipv6 = java.net.NetworkInterface.networkInterfaces().anyMatch(n -> n.inetAddresses()
                .anyMatch(a -> a instanceof java.net.Inet6Address && a.isLoopbackAddress()));
        if (ipv6) {
            Socket d = connect(r);
            send(d, "BETAx\n");
            assertThat(line(d)).isEqualTo("any");
        }
    }

    /**
     * Listeners and backend sockets take the address family of their address: an IPv6 listener relays to an IPv4
     * backend and an IPv4 listener to an IPv6 one, on every transport, the client address seen as the family it is.
     */
    @ParameterizedTest
    @EnumSource(IoTransport.class)
    void listenersAndBackendsOfEitherAddressFamilyRelay(IoTransport transport) throws Exception {
        assumeTrue(transport != IoTransport.EPOLL || io.netty.channel.epoll.Epoll.isAvailable(), "no epoll");
        assumeTrue(transport != IoTransport.IO_URING || Transports.isIoUringAvailable(), "no io_uring");
        assumeTrue(java.net.NetworkInterface.networkInterfaces().anyMatch(n -> n.inetAddresses()
                .anyMatch(a -> a instanceof java.net.Inet6Address && a.isLoopbackAddress())), "no IPv6 loopback");
        TestServer any = TestServer.greeter(new InetSocketAddress(0), "any");
        closeables.add(any);
        List<java.net.InetAddress> clients = new CopyOnWriteArrayList<>();
        Refractium r = start(builder()
                .listen("::1", 0)
                .transport(transport)
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        clients.add(c.clientAddress().getAddress());
                        return Admission.ACCEPT;
                    }
                })
                .route("alpha", ForwardTarget.of("v4", "127.0.0.1:" + any.port()))
                .route("beta", ForwardTarget.of("v6", "[::1]:" + any.port())));
        for (InetSocketAddress listener : r.localAddresses()) {
            for (String prefix : new String[] {"ALPHA\n", "BETAx\n"}) {
                Socket c = new Socket();
                closeables.add(c);
                c.connect(listener, 2000);
                c.setSoTimeout(5000);
                send(c, prefix);
                assertThat(line(c)).as("%s via %s", prefix.trim(), listener).isEqualTo("any");
            }
        }
        assertThat(clients).hasSize(4);
        assertThat(clients).filteredOn(a -> a instanceof java.net.Inet6Address).hasSize(2);
        assertThat(clients).filteredOn(a -> a instanceof java.net.Inet4Address).hasSize(2);
    }

    @Test
    void theMostSpecificRouteWinsThenDeclaredOrder() throws Exception {
        TestServer exact = greeter("exact");
        TestServer wild = greeter("wild");
        TestServer any = greeter("any");
        Refractium r = start(builder()
                .route("beta", ForwardTarget.of("any", any.hostAndPort()))
                .route(Route.builder("beta").sni("*.example").to(ForwardTarget.of("wild", wild.hostAndPort())))
                .route(Route.builder("beta").sni("a.example").to(ForwardTarget.of("exact", exact.hostAndPort()))));

        Socket c1 = connect(r);
        send(c1, "BETAA.Example.\n");
        assertThat(line(c1)).isEqualTo("exact");
        Socket c2 = connect(r);
        send(c2, "BETAz.b.example\n");
        assertThat(line(c2)).isEqualTo("wild");
        Socket c3 = connect(r);
        send(c3, "BETAexample\n");
        assertThat(line(c3)).isEqualTo("any");
    }

    @Test
    void garbageGoesToTheFallback() throws Exception {
        TestServer fb = greeter("fallback");
        Refractium r = start(builder().fallback(ForwardTarget.of("fb", fb.hostAndPort())));
        Socket c = connect(r);
        send(c, "\u0001\u0002garbage\n");
        assertThat(line(c)).isEqualTo("fallback");
        assertThat(line(c)).isEqualTo("\u0001\u0002garbage");
    }

    @Test
    void aDetectedProtocolWithoutARouteGoesToTheFallback() throws Exception {
        TestServer fb = greeter("fallback");
        Refractium r = start(builder().fallback(ForwardTarget.of("fb", fb.hostAndPort())));
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("fallback");
    }

    @Test
    void garbageWithoutFallbackIsClosed() throws Exception {
        Refractium r = start(builder());
        Socket c = connect(r);
        send(c, "nothing we know\n");
        assertThat(c.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void tooManyBytesGoToTheFallback() throws Exception {
        TestServer fb = greeter("fallback");
        BlockingQueue<DetectionFailure> failures = new LinkedBlockingQueue<>();
        Refractium r = start(builder()
                .maxPeekBytes(8)
                .protocol(new PrefixProtocol("long", "0123456789ABCDEF"))
                .fallback(ForwardTarget.of("fb", fb.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public void onDetectionFailed(ConnectionInfo c, DetectionFailure reason, int peeked) {
                        failures.add(reason);
                    }
                }));
        Socket c = connect(r);
        send(c, "0123456789AB");
        assertThat(line(c)).isEqualTo("fallback");
        assertThat(c.getInputStream().readNBytes(12)).asString(StandardCharsets.US_ASCII).isEqualTo("0123456789AB");
        assertThat(failures.poll(5, TimeUnit.SECONDS)).isEqualTo(DetectionFailure.TOO_MANY_BYTES);
    }

    @Test
    void aSilentClientReachesTheSilentClientTarget() throws Exception {
        TestServer banner = greeter("SSH-2.0-banner");
        Refractium r = start(builder()
                .silenceTimeout(Duration.ofMillis(200))
                .onSilence(ForwardTarget.of("ssh", banner.hostAndPort())));
        Socket c = connect(r);
        long t0 = System.nanoTime();
        assertThat(line(c)).isEqualTo("SSH-2.0-banner");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        send(c, "after the banner\n");
        assertThat(line(c)).isEqualTo("after the banner");
    }

    @Test
    void aPartialPrefixPastTheDeadlineGoesToTheFallback() throws Exception {
        TestServer fb = greeter("fallback");
        Refractium r = start(builder()
                .peekTimeout(Duration.ofMillis(300))
                .fallback(ForwardTarget.of("fb", fb.hostAndPort())));
        Socket c = connect(r);
        send(c, "ALP");
        assertThat(line(c)).isEqualTo("fallback");
    }

    @Test
    void aHigherPriorityDetectorIsWaitedForUntilTheDeadlineThenTheLowerMatchWins() throws Exception {
        TestServer low = greeter("low");
        TestServer high = greeter("high");
        Refractium r = start(Refractium.builder().listen("127.0.0.1", 0)
                .peekTimeout(Duration.ofMillis(300))
                .protocol(new PrefixProtocol("longer", "LONGER", 10, false))
                .protocol(new PrefixProtocol("lo", "LO", 0, false))
                .route("longer", ForwardTarget.of("high", high.hostAndPort()))
                .route("lo", ForwardTarget.of("low", low.hostAndPort())));
        Socket waiting = connect(r);
        send(waiting, "LON");
        assertThat(line(waiting)).isEqualTo("low");
        Socket full = connect(r);
        send(full, "LONGER\n");
        assertThat(line(full)).isEqualTo("high");
    }

    @Test
    void aDeadBackendGivesThePromptClose() throws Exception {
        int dead = TestServer.deadPort();
        BlockingQueue<ConnectionSummary> closed = new LinkedBlockingQueue<>();
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("dead", "127.0.0.1:" + dead))
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.add(s);
                    }
                }));
        Socket c = connect(r);
        long t0 = System.nanoTime();
        send(c, "ALPHA\n");
        assertThat(c.getInputStream().read()).isEqualTo(-1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        ConnectionSummary s = closed.poll(5, TimeUnit.SECONDS);
        assertThat(s).isNotNull();
        assertThat(s.reason()).isEqualTo(CloseReason.BACKEND_UNAVAILABLE);
        assertThat(s.backend()).isNull();
    }

    @Test
    void aFailedBackendIsSkippedForTheNextOne() throws Exception {
        TestServer live = greeter("live");
        Refractium r = start(builder().route("alpha",
                ForwardTarget.of("pair", "127.0.0.1:" + TestServer.deadPort(), live.hostAndPort())));
        for (int i = 0; i < 4; i++) {
            Socket c = connect(r);
            send(c, "ALPHA\n");
            assertThat(line(c)).isEqualTo("live");
        }
    }

    @Test
    void roundRobinSpreadsConnectionsOverTheBackends() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(builder().route("alpha", ForwardTarget.of("ab", a.hostAndPort(), b.hostAndPort())));
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket c = connect(r);
            send(c, "ALPHA\n");
            seen.add(line(c));
        }
        assertThat(seen).containsExactlyInAnyOrder("a", "a", "b", "b");
        assertThat(seen.get(0)).isNotEqualTo(seen.get(1));
    }

    @Test
    void eachTargetUsesItsOwnStrategyAndWeights() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.builder("weighted")
                        .backend(Backend.parse(a.hostAndPort()).withWeight(2)).backend(b.hostAndPort())
                        .loadBalancer(io.refractium.balance.LoadBalancers.weighted()).build())
                .route("beta", ForwardTarget.builder("sticky").backend(a.hostAndPort()).backend(b.hostAndPort())
                        .loadBalancer(io.refractium.balance.LoadBalancers.hashClientIp()).build()));
        List<String> weighted = new ArrayList<>();
        List<String> sticky = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Socket c = connect(r);
            send(c, "ALPHA\n");
            weighted.add(line(c));
            Socket d = connect(r);
            send(d, "BETAx\n");
            sticky.add(line(d));
        }
        assertThat(weighted).containsExactly("a", "b", "a", "a", "b", "a");
        assertThat(sticky).containsOnly(sticky.get(0));
    }

    @Test
    void hooksSeeEveryStepInOrderAndAThrowingHookBreaksNothingWhenFailingOpen() throws Exception {
        TestServer a = greeter("a");
        List<String> events = new CopyOnWriteArrayList<>();
        CompletableFuture<ConnectionSummary> closed = new CompletableFuture<>();
        Refractium r = start(builder()
                .hookFailurePolicy(io.refractium.hook.HookFailurePolicy.FAIL_OPEN)
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        throw new IllegalStateException("a broken hook");
                    }

                    @Override
                    public void onDetected(ConnectionInfo c, Detection d) {
                        throw new IllegalStateException("a broken hook");
                    }
                })
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        events.add("accepted");
                        return Admission.ACCEPT;
                    }

                    @Override
                    public void onDetected(ConnectionInfo c, Detection d) {
                        events.add("detected " + d.protocol() + " " + d.peekedBytes());
                    }

                    @Override
                    public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
                        events.add("route " + t.name());
                        return RouteDecision.proceed();
                    }

                    @Override
                    public void onBackendConnected(ConnectionInfo c, InetSocketAddress backend) {
                        events.add("connected " + backend.getPort());
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        events.add("closed " + s.reason());
                        closed.complete(s);
                    }
                }));
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("a");
        assertThat(line(c)).isEqualTo("ALPHA");
        c.close();
        ConnectionSummary s = closed.get(5, TimeUnit.SECONDS);
        assertThat(events).containsExactly("accepted", "detected alpha 6", "route a", "connected " + a.port(),
                "closed COMPLETED");
        assertThat(s.bytesFromClient()).isEqualTo(6);
        assertThat(s.bytesToClient()).isEqualTo(2 + 6);
        assertThat(s.backend().getPort()).isEqualTo(a.port());
    }

    @Test
    void aHookCanRefuseAndReroute() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        ForwardTarget toB = ForwardTarget.of("b", b.hostAndPort());
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .route("beta", ForwardTarget.of("a2", a.hostAndPort()))
                .target(toB)
                .hook(new Hook() {
                    @Override
                    public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
                        return c.protocol().equals("alpha") ? RouteDecision.reroute(toB) : RouteDecision.refuse("no beta");
                    }
                }));
        Socket c1 = connect(r);
        send(c1, "ALPHA\n");
        assertThat(line(c1)).isEqualTo("b");
        Socket c2 = connect(r);
        send(c2, "BETAx\n");
        assertThat(c2.getInputStream().read()).isEqualTo(-1);
        assertThat(a.accepted()).isZero();
        // The declared target has its runtime: the rerouted connection was counted and returned to zero.
        c1.close();
        Await.until("counts back to zero", () -> r.target("b").backends().get(0).activeConnections() == 0
                && r.activeConnections() == 0);
        assertThat(r.target("b").backends().get(0).connectFailures()).isZero();
    }

    @Test
    void aRerouteByNameGoesToTheTableTargetAndAnUnknownOneIsClosed() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        List<CloseReason> reasons = new CopyOnWriteArrayList<>();
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .route("beta", ForwardTarget.of("a2", a.hostAndPort()))
                .target(ForwardTarget.of("b", b.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
                        return c.protocol().equals("alpha") ? RouteDecision.reroute("b")
                                : RouteDecision.reroute(ForwardTarget.of("elsewhere", b.hostAndPort()));
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        reasons.add(s.reason());
                    }
                }));
        Socket c1 = connect(r);
        send(c1, "ALPHA\n");
        assertThat(line(c1)).isEqualTo("b");
        c1.close();
        Socket c2 = connect(r);
        send(c2, "BETAx\n");
        assertThat(c2.getInputStream().read()).isEqualTo(-1);
        Await.until("both closed", () -> reasons.size() == 2);
        assertThat(reasons).containsExactlyInAnyOrder(CloseReason.COMPLETED, CloseReason.NO_ROUTE);
        assertThat(b.accepted()).isEqualTo(1);
        assertThat(a.accepted()).isZero();
    }

    @Test
    void aRouteSwapLeavesOpenConnectionsAlone() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(builder().route("alpha", ForwardTarget.of("t", a.hostAndPort())));
        Socket before = connect(r);
        send(before, "ALPHA\n");
        assertThat(line(before)).isEqualTo("a");

        r.updateRoutes(RoutingTable.builder().route("alpha", ForwardTarget.of("t", b.hostAndPort())).build());

        Socket after = connect(r);
        send(after, "ALPHA\n");
        assertThat(line(after)).isEqualTo("b");
        // The connection opened before the swap still talks to its backend.
        assertThat(line(before)).isEqualTo("ALPHA");
        send(before, "still here\n");
        assertThat(line(before)).isEqualTo("still here");
    }

    @Test
    void aRouteSwapToAnUnknownProtocolFailsAndKeepsTheOldTable() throws Exception {
        TestServer a = greeter("a");
        Refractium r = start(builder().route("alpha", ForwardTarget.of("a", a.hostAndPort())));
        RoutingTable old = r.routes();
        assertThatThrownBy(() -> r.updateRoutes(RoutingTable.builder()
                .route("gamma", ForwardTarget.of("a", a.hostAndPort())).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown protocol \"gamma\"");
        assertThat(r.routes()).isSameAs(old);
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        TestServer a = greeter("a");
        Refractium r = start(builder().idleTimeout(Duration.ofMillis(300))
                .route("alpha", ForwardTarget.of("a", a.hostAndPort())));
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("a");
        assertThat(line(c)).isEqualTo("ALPHA");
        long t0 = System.nanoTime();
        assertThat(c.getInputStream().read()).isEqualTo(-1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(200), Duration.ofSeconds(3));
    }

    @Test
    void closeDrainsOpenConnectionsThenStopsAccepting() throws Exception {
        TestServer a = greeter("a");
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .shutdownGracePeriod(Duration.ofSeconds(10))
                .build().start();
        InetSocketAddress address = r.localAddress();
        Socket c = new Socket();
        c.connect(address, 2000);
        c.setSoTimeout(5000);
        closeables.add(c);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("a");

        CompletableFuture<Void> closing = CompletableFuture.runAsync(r::close);
        Thread.sleep(300);
        assertThat(closing).isNotDone();
        // The open connection keeps working while the proxy drains.
        send(c, "during drain\n");
        assertThat(line(c)).isEqualTo("ALPHA");
        assertThat(line(c)).isEqualTo("during drain");
        // New connections are refused.
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(address, 1000);
            }
        }).isInstanceOf(IOException.class);
        c.close();
        closing.get(5, TimeUnit.SECONDS);
        assertThat(r.activeConnections()).isZero();
        r.close(); // idempotent
        assertThatThrownBy(r::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeEndsConnectionsThatOutliveTheGracePeriod() throws Exception {
        TestServer a = greeter("a");
        BlockingQueue<CloseReason> reasons = new LinkedBlockingQueue<>();
        Refractium r = builder().shutdownGracePeriod(Duration.ofMillis(200))
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        reasons.add(s.reason());
                    }
                })
                .build().start();
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("a");
        long t0 = System.nanoTime();
        r.close();
        // The grace period, then the connections it closes finish at once: no fixed wait on top.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(reasons.poll(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.SHUTDOWN);
        InputStream in = c.getInputStream();
        assertThat(in.readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("ALPHA\n");
    }

    @Test
    void listensOnSeveralAddresses() throws Exception {
        TestServer a = greeter("a");
        Refractium r = start(builder().listen("127.0.0.1", 0)
                .route("alpha", ForwardTarget.of("a", a.hostAndPort())));
        assertThat(r.localAddresses()).hasSize(2);
        for (InetSocketAddress address : r.localAddresses()) {
            assertThat(address.getPort()).isPositive();
            try (Socket s = new Socket()) {
                s.connect(address, 2000);
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                out.write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("a");
            }
        }
    }

    @Test
    void aDetectorThatThrowsIsTreatedAsNoMatchAndTheListenerKeepsGoing() throws Exception {
        TestServer a = greeter("a");
        RefractiumProtocol broken = new RefractiumProtocol() {
            @Override
            public String id() {
                return "broken";
            }

            @Override
            public int priority() {
                return 100;
            }

            @Override
            public int maxBytes() {
                return 64;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                buf.skipBytes(1); // also breaks the contract by moving the reader index
                throw new IllegalStateException("a broken detector");
            }
        };
        Refractium r = start(builder().protocol(broken).route("alpha", ForwardTarget.of("a", a.hostAndPort())));
        for (int i = 0; i < 3; i++) {
            Socket c = connect(r);
            send(c, "ALPHA\n");
            assertThat(line(c)).isEqualTo("a");
            assertThat(line(c)).as("the peeked bytes are intact").isEqualTo("ALPHA");
        }
    }

    @Test
    void runsOnCallerSuppliedEventLoopsAndLeavesThemRunning() throws Exception {
        TestServer a = greeter("a");
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            Refractium r = builder().eventLoopGroups(group, group)
                    .route("alpha", ForwardTarget.of("a", a.hostAndPort())).build().start();
            try (Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(5000);
                send(c, "ALPHA\n");
                assertThat(line(c)).isEqualTo("a");
            }
            r.close();
            assertThat(group.isShuttingDown()).isFalse();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void closeOnAnEventLoopIsRefusedInsteadOfDeadlocking() throws Exception {
        TestServer a = greeter("a");
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        Refractium[] self = new Refractium[1];
        Refractium r = start(builder().route("alpha", ForwardTarget.of("a", a.hostAndPort())).hook(new Hook() {
            @Override
            public Admission onAccepted(ConnectionInfo c) {
                try {
                    self[0].close();
                    thrown.complete(null);
                } catch (Throwable t) {
                    thrown.complete(t);
                }
                return Admission.ACCEPT;
            }
        }));
        self[0] = r;
        Socket c = connect(r);
        send(c, "ALPHA\n");
        assertThat(line(c)).isEqualTo("a");
        assertThat(thrown.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("event loops");
        assertThat(r.isRunning()).isTrue();
    }

    @Test
    void aBindFailureNamesTheAddress() throws Exception {
        TestServer taken = greeter("x");
        Refractium r = Refractium.builder().listen("127.0.0.1", taken.port())
                .protocol(new PrefixProtocol("alpha", "ALPHA")).build();
        assertThatThrownBy(r::start).isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("127.0.0.1:" + taken.port());
    }

    @Test
    void aSecondInstanceCannotShareTheFirstOnesPort() {
        Refractium first = start(builder());
        int port = first.localAddress().getPort();
        Refractium second = builder().listen("127.0.0.1", port).build();
        assertThatThrownBy(second::start).isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageContaining("127.0.0.1:" + port);
    }
}
