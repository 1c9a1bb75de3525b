package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.refractium.balance.LoadBalancers;
import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.hook.ProxyInfo;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.admit.AdmissionControl;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.ProxyBalancer;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Admission behind a load balancer, on loopback: clients bound to 127.0.0.2, 127.0.0.3, ... connect to a
 * {@link ProxyBalancer} on 127.0.0.1, which connects to Refractium from 127.0.0.1 and sends a PROXY header (v1 or
 * v2) naming the client. The per-address limits (cap, rate, lists) apply to the real client and never to the
 * balancer; refusals at the header stage are counted and reported with their reason; every counter returns to zero;
 * the header's TLVs reach hooks, routes and load balancers.
 */
@Timeout(60)
class ProxyAdmissionTest {

    private static final List<Cidr> BALANCER = List.of(Cidr.parse("127.0.0.1/32"));
    private static final InetAddress BALANCER_IP = address("127.0.0.1");

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> refusedEvents = new CopyOnWriteArrayList<>();
    private final List<ConnectionInfo> acceptedInfo = new CopyOnWriteArrayList<>();
    private final AtomicInteger closed = new AtomicInteger();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (IOException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    private final Hook recorder = new Hook() {
        @Override
        public Admission onAccepted(ConnectionInfo c) {
            acceptedInfo.add(c);
            return Admission.ACCEPT;
        }

        @Override
        public void onClosed(ConnectionInfo c, ConnectionSummary s) {
            closed.incrementAndGet();
        }

        @Override
        public void onRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
            refusedEvents.add(client.getAddress().getHostAddress() + " " + refusal.reason() + " " + refusal.limit());
        }
    };

    private RefractiumBuilder builder(AdmissionLimits limits, ProxyProtocolMode mode) {
        TestServer alpha = TestServer.greeter("alpha");
        closeables.add(alpha);
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .limits(limits)
                .shutdownGracePeriod(Duration.ZERO)
                .protocol(new PrefixProtocol("alpha", "HELLO"))
                .route("alpha", ForwardTarget.of("alpha", alpha.hostAndPort()))
                .acceptProxyProtocol(mode, BALANCER)
                .hook(recorder);
    }

