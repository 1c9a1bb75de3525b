package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.testing.AttributeProtocol;
import io.refractium.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The PROXY protocol on loopback sockets: headers v1 and v2 received on listeners that require or allow them, from
 * trusted sources only, with the real address driving routes and hooks; and headers v1 and v2 sent to backends that
 * decode them with Netty's {@link HAProxyMessageDecoder}.
 */
@Timeout(30)
class ProxyProtocolTest {

    private static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"));

    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** The client address each closed connection reported to hooks, by the socket's client port. */
    private final Map<Integer, InetSocketAddress> hookAddresses = new ConcurrentHashMap<>();

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

    private RefractiumBuilder builder(TestServer real, TestServer other) {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new AttributeProtocol("pg"))
                .shutdownGracePeriod(Duration.ZERO)
                .route(Route.builder("pg").clientCidr("203.0.113.0/24").to(ForwardTarget.of("real", real.hostAndPort())))
                .route(Route.builder("pg").clientCidr("2001:db8::/32").to(ForwardTarget.of("real6", real.hostAndPort())))
                .route("pg", ForwardTarget.of("other", other.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public io.refractium.hook.Admission onAccepted(ConnectionInfo c) {
                        hookAddresses.put(c.clientAddress().getPort(), c.clientAddress());
                        return io.refractium.hook.Admission.ACCEPT;
                    }
                });
    }

    private Refractium start(RefractiumBuilder b) {
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    /** Sends the bytes, then returns the first line back, or {@code null} when the connection closes first. */
    private String exchange(InetSocketAddress address, byte[]... parts) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            for (byte[] p : parts) {
                out.write(p);
                out.flush();
            }
            InputStream in = s.getInputStream();
            int first = in.read();
            if (first < 0) {
                return null;
            }
            return (char) first + TestServer.readLine(in);
        } catch (java.net.SocketException e) {
            return null; // reset: closed by the proxy
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] v2Header(String src, String dst, int srcPort, int dstPort, boolean v6) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                v6 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4, src, dst, srcPort, dstPort));
        ByteBuf b = ch.readOutbound();
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    @Test
    void requiredV1HeaderGivesTheRealAddressToRoutesAndHooks() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        Refractium r = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.REQUIRED, LOOPBACK));
        assertThat(exchange(r.localAddress(), ascii("PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\npg db=x\n")))
                .isEqualTo("real");
        assertThat(hookAddresses.get(40000)).isEqualTo(new InetSocketAddress("203.0.113.7", 40000));
        assertThat(exchange(r.localAddress(), ascii("PROXY TCP4 198.51.100.1 127.0.0.1 40001 443\r\n"),
                ascii("pg db=x\n"))).as("header and bytes in two writes").isEqualTo("other");
    }

    @Test
    void requiredV2HeaderSplitAcrossWritesIsDecodedAndNotForwarded() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        Refractium r = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.REQUIRED, LOOPBACK));
        byte[] header = v2Header("2001:db8::5", "::1", 40002, 443, true);
        byte[] a = java.util.Arrays.copyOfRange(header, 0, 5);
        byte[] b = java.util.Arrays.copyOfRange(header, 5, header.length);
        assertThat(exchange(r.localAddress(), a, b, ascii("pg db=x\n"))).isEqualTo("real");
        assertThat(hookAddresses.get(40002)).isEqualTo(new InetSocketAddress("2001:db8::5", 40002));
    }

    @Test
    void requiredWithoutAHeaderIsClosed() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        Refractium r = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.REQUIRED, LOOPBACK)
                .hook(new Hook() {
                    @Override
                    public void onDetectionFailed(ConnectionInfo c, io.refractium.hook.DetectionFailure f, int n) {
                        events.add("failed");
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        events.add("closed " + s.reason());
                    }
                }));
        assertThat(exchange(r.localAddress(), ascii("pg db=x\n"))).isNull();
        assertThat(exchange(r.localAddress(), ascii("PROXY garbage\r\npg db=x\n"))).as("malformed").isNull();
        assertThat(real.accepted() + other.accepted()).isZero();
        io.refractium.testing.Await.until("both closed", () -> r.activeConnections() == 0);
        // Refused before the hooks were asked to admit them: no hook starts, so none hears of the end either.
        assertThat(events).as("no accept, no detection, no close").isEmpty();
        assertThat(hookAddresses).isEmpty();
    }

    @Test
    void optionalDecodesOnlyWhatStartsWithASignature() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        Refractium r = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.OPTIONAL, LOOPBACK));
        assertThat(exchange(r.localAddress(), ascii("pg db=x\n"))).isEqualTo("other");
        assertThat(exchange(r.localAddress(), v2Header("203.0.113.9", "127.0.0.1", 40003, 443, false),
                ascii("pg db=x\n"))).isEqualTo("real");
        assertThat(exchange(r.localAddress(), ascii("P"), ascii("ROXY TCP4 203.0.113.8 127.0.0.1 40004 443\r\n"),
                ascii("pg db=x\n"))).isEqualTo("real");
        assertThat(hookAddresses.get(40004)).isEqualTo(new InetSocketAddress("203.0.113.8", 40004));
    }

    @Test
    void headerFromAnUntrustedSourceIsRefused() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        List<Cidr> elsewhere = List.of(Cidr.parse("10.0.0.0/8"));
        Refractium optional = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.OPTIONAL, elsewhere));
        assertThat(exchange(optional.localAddress(), ascii("PROXY TCP4 203.0.113.7 127.0.0.1 40005 443\r\npg db=x\n")))
                .isNull();
        assertThat(exchange(optional.localAddress(), ascii("pg db=x\n"))).as("no header: served").isEqualTo("other");
        Refractium required = start(builder(real, other).acceptProxyProtocol(ProxyProtocolMode.REQUIRED, elsewhere));
        assertThat(exchange(required.localAddress(), ascii("PROXY TCP4 203.0.113.7 127.0.0.1 40006 443\r\npg db=x\n")))
                .isNull();
        assertThat(real.accepted()).isZero();
    }

    @Test
    void perPortSettingWinsAndOtherListenersTakeNoHeader() throws IOException {
        TestServer real = greeter("real");
        TestServer other = greeter("other");
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Refractium r = start(builder(real, other).listen("127.0.0.1", port)
                .acceptProxyProtocol(port, ProxyProtocolMode.REQUIRED, LOOPBACK));
        InetSocketAddress plain = r.localAddresses().get(0);
        InetSocketAddress proxied = r.localAddresses().get(1);
        assertThat(exchange(proxied, ascii("pg db=x\n"))).isNull();
        assertThat(exchange(proxied, ascii("PROXY TCP4 203.0.113.7 127.0.0.1 40007 443\r\npg db=x\n")))
                .isEqualTo("real");
        assertThat(exchange(plain, ascii("pg db=x\n"))).isEqualTo("other");
    }

    @Test
    void clientIpHashingUsesTheRealAddress() throws IOException {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new AttributeProtocol("pg"))
                .shutdownGracePeriod(Duration.ZERO)
                .acceptProxyProtocol(ProxyProtocolMode.REQUIRED, LOOPBACK)
                .route("pg", ForwardTarget.builder("hashed").backend(a.hostAndPort()).backend(b.hostAndPort())
                        .loadBalancer(io.refractium.balance.LoadBalancers.hashClientIp()).build()));
        java.util.Set<String> served = new java.util.HashSet<>();
        for (int i = 1; i <= 16; i++) {
            String header = "PROXY TCP4 203.0.113." + i + " 127.0.0.1 40100 443\r\n";
            String first = exchange(r.localAddress(), ascii(header + "pg db=x\n"));
            // Every connection comes from 127.0.0.1: only the real address can spread them...
            served.add(first);
            for (int again = 0; again < 2; again++) {
                // ...and the same real address on a new connection goes to the same backend.
                assertThat(exchange(r.localAddress(), ascii(header + "pg db=x\n"))).isEqualTo(first);
            }
        }
        assertThat(served).containsExactlyInAnyOrder("a", "b");
    }

    // ---------------------------------------------------------------- sending

    /** What a decoding backend saw: the header and the bytes after it. */
    record Seen(HAProxyProtocolVersion version, HAProxyCommand command, HAProxyProxiedProtocol family, String src, int srcPort, String dst,
                int dstPort, Map<Byte, String> tlvs, String rest) {
    }

    /**
     * A backend that decodes a PROXY header with Netty's decoder, reads the client's line after it, answers
     * {@code ok} and reports what it saw.
     */
    static TestServer decodingBackend(BlockingQueue<Seen> seen) {
        return TestServer.start(s -> {
            EmbeddedChannel ch = new EmbeddedChannel(new HAProxyMessageDecoder());
            HAProxyMessage m = null;
            try {
                InputStream in = s.getInputStream();
                ByteArrayOutputStream rest = new ByteArrayOutputStream();
                byte[] buf = new byte[1024];
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        return;
                    }
                    ch.writeInbound(Unpooled.copiedBuffer(buf, 0, n));
                    Object o;
                    while ((o = ch.readInbound()) != null) {
                        if (o instanceof HAProxyMessage) {
                            m = (HAProxyMessage) o;
                        } else {
                            ByteBuf b = (ByteBuf) o;
                            byte[] bytes = new byte[b.readableBytes()];
                            b.readBytes(bytes);
                            b.release();
                            rest.write(bytes);
                        }
                    }
                    if (m != null && rest.toString(StandardCharsets.US_ASCII).endsWith("\n")) {
                        break; // once the decoder removed itself, later bytes come out as they are
                    }
                }
                Map<Byte, String> tlvs = new java.util.TreeMap<>();
                for (HAProxyTLV t : m.tlvs()) {
                    tlvs.put(t.typeByteValue(), t.content().toString(StandardCharsets.UTF_8));
                }
                seen.add(new Seen(m.protocolVersion(), m.command(), m.proxiedProtocol(), m.sourceAddress(), m.sourcePort(),
                        m.destinationAddress(), m.destinationPort(), tlvs, rest.toString(StandardCharsets.US_ASCII)));
                s.getOutputStream().write(ascii("ok\n"));
                s.getOutputStream().flush();
            } finally {
                // Released here also when the peer goes away mid-header (a health check, the test's end).
                if (m != null) {
                    m.release();
                }
                ch.finishAndReleaseAll();
            }
        });
    }

    private Refractium sending(ProxyProtocolVersion version, TestServer backend, boolean acceptProxy) {
        RefractiumBuilder b = Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new AttributeProtocol("tls"))
                .shutdownGracePeriod(Duration.ZERO)
                .route("tls", ForwardTarget.builder("pp").backend(backend.hostAndPort()).sendProxyProtocol(version)
                        .build());
        if (acceptProxy) {
            b.acceptProxyProtocol(ProxyProtocolMode.OPTIONAL, LOOPBACK);
        }
        return start(b);
    }

    @Test
    void sendsV2WithTheRealAddressAndTlvsBeforeTheReplayedBytes() throws Exception {
        BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        TestServer backend = decodingBackend(seen);
        closeables.add(backend);
        Refractium r = sending(ProxyProtocolVersion.V2, backend, true);
        String line = "tls sni=api.example alpn=h2,http/1.1\n";
        assertThat(exchange(r.localAddress(), ascii("PROXY TCP4 203.0.113.7 127.0.0.1 40010 443\r\n" + line)))
                .isEqualTo("ok");
        Seen s = seen.poll(5, TimeUnit.SECONDS);
        assertThat(s).isNotNull();
        assertThat(s.version()).isEqualTo(HAProxyProtocolVersion.V2);
        assertThat(s.command()).isEqualTo(HAProxyCommand.PROXY);
        assertThat(s.src()).isEqualTo("203.0.113.7");
        assertThat(s.srcPort()).isEqualTo(40010);
        assertThat(s.dst()).isEqualTo("127.0.0.1");
        assertThat(s.dstPort()).isEqualTo(r.localAddress().getPort());
        assertThat(s.tlvs()).containsEntry((byte) 0x02, "api.example").containsEntry((byte) 0x01, "h2")
                .containsKey((byte) 0x05);
        assertThat(s.rest()).isEqualTo(line);
    }

    @Test
    void sendsV1WithTheSocketAddressWhenNoHeaderCame() throws Exception {
        BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        TestServer backend = decodingBackend(seen);
        closeables.add(backend);
        Refractium r = sending(ProxyProtocolVersion.V1, backend, false);
        try (Socket s = new Socket()) {
            s.connect(r.localAddress(), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(ascii("tls sni=a.example\n"));
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("ok");
            Seen got = seen.poll(5, TimeUnit.SECONDS);
            assertThat(got).isNotNull();
            assertThat(got.version()).isEqualTo(HAProxyProtocolVersion.V1);
            assertThat(got.src()).isEqualTo("127.0.0.1");
            assertThat(got.srcPort()).isEqualTo(s.getLocalPort());
            assertThat(got.dstPort()).isEqualTo(r.localAddress().getPort());
            assertThat(got.tlvs()).isEmpty();
            assertThat(got.rest()).isEqualTo("tls sni=a.example\n");
        }
    }

    @Test
    void healthChecksSendALocalHeaderForV2AndProxyUnknownForV1() throws Exception {
        for (ProxyProtocolVersion version : ProxyProtocolVersion.values()) {
            BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
            TestServer backend = decodingBackend(seen);
            closeables.add(backend);
            start(Refractium.builder()
                    .listen("127.0.0.1", 0)
                    .protocol(new AttributeProtocol("tls"))
                    .shutdownGracePeriod(Duration.ZERO)
                    .route("tls", ForwardTarget.builder("checked").backend(backend.hostAndPort())
                            .sendProxyProtocol(version)
                            .healthCheck(HealthCheck.sendExpect("PING\n", "ok").withInterval(Duration.ofMillis(100)))
                            .build()));
            Seen s = seen.poll(5, TimeUnit.SECONDS);
            assertThat(s).as(version.toString()).isNotNull();
            assertThat(s.rest()).isEqualTo("PING\n");
            assertThat(s.family()).isEqualTo(HAProxyProxiedProtocol.UNKNOWN);
            if (version == ProxyProtocolVersion.V2) {
                assertThat(s.version()).isEqualTo(HAProxyProtocolVersion.V2);
                assertThat(s.command()).isEqualTo(HAProxyCommand.LOCAL);
            } else {
                assertThat(s.version()).isEqualTo(HAProxyProtocolVersion.V1);
            }
        }
    }
}
