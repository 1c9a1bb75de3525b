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
}