    private Refractium start(RefractiumBuilder b) {
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    private ProxyBalancer balancer(Refractium r, HAProxyProtocolVersion version, Map<Byte, byte[]> tlvs) {
        ProxyBalancer b = ProxyBalancer.start(r.localAddress(), version, tlvs);
        closeables.add(b);
        return b;
    }

    private Socket connect(String from, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(to, 5000);
        return s;
    }

    /** Connects through the balancer and waits until the hooks were asked to accept the real client. */
    private Socket admitted(String from, InetSocketAddress balancer) throws IOException {
        int before = acceptedInfo.size();
        Socket s = connect(from, balancer);
        Await.until("connection from " + from + " admitted", () -> acceptedInfo.size() == before + 1);
        assertThat(acceptedInfo.get(before).clientAddress())
                .isEqualTo(new InetSocketAddress(from, s.getLocalPort()));
        s.setSoTimeout(200);
        assertThatThrownBy(() -> s.getInputStream().read()).as("still open").isInstanceOf(SocketTimeoutException.class);
        return s;
    }

    /** Connects through the balancer and expects the connection closed, refused for the reason, hooks told. */
    private void refused(Refractium r, String from, InetSocketAddress balancer, RefusalReason reason)
            throws IOException {
        long before = r.refusals().get(reason);
        int acceptedBefore = acceptedInfo.size();
        int eventsBefore = refusedEvents.size();
        Socket s = connect(from, balancer);
        s.setSoTimeout(5000);
        assertThat(s.getInputStream().read()).as("closed").isEqualTo(-1);
        Await.until(reason + " counted", () -> r.refusals().get(reason) == before + 1);
        Await.until(reason + " reported to the hook", () -> refusedEvents.size() == eventsBefore + 1);
        assertThat(refusedEvents.get(eventsBefore)).startsWith(from + " " + reason + " ");
        assertThat(acceptedInfo).as("no hook saw it accepted").hasSize(acceptedBefore);
    }

    /** Waits until every connection closed, then checks that every admission count is back to zero. */
    private void allBackToZero(Refractium r) {
        Await.until("all closed", () -> r.activeConnections() == 0);
        AdmissionControl a = r.admission();
        assertThat(a.openConnections()).isZero();
        assertThat(a.detectingConnections()).isZero();
        assertThat(a.addressesWithOpenConnections()).isZero();
        assertThat(r.peekMemoryBytes()).isZero();
        Await.until("every admitted connection reported closed", () -> closed.get() == acceptedInfo.size());
    }

    @Test
    void perIpCapCountsTheRealClientAndNeverTheBalancer() throws Exception {
        Refractium r = start(builder(AdmissionLimits.builder().maxConnectionsPerIp(2).maxDetecting(100).build(),
                ProxyProtocolMode.REQUIRED));
        InetSocketAddress lb = balancer(r, HAProxyProtocolVersion.V1, Map.of()).address();
        for (int round = 0; round < 2; round++) {
            List<Socket> open = new ArrayList<>();
            open.add(admitted("127.0.0.2", lb));
            open.add(admitted("127.0.0.2", lb));
            refused(r, "127.0.0.2", lb, RefusalReason.MAX_CONNECTIONS_PER_IP);
            // Four connections from the balancer's address, each counted for its real client only.
            open.add(admitted("127.0.0.3", lb));
            open.add(admitted("127.0.0.3", lb));
            AdmissionControl a = r.admission();
            assertThat(a.openConnections(address("127.0.0.2"))).isEqualTo(2);
            assertThat(a.openConnections(address("127.0.0.3"))).isEqualTo(2);
            assertThat(a.openConnections(BALANCER_IP)).as("the balancer is not counted").isZero();
            assertThat(a.openConnections()).isEqualTo(4);
            assertThat(a.detectingConnections()).isEqualTo(4);
            for (Socket s : open) {
                s.close();
            }
            allBackToZero(r);
        }
        assertThat(refusedEvents).containsExactly("127.0.0.2 MAX_CONNECTIONS_PER_IP maxConnectionsPerIp=2",
                "127.0.0.2 MAX_CONNECTIONS_PER_IP maxConnectionsPerIp=2");
        assertThat(r.refusals().get(RefusalReason.MAX_CONNECTIONS_PER_IP)).isEqualTo(2);
    }

    @Test
    void ratePerIpTakesTokensOfTheRealClient() throws Exception {
        // One token per 100 s: only the burst of 2 per address is available during the test.
        Refractium r = start(builder(AdmissionLimits.builder().ratePerIp(0.01, 2).build(),
                ProxyProtocolMode.REQUIRED));
        InetSocketAddress lb = balancer(r, HAProxyProtocolVersion.V2, Map.of()).address();
        admitted("127.0.0.2", lb).close();
        admitted("127.0.0.2", lb).close();
        refused(r, "127.0.0.2", lb, RefusalReason.RATE_PER_IP);
        // The balancer has opened three connections already; had its address been rate-limited, these would fail.
        admitted("127.0.0.3", lb).close();
        admitted("127.0.0.3", lb).close();
        refused(r, "127.0.0.3", lb, RefusalReason.RATE_PER_IP);
        admitted("127.0.0.4", lb);
        assertThat(refusedEvents).containsExactly("127.0.0.2 RATE_PER_IP ratePerIp=0.01/s,burst=2",
                "127.0.0.3 RATE_PER_IP ratePerIp=0.01/s,burst=2");
        assertThat(r.admission().trackedBuckets()).as("no bucket for the balancer").isEqualTo(3);
    }

    @Test
    void denyAndAllowListsSeeTheRealClient() throws Exception {
        // The balancer's own address is denied too: it is trusted to name clients, and only they are listed.
        Refractium r = start(builder(AdmissionLimits.builder().allow("127.0.0.0/29")
                .deny("127.0.0.1/32").deny("127.0.0.2/32").maxConnectionsPerIp(5).build(),
                ProxyProtocolMode.REQUIRED));
        InetSocketAddress lb = balancer(r, HAProxyProtocolVersion.V2, Map.of()).address();
        refused(r, "127.0.0.2", lb, RefusalReason.DENIED);
        Socket ok = admitted("127.0.0.3", lb);
        refused(r, "127.0.0.9", lb, RefusalReason.NOT_ALLOWED);
        assertThat(refusedEvents).containsExactly("127.0.0.2 DENIED deny=127.0.0.2/32",
                "127.0.0.9 NOT_ALLOWED allow=[127.0.0.0/29]");
        ok.close();
        allBackToZero(r);
    }

    @Test
    void aRefusalAfterTheHeaderIsResetWhenConfigured() throws Exception {
        Refractium r = start(builder(AdmissionLimits.builder().deny("127.0.0.2/32").rejectWithRst(true).build(),
                ProxyProtocolMode.REQUIRED));
        Socket s = connect("127.0.0.1", r.localAddress());
        s.setSoTimeout(5000);
        s.getOutputStream().write(ascii("PROXY TCP4 127.0.0.2 127.0.0.1 40000 443\r\n"));
        assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketException.class)
                .hasMessageContaining("reset");
        Await.until("reported", () -> refusedEvents.size() == 1);
        assertThat(refusedEvents).containsExactly("127.0.0.2 DENIED deny=127.0.0.2/32");
        allBackToZero(r);
    }

