package io.refractium.examples.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.Refractium;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class MainTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private int run(String... args) {
        return Main.run(List.of(args), out, err, r -> {
            throw new AssertionError("should not have started");
        });
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpPrintsTheUsageAndExitsZero() {
        assertThat(run("--help")).isZero();
        assertThat(out()).startsWith("usage: java -jar refractium.jar [OPTIONS]").contains("--route PROTOCOL[@NAME]");
        assertThat(err()).isEmpty();
    }

    @Test
    void aBadArgumentPrintsWhatIsWrongAndAHintAndExitsTwo() {
        assertThat(run("--listen", "127.0.0.1:8443", "--route", "http=127.0.0.1:80;balance=fastest")).isEqualTo(2);
        assertThat(err()).startsWith("refractium: --route \"http=127.0.0.1:80;balance=fastest\": balance: \"fastest\" "
                + "(expected one of: round-robin, weighted, least-conn, p2c, random, hash-ip, hash-name, hash-attr:NAME)")
                .contains(System.lineSeparator() + LauncherOptions.USAGE_HINT);
        assertThat(out()).isEmpty();
    }

    @Test
    void anUnknownProtocolFailsWithTheBuildersMessage() {
        assertThat(run("--listen", "127.0.0.1:0", "--route", "gopher=127.0.0.1:70")).isEqualTo(2);
        assertThat(err()).startsWith("refractium: route gopher -> gopher: unknown protocol \"gopher\"")
                .contains("redis")
                .contains(LauncherOptions.USAGE_HINT);
    }

    @Test
    void aPortInUseExitsOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int status = run("--listen", "127.0.0.1:" + taken.getLocalPort(), "--route", "redis=127.0.0.1:6379");
            assertThat(status).isEqualTo(1);
            assertThat(err()).startsWith("refractium: listen ").contains("bind failed");
        }
    }

    @Test
    void startsReportsTheAddressesAndHandsTheRunningInstanceOver() throws Exception {
        AtomicReference<InetSocketAddress> bound = new AtomicReference<>();
        int status = Main.run(List.of("--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--route", "redis=127.0.0.1:6379;check=connect",
                "--fallback", "127.0.0.1:9", "--on-silence", "127.0.0.1:22"), out, err, (Refractium r) -> {
                    try {
                        assertThat(r.isRunning()).isTrue();
                        bound.set(r.localAddress());
                        try (Socket s = new Socket()) {
                            s.connect(r.localAddress(), 2000);
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    } finally {
                        r.close();
                    }
                });
        assertThat(status).isZero();
        assertThat(bound.get().getPort()).isPositive();
        assertThat(out()).containsPattern("refractium listening on 127\\.0\\.0\\.1:" + bound.get().getPort()
                        + ", \\[0:0:0:0:0:0:0:1]:\\d+" + System.lineSeparator())
                .contains("route redis -> redis [127.0.0.1:6379] round-robin, check connect")
                .contains("silent clients -> on-silence [127.0.0.1:22]")
                .contains("fallback -> fallback [127.0.0.1:9]");
    }

    @Test
    void aUdpListenerForwardsDnsQueries() throws Exception {
        try (java.net.DatagramSocket backend = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress());
             java.net.DatagramSocket client = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            backend.setSoTimeout(5000);
            client.setSoTimeout(5000);
            Thread echo = new Thread(() -> {
                try {
                    java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[512], 512);
                    backend.receive(p);
                    backend.send(new java.net.DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                } catch (java.io.IOException e) {
                    // the client times out
                }
            });
            echo.start();
            // A DNS query for example.com, type A, class IN.
            byte[] query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
                'c', 'o', 'm', 0, 0, 1, 0, 1};
            AtomicReference<byte[]> answer = new AtomicReference<>();
            int status = Main.run(List.of("--listen-udp", "127.0.0.1:0", "--route",
                    "dns=127.0.0.1:" + backend.getLocalPort()), out, err, (Refractium r) -> {
                        try {
                            InetSocketAddress udp = r.udpLocalAddresses().get(0);
                            client.send(new java.net.DatagramPacket(query, query.length, udp));
                            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[512], 512);
                            client.receive(p);
                            answer.set(java.util.Arrays.copyOf(p.getData(), p.getLength()));
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        } finally {
                            r.close();
                        }
                    });
            echo.join(5000);
            assertThat(status).isZero();
            assertThat(answer.get()).isEqualTo(query);
            assertThat(out()).containsPattern("refractium listening on udp 127\\.0\\.0\\.1:\\d+");
        }
    }
}
