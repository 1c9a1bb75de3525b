package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.Hook;
import io.refractium.hook.ProxyInfo;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.testing.Await;
import io.refractium.testing.AttributeProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The headers Refractium sends, read by HAProxy's own parser: HAProxy listens with {@code accept-proxy} in TCP mode
 * and passes the client address it parsed (and, for v2, the authority TLV) on to a backend with
 * {@code send-proxy-v2}, where Netty's decoder reads it; and HAProxy as the load balancer in front of Refractium,
 * whose v2 header makes the real client count for the per-address cap. Runs only where {@code haproxy} is installed;
 * the HAProxy process is this test's own child, stopped by its handle.
 */
@Timeout(30)
class HaproxyInteropTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private Process haproxy;

    @TempDir
    Path dir;

    @AfterEach
    void closeAll() throws Exception {
        if (haproxy != null) {
            haproxy.destroy();
            if (!haproxy.waitFor(5, TimeUnit.SECONDS)) {
                haproxy.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private static Path haproxyBinary() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(d, "haproxy");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        for (String d : new String[] {"/usr/sbin", "/usr/local/sbin"}) {
            Path p = Path.of(d, "haproxy");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts HAProxy accepting the PROXY protocol on a free port and forwarding with v2 to the backend. */
    private int startHaproxy(Path binary, TestServer backend) throws Exception {
        int port = freePort();
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, String.join("\n",
                "global",
                "  maxconn 64",
                "defaults",
                "  mode tcp",
                "  timeout connect 2s",
                "  timeout client 10s",
                "  timeout server 10s",
                "frontend fe",
                "  bind 127.0.0.1:" + port + " accept-proxy",
                "  default_backend be",
                "backend be",
                "  server s1 " + backend.hostAndPort() + " send-proxy-v2 proxy-v2-options authority",
                ""));
        haproxy = new ProcessBuilder(binary.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            assertThat(haproxy.isAlive()).as("haproxy runs: %s", Files.readString(dir.resolve("haproxy.log")))
                    .isTrue();
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                probe.getOutputStream().write("PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII));
                return port;
            } catch (IOException e) {
                assertThat(System.nanoTime()).as("haproxy listens in time").isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void haproxyParsesTheHeadersRefractiumSends() throws Exception {
        Path binary = haproxyBinary();
        assumeTrue(binary != null, "haproxy is not installed");
        BlockingQueue<ProxyProtocolTest.Seen> seen = new LinkedBlockingQueue<>();
        TestServer backend = ProxyProtocolTest.decodingBackend(seen);
        closeables.add(backend);
        int haproxyPort = startHaproxy(binary, backend);
        int clientPort = 40030;
        for (ProxyProtocolVersion version : ProxyProtocolVersion.values()) {
            Refractium r = Refractium.builder()
                    .listen("127.0.0.1", 0)
                    .protocol(new AttributeProtocol("tls"))
                    .shutdownGracePeriod(Duration.ZERO)
                    .acceptProxyProtocol(ProxyProtocolMode.REQUIRED, List.of(Cidr.parse("127.0.0.1/32")))
                    .route("tls", ForwardTarget.builder("haproxy").backend("127.0.0.1:" + haproxyPort)
                            .sendProxyProtocol(version).build())
                    .build().start();
            closeables.add(r);
            String line = "tls sni=api.example alpn=h2,http/1.1\n";
            try (Socket s = new Socket()) {
                s.connect(r.localAddress(), 2000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(("PROXY TCP4 203.0.113.7 127.0.0.1 " + clientPort + " 443\r\n" + line)
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(TestServer.readLine(s.getInputStream())).as(version.toString()).isEqualTo("ok");
            }
            ProxyProtocolTest.Seen got = seen.poll(5, TimeUnit.SECONDS);
            assertThat(got).as(version.toString()).isNotNull();
            assertThat(got.src()).as(version.toString()).isEqualTo("203.0.113.7");
            assertThat(got.srcPort()).as(version.toString()).isEqualTo(clientPort);
            assertThat(got.dstPort()).as(version.toString()).isEqualTo(r.localAddress().getPort());
            assertThat(got.rest()).isEqualTo(line);
            if (version == ProxyProtocolVersion.V2) {
                assertThat(got.tlvs()).as("authority TLV passed on by haproxy").containsEntry((byte) 0x02,
                        "api.example");
            }
            clientPort++;
        }
    }

    /** Starts HAProxy as a plain TCP balancer on 127.0.0.1 in front of Refractium, sending a v2 header. */
    private int startHaproxyInFront(Path binary, InetSocketAddress refractium) throws Exception {
        int port = freePort();
        Path cfg = dir.resolve("haproxy-front.cfg");
        Files.writeString(cfg, String.join("\n",
                "global",
                "  maxconn 64",
                "defaults",
                "  mode tcp",
                "  timeout connect 2s",
                "  timeout client 10s",
                "  timeout server 10s",
                "frontend fe",
                "  bind 127.0.0.1:" + port,
                "  unique-id-format req-%rt",
                "  default_backend be",
                "backend be",
                "  server s1 127.0.0.1:" + refractium.getPort() + " send-proxy-v2 proxy-v2-options unique-id",
                ""));
        haproxy = new ProcessBuilder(binary.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            assertThat(haproxy.isAlive()).as("haproxy runs: %s", Files.readString(dir.resolve("haproxy.log")))
                    .isTrue();
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return port;
            } catch (IOException e) {
                assertThat(System.nanoTime()).as("haproxy listens in time").isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void behindHaproxyThePerAddressCapCountsTheRealClient() throws Exception {
        Path binary = haproxyBinary();
        assumeTrue(binary != null, "haproxy is not installed");
        List<ConnectionInfo> accepted = new CopyOnWriteArrayList<>();
        List<String> refused = new CopyOnWriteArrayList<>();
        Refractium r = Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new AttributeProtocol("pg"))
                .shutdownGracePeriod(Duration.ZERO)
                .limits(AdmissionLimits.builder().maxConnectionsPerIp(1).build())
                .acceptProxyProtocol(ProxyProtocolMode.REQUIRED, List.of(Cidr.parse("127.0.0.1/32")))
                .route("pg", ForwardTarget.of("unused", "127.0.0.1:" + TestServer.deadPort()))
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        accepted.add(c);
                        return Admission.ACCEPT;
                    }

                    @Override
                    public void onRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
                        refused.add(client.getAddress().getHostAddress() + " " + refusal.reason());
                    }
                })
                .build().start();
        closeables.add(r);
        int port = startHaproxyInFront(binary, r.localAddress());
        InetSocketAddress front = new InetSocketAddress("127.0.0.1", port);
        Socket first = client("127.0.0.2", front);
        // HAProxy may have passed the start-up probe (from 127.0.0.1) on too: look at the clients' own connections.
        Await.until("first admitted", () -> from(accepted, "127.0.0.2").size() == 1);
        ConnectionInfo c = from(accepted, "127.0.0.2").get(0);
        ProxyInfo h = c.proxyHeader();
        assertThat(c.clientAddress()).isEqualTo(new InetSocketAddress("127.0.0.2", first.getLocalPort()));
        assertThat(h.version()).isEqualTo(ProxyProtocolVersion.V2);
        assertThat(h.socketAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(h.destination().getPort()).isEqualTo(port);
        assertThat(h.uniqueId()).as("PP2_TYPE_UNIQUE_ID from unique-id-format").startsWith("req-");
        Socket second = client("127.0.0.2", front);
        second.setSoTimeout(5000);
        assertThat(second.getInputStream().read()).as("closed").isEqualTo(-1);
        Await.until("refused", () -> refused.size() == 1);
        assertThat(refused).containsExactly("127.0.0.2 MAX_CONNECTIONS_PER_IP");
        client("127.0.0.3", front);
        Await.until("another client admitted through the same balancer", () -> from(accepted, "127.0.0.3").size() == 1);
        assertThat(r.refusals().get(RefusalReason.MAX_CONNECTIONS_PER_IP)).isEqualTo(1);
    }

    private static List<ConnectionInfo> from(List<ConnectionInfo> infos, String ip) {
        return infos.stream().filter(c -> c.clientAddress().getAddress().getHostAddress().equals(ip)).toList();
    }

    private Socket client(String from, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(to, 2000);
        return s;
    }
}
