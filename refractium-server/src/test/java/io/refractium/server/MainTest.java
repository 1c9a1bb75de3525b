package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.Refractium;
import io.refractium.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The {@code refractium} command: its subcommands, the quick flags, exit statuses and messages. */
@Timeout(30)
class MainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private int run(String... args) {
        return Main.execute(args, out, err, s -> {
            s.close();
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
    void noArgumentsRunsNothingAndSaysWhatToDo() {
        assertThat(run()).isEqualTo(2);
        assertThat(err()).startsWith("refractium: nothing to do (expected: run --config FILE");
    }

    @Test
    void helpAndVersion() {
        assertThat(run("--help")).isZero();
        assertThat(out()).contains("Usage: refractium").contains("run").contains("check").contains("demo")
                .contains("--route=SPEC");
        outBytes.reset();
        assertThat(run("--version")).isZero();
        assertThat(out()).startsWith("refractium ");
    }

    @Test
    void checkSaysValidOrNamesTheProblem() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "listeners: [127.0.0.1:0]\ntargets: {web: {backends: [127.0.0.1:80]}}\n"
                + "routes: [{protocol: http, target: web}]\n");
        assertThat(run("check", "--config", good.toString())).isZero();
        assertThat(out()).isEqualTo(good + ": valid: listeners [/127.0.0.1:0], 1 routes, 1 targets"
                + System.lineSeparator());

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "listeners: [127.0.0.1:0]\ntargets: {web: {backends: [127.0.0.1:80]}}\n"
                + "routes: [{protocol: http, target: web}]\ntimeouts:\n  idle: forever\n");
        assertThat(run("check", "--config", bad.toString())).isEqualTo(2);
        assertThat(err()).isEqualTo("refractium: " + bad + ":5: timeouts.idle: \"forever\" (expected: 0 or a "
                + "duration such as 500ms, 2s, 1m, 1h or PT2S)" + System.lineSeparator());

        errBytes.reset();
        assertThat(run("check", "--config", dir.resolve("missing.yaml").toString())).isEqualTo(1);
        assertThat(err()).contains("no such file");
        errBytes.reset();
        assertThat(run("check")).isEqualTo(2);
        assertThat(err()).contains("Missing required option: '--config=FILE'");
    }

    @Test
    void theProductJarHasNoDemo() {
        assertThat(run("demo")).isEqualTo(2);
        assertThat(err()).contains("this jar has no demo").contains("refractium-examples.jar demo");
    }

    @Test
    void aBadFlagNamesTheFlagKeyAndValue() {
        assertThat(run("--listen", "127.0.0.1:8443", "--route", "http=127.0.0.1:80;balance=fastest")).isEqualTo(2);
        assertThat(err()).startsWith("refractium: --route \"http=127.0.0.1:80;balance=fastest\": targets.http.balance: "
                + "\"fastest\" (expected one of: round-robin, weighted, least-conn, p2c, random, hash-ip, hash-name, "
                + "hash-attr:NAME)");
        errBytes.reset();
        assertThat(run("--listen", "127.0.0.1:0", "--route", "gopher=127.0.0.1:70")).isEqualTo(2);
        assertThat(err()).contains("unknown protocol \"gopher\"");
        errBytes.reset();
        assertThat(run("--listen", "127.0.0.1:0", "--route", "http=127.0.0.1:80", "--peek-timeout", "1s",
                "--quiet-timeout", "2s")).isEqualTo(2);
        assertThat(err()).contains("quietTimeout: PT2S (expected: < peekTimeout PT1S)");
        errBytes.reset();
        assertThat(run("--listen", "127.0.0.1:0", "--route", "ssh@x=127.0.0.1:22")).isEqualTo(2);
        assertThat(err()).contains("a name is allowed only on tls");
        errBytes.reset();
        assertThat(run("--listen", "127.0.0.1:0", "--route", "http=127.0.0.1:80", "--on-silence",
                "127.0.0.1:22;listener=2222")).isEqualTo(2);
        assertThat(err()).contains("listener=2222: no --listen has that port");
    }

    @Test
    void aPortInUseExitsOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int status = run("--listen", "127.0.0.1:" + taken.getLocalPort(), "--route", "redis=127.0.0.1:6379");
            assertThat(status).isEqualTo(1);
            assertThat(err()).startsWith("refractium: listen ").contains("bind failed");
        }
    }

    private static Consumer<Server> connectOnceAndClose(AtomicReference<InetSocketAddress> bound) {
        return server -> {
            Refractium r = server.refractium();
            try {
                assertThat(r.isRunning()).isTrue();
                bound.set(r.localAddress());
                try (Socket s = new Socket()) {
                    s.connect(r.localAddress(), 2000);
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                server.close();
            }
        };
    }

    @Test
    void theQuickFlagsStartAndReport() {
        AtomicReference<InetSocketAddress> bound = new AtomicReference<>();
        int status = Main.execute(new String[] {"--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--route",
            "redis=127.0.0.1:6379;check=connect", "--route", "tls[sni=*.a.example,alpn=h2]=127.0.0.1:9443*2,"
            + "127.0.0.1:9444+backup;balance=weighted", "--fallback", "127.0.0.1:9", "--on-silence",
            "127.0.0.1:22", "--max-connections-per-ip", "10", "--rate-per-ip", "5/s,burst=10",
            "--access-log", "json"}, out, err, connectOnceAndClose(bound));
        assertThat(err()).isEmpty();
        assertThat(status).isZero();
        assertThat(bound.get().getPort()).isPositive();
        assertThat(out()).containsPattern("refractium listening on 127\\.0\\.0\\.1:" + bound.get().getPort()
                        + ", \\[0:0:0:0:0:0:0:1]:\\d+" + System.lineSeparator())
                .contains("route redis -> redis [127.0.0.1:6379] round-robin, check connect")
                .contains("tls[sni=*.a.example,alpn=h2] [127.0.0.1:9443*2, 127.0.0.1:9444+backup] weighted")
                .contains("silent clients -> on-silence [127.0.0.1:22]")
                .contains("fallback -> fallback [127.0.0.1:9]");
    }

    @Test
    void runStartsFromAFile() throws Exception {
        try (TestServer backend = TestServer.greeter("a")) {
            Path file = dir.resolve("r.yaml");
            Files.writeString(file, "listeners: [127.0.0.1:0]\nprotocols: [http]\n"
                    + "targets: {web: {backends: [" + backend.hostAndPort() + "]}}\n"
                    + "routes: [{protocol: http, target: web}]\naccess-log: {enabled: false}\n");
            AtomicReference<InetSocketAddress> bound = new AtomicReference<>();
            RecordingExtension.EVENTS.clear();
            int status = Main.execute(new String[] {"run", "--config", file.toString(), "--watch-interval", "200ms"},
                    out, err, connectOnceAndClose(bound));
            assertThat(status).isZero();
            // Extensions start once the server listens and stop before it closes.
            assertThat(RecordingExtension.EVENTS).containsExactly("started true", "closed true");
            assertThat(out()).contains("refractium listening on 127.0.0.1:" + bound.get().getPort())
                    .contains("protocols: [http]").contains("route http -> web [" + backend.hostAndPort() + "]");
        }
    }
}