    @Test
    void headerStageRefusalsAreCountedAndReportedWithTheirReason() throws Exception {
        Refractium r = start(builder(AdmissionLimits.builder().maxConnectionsPerIp(3).maxDetecting(10)
                .ratePerIp(1, 1000).build(), ProxyProtocolMode.REQUIRED)
                .peekTimeout(Duration.ofMillis(600)).silenceTimeout(Duration.ofMillis(300)));
        InetSocketAddress to = r.localAddress();
        // From a source that is not trusted: refused at once, before any byte.
        direct(r, "127.0.0.4", to, null, RefusalReason.PROXY_HEADER_UNTRUSTED);
        // From the balancer's address: no header, a malformed one, half a header, nothing at all.
        direct(r, "127.0.0.1", to, "HELLO\n", RefusalReason.PROXY_HEADER_MISSING);
        direct(r, "127.0.0.1", to, "PROXY TCP4 not-an-address 127.0.0.1 1 2\r\nHELLO\n",
                RefusalReason.PROXY_HEADER_MALFORMED);
        direct(r, "127.0.0.1", to, "PROXY TCP4 127.0.0.2", RefusalReason.PROXY_HEADER_TIMEOUT);
        direct(r, "127.0.0.1", to, "", RefusalReason.PROXY_HEADER_TIMEOUT);
        assertThat(refusedEvents).containsExactly(
                "127.0.0.4 PROXY_HEADER_UNTRUSTED acceptProxyProtocol trusted=[127.0.0.1/32]",
                "127.0.0.1 PROXY_HEADER_MISSING acceptProxyProtocol=REQUIRED",
                "127.0.0.1 PROXY_HEADER_MALFORMED malformed PROXY header: invalid HAProxy message: invalid IPv4 "
                        + "address: not-an-address",
                "127.0.0.1 PROXY_HEADER_TIMEOUT peekTimeout=PT0.6S",
                "127.0.0.1 PROXY_HEADER_TIMEOUT peekTimeout=PT0.6S");
        // A client that leaves in the middle of its header is no refusal, and no hook hears of it.
        Map<RefusalReason, Long> before = r.refusals();
        try (Socket s = connect("127.0.0.1", to)) {
            s.getOutputStream().write(ascii("PROXY TCP4 127.0.0.2 "));
            Await.until("held", () -> r.activeConnections() == 1);
        }
        Await.until("gone", () -> r.activeConnections() == 0);
        assertThat(r.refusals()).isEqualTo(before);
        assertThat(refusedEvents).hasSize(5);
        assertThat(acceptedInfo).isEmpty();
        assertThat(closed).hasValue(0);
        allBackToZero(r);
        assertThat(r.admission().trackedBuckets()).as("no rate token taken for the balancer").isEqualTo(1);
    }

