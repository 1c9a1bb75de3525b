package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.testing.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, {@code refractium-server/target/refractium.jar}, started in its own JVM as the README says:
 * {@code check} on the shipped examples, {@code run} with a file that is then changed and reloaded by SIGHUP, and
 * the quick flags. Run by failsafe in {@code mvn verify}, after {@code package}.
 */
@Timeout(120)
class PackagedJarIT {

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private static Path jar() {
        return Path.of(System.getProperty("refractium.jar", "target/refractium.jar"));
    }

    private static Path root() {
        return Path.of(System.getProperty("refractium.root", "..")).toAbsolutePath().normalize();
    }

    private Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(root().toFile()).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    /** Collects the process's output lines on a thread. */
    private static BlockingQueue<String> lines(Process p) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    q.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return q;
    }

    private static String await(BlockingQueue<String> lines, String regex, List<String> seen) throws Exception {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (pattern.matcher(line).find()) {
                    return line;
                }
            }
        }
        throw new AssertionError("no line matching " + regex + " in " + seen);
    }

    private static String greeting(InetSocketAddress address) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return TestServer.readLine(s.getInputStream());
        }
    }

    @Test
    void checkAcceptsTheShippedExamplesAndVersionAnswers() throws Exception {
        try (var files = Files.list(root().resolve("config"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                Process p = start("check", "--config", root().relativize(file).toString());
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(out).isZero();
                assertThat(out).contains(": valid: listeners");
            }
        }
        Process v = start("--version");
        assertThat(new String(v.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .startsWith("refractium 0.1.0-SNAPSHOT");
        Process none = start();
        assertThat(none.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(none.exitValue()).isEqualTo(2);
    }

    @Test
    void runsAFileAndReloadsItOnSighup() throws Exception {
        TestServer a = TestServer.greeter("a");
        TestServer b = TestServer.greeter("b");
        closeables.add(a);
        closeables.add(b);
        Path file = dir.resolve("refractium.yaml");
        String yaml = "listeners: [127.0.0.1:0]\nprotocols: [http]\ntargets: {web: {backends: [BACKEND]}}\n"
                + "routes: [{protocol: http, target: web}]\ntimeouts: {shutdown-grace: 1s}\n";
        Files.writeString(file, yaml.replace("BACKEND", a.hostAndPort()));
        Process p = start("run", "--config", file.toString(), "--no-watch");
        BlockingQueue<String> lines = lines(p);
        List<String> seen = new ArrayList<>();
        Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)")
                .matcher(await(lines, "refractium listening on", seen));
        assertThat(m.find()).isTrue();
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));
        assertThat(greeting(address)).isEqualTo("a");
        await(lines, "conn=\\d+ client=127\\.0\\.0\\.1:\\d+ .*protocol=http .*backend=" + a.hostAndPort(), seen);

        Files.writeString(file, yaml.replace("BACKEND", b.hostAndPort()));
        Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(p.pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        await(lines, "reload: .* applied", seen);
        assertThat(greeting(address)).isEqualTo("b");

        // SIGTERM: the open connections drain, then the process stops.
        p.destroy();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theQuickFlagsRun() throws Exception {
        TestServer a = TestServer.greeter("a");
        closeables.add(a);
        Process p = start("--listen", "127.0.0.1:0", "--route", "http=" + a.hostAndPort(), "--access-log", "off");
        BlockingQueue<String> lines = lines(p);
        List<String> seen = new ArrayList<>();
        Matcher m = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)")
                .matcher(await(lines, "refractium listening on", seen));
        assertThat(m.find()).isTrue();
        assertThat(greeting(new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1))))).isEqualTo("a");
    }
}