    @Test
    void anOptionalListenerRefusesAHeaderFromAnUntrustedSourceAndChecksDirectClientsAtAccept() throws Exception {
        Refractium r = start(builder(AdmissionLimits.builder().maxConnectionsPerIp(1).build(),
                ProxyProtocolMode.OPTIONAL));
        InetSocketAddress to = r.localAddress();
        direct(r, "127.0.0.4", to, "PROXY TCP4 127.0.0.2 127.0.0.1 40000 443\r\nHELLO\n",
                RefusalReason.PROXY_HEADER_UNTRUSTED);
        // A direct client from an untrusted source is checked at accept, against its own address.
        Socket first = connect("127.0.0.5", to);
        Await.until("admitted at accept", () -> r.admission().openConnections(address("127.0.0.5")) == 1);
        direct(r, "127.0.0.5", to, null, RefusalReason.MAX_CONNECTIONS_PER_IP);
        // A trusted source without a header is a client itself: checked once the header is found absent.
        Socket trusted = connect("127.0.0.1", to);
        trusted.getOutputStream().write(ascii("HEL"));
        Await.until("checked without a header", () -> r.admission().openConnections(BALANCER_IP) == 1);
        direct(r, "127.0.0.1", to, "HELLO\n", RefusalReason.MAX_CONNECTIONS_PER_IP);
        first.close();
        trusted.close();
        allBackToZero(r);
    }

    /** Connects directly, sends the text (if any) and expects a refusal for the reason. */
    private void direct(Refractium r, String from, InetSocketAddress to, String text, RefusalReason reason)
            throws IOException {
        long before = r.refusals().get(reason);
        int eventsBefore = refusedEvents.size();
        try (Socket s = connect(from, to)) {
            s.setSoTimeout(5000);
            if (text != null && !text.isEmpty()) {
                s.getOutputStream().write(ascii(text));
            }
            try {
                assertThat(s.getInputStream().read()).as("closed").isEqualTo(-1);
            } catch (SocketException e) {
                assertThat(e).hasMessageContaining("reset"); // unread bytes were in the proxy's buffer
            }
        }
        Await.until(reason + " counted", () -> r.refusals().get(reason) == before + 1);
        Await.until(reason + " reported", () -> refusedEvents.size() == eventsBefore + 1);
    }

    @Test
    void theHeaderAndItsTlvsReachHooksAndRoutes() throws Exception {
        TestServer beta = TestServer.greeter("beta");
        closeables.add(beta);
        Refractium r = start(builder(AdmissionLimits.builder().maxConnectionsPerIp(4).build(),
                ProxyProtocolMode.REQUIRED)
                .route(Route.builder("alpha").attribute("proxy.authority", "*.example")
                        .to(ForwardTarget.of("beta", beta.hostAndPort()))));
        Map<Byte, byte[]> tlvs = new LinkedHashMap<>();
        tlvs.put((byte) 0x02, ascii("API.Example"));
        tlvs.put((byte) 0x01, ascii("h2"));
        tlvs.put((byte) 0x05, ascii("req-42"));
        tlvs.put((byte) 0xE0, new byte[] {1, 2, 3});
        InetSocketAddress v2 = balancer(r, HAProxyProtocolVersion.V2, tlvs).address();
        InetSocketAddress v1 = balancer(r, HAProxyProtocolVersion.V1, Map.of()).address();

        Socket s = connect("127.0.0.2", v2);
        s.setSoTimeout(5000);
        s.getOutputStream().write(ascii("HELLO\n"));
        InputStream in = s.getInputStream();
        assertThat(TestServer.readLine(in)).as("routed by proxy.authority").isEqualTo("beta");
        ConnectionInfo c = acceptedInfo.get(0);
        ProxyInfo h = c.proxyHeader();
        assertThat(h).isNotNull();
        assertThat(h.version()).isEqualTo(ProxyProtocolVersion.V2);
        assertThat(h.isLocal()).isFalse();
        assertThat(h.socketAddress().getAddress()).isEqualTo(BALANCER_IP);
        assertThat(h.source()).isEqualTo(new InetSocketAddress("127.0.0.2", s.getLocalPort()));
        assertThat(h.source()).isEqualTo(c.clientAddress());
        assertThat(h.destination()).isEqualTo(v2);
        assertThat(h.authority()).isEqualTo("API.Example");
        assertThat(h.alpn()).isEqualTo("h2");
        assertThat(h.uniqueId()).isEqualTo("req-42");
        assertThat(h.tlv(0xE0)).containsExactly(1, 2, 3);
        assertThat(h.tlv(0x30)).isNull();
        assertThat(h.tlvs()).extracting(ProxyInfo.Tlv::type).containsExactly(0x02, 0x01, 0x05, 0xE0);
        byte[] copy = h.tlv(0xE0);
        copy[0] = 9;
        assertThat(h.tlv(0xE0)).as("a copy each time").containsExactly(1, 2, 3);
        s.close();

        Socket plain = connect("127.0.0.3", v1);
        plain.setSoTimeout(5000);
        plain.getOutputStream().write(ascii("HELLO\n"));
        assertThat(TestServer.readLine(plain.getInputStream())).as("no authority: the plain route").isEqualTo("alpha");
        ProxyInfo h1 = acceptedInfo.get(1).proxyHeader();
        assertThat(h1.version()).isEqualTo(ProxyProtocolVersion.V1);
        assertThat(h1.tlvs()).isEmpty();
        assertThat(h1.authority()).isNull();
        assertThat(h1.source()).isEqualTo(new InetSocketAddress("127.0.0.3", plain.getLocalPort()));
        plain.close();
        allBackToZero(r);
    }

    @Test
    void loadBalancersHashOnTheHeadersAuthority() throws Exception {
        TestServer a = TestServer.greeter("a");
        TestServer b = TestServer.greeter("b");
        closeables.add(a);
        closeables.add(b);
        Refractium r = start(Refractium.builder()
                .listen("127.0.0.1", 0)
                .shutdownGracePeriod(Duration.ZERO)
                .protocol(new PrefixProtocol("alpha", "HELLO"))
                .acceptProxyProtocol(ProxyProtocolMode.REQUIRED, BALANCER)
                .route("alpha", ForwardTarget.builder("hashed").backend(a.hostAndPort()).backend(b.hostAndPort())
                        .loadBalancer(LoadBalancers.hashAttribute("proxy.authority")).build()));
        Set<String> served = new HashSet<>();
        for (int i = 1; i <= 12; i++) {
            String first = null;
            for (int client = 2; client <= 4; client++) {
                List<HAProxyTLV> tlvs = List.of(new HAProxyTLV((byte) 0x02,
                        Unpooled.wrappedBuffer(ascii("h" + i + ".example"))));
                try (Socket s = connect("127.0.0.1", r.localAddress())) {
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(ProxyBalancer.v2("127.0.0." + client, "127.0.0.1", 40000, 443, tlvs));
                    s.getOutputStream().write(ascii("HELLO\n"));
                    String got = TestServer.readLine(s.getInputStream());
                    if (first == null) {
                        first = got;
                        served.add(got);
                    }
                    // Different clients with the same authority reach the same backend.
                    assertThat(got).as("h%d.example from 127.0.0.%d", i, client).isEqualTo(first);
                }
            }
        }
        // Twelve authorities all on one of two equal backends is a 1 in 2 000 chance; the targets' state says more.
        assertThat(served).as("targets %s", r.targets()).containsExactlyInAnyOrder("a", "b");
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
