package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloads of a running server on loopback: a bad file keeps the running configuration, a good one swaps routes
 * and listeners without losing a connection, open connections keep their backend, and a change of the file is
 * noticed.
 */
@Timeout(60)
class ReloadTest {

    @TempDir
    Path dir;

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

    private static String config(String backend, int... ports) {
        StringBuilder sb = new StringBuilder("listeners:\n");
        for (int p : ports) {
            sb.append("  - 127.0.0.1:").append(p).append('\n');
        }
        return sb.append("protocols: [http]\n")
                .append("targets:\n  web:\n    backends: [").append(backend).append("]\n")
                .append("routes:\n  - {protocol: http, target: web}\n")
                .append("timeouts: {shutdown-grace: 1s}\n").toString();
    }

    /** Writes the file in one step, as an editor or a config management tool does. */
    private void write(Path file, String yaml) throws IOException {
        Path tmp = Files.createTempFile(dir, "next", ".yaml");
        Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private Server start(Path file) throws IOException {
        Server s = new Server(file, ServerConfig.read(file), null).start();
        closeables.add(s);
        return s;
    }

    private Socket request(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        s.connect(address, 2000);
        s.setSoTimeout(5000);
        s.getOutputStream().write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    /** Returns the backend's greeting. */
    private String backendOf(InetSocketAddress address) throws IOException {
        return TestServer.readLine(request(address).getInputStream());
    }

    @Test
    void aBadFileKeepsTheRunningConfigurationAndAGoodOneSwapsRoutes() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Path file = dir.resolve("refractium.yaml");
        write(file, config(a.hostAndPort(), 0));
        Server server = start(file);
        InetSocketAddress address = server.refractium().localAddress();
        Socket open = request(address);
        assertThat(TestServer.readLine(open.getInputStream())).isEqualTo("a");

        write(file, config(b.hostAndPort(), 0).replace("target: web}", "target: nowhere}"));
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.REJECTED);
        write(file, "listeners: [127.0.0.1:0\n");
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.REJECTED);
        Files.delete(file);
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.REJECTED);
        assertThat(backendOf(address)).isEqualTo("a");
        assertThat(server.config().engine().targets().get("web").backends().get(0).port()).isEqualTo(a.port());

        write(file, config(b.hostAndPort(), 0));
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.APPLIED);
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.UNCHANGED);
        assertThat(backendOf(address)).isEqualTo("b");
        // The connection opened before the swap keeps its backend.
        InputStream in = open.getInputStream();
        assertThat(TestServer.readLine(in)).isEqualTo("GET / HTTP/1.0\r");
        open.getOutputStream().write("still a\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(TestServer.readLine(in)).isEqualTo("Host: x\r");
        assertThat(TestServer.readLine(in)).isEqualTo("\r");
        assertThat(TestServer.readLine(in)).isEqualTo("still a");
        assertThat(a.accepted()).isEqualTo(2);
    }

    @Test
    void listenersComeAndGoWithoutDisturbingTheOthers() throws Exception {
        TestServer a = greeter("a");
        int first = TestServer.deadPort();
        int second = TestServer.deadPort();
        Path file = dir.resolve("refractium.yaml");
        write(file, config(a.hostAndPort(), first));
        Server server = start(file);
        InetSocketAddress one = new InetSocketAddress("127.0.0.1", first);
        InetSocketAddress two = new InetSocketAddress("127.0.0.1", second);
        Socket open = request(one);
        assertThat(TestServer.readLine(open.getInputStream())).isEqualTo("a");

        write(file, config(a.hostAndPort(), first, second));
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.APPLIED);
        assertThat(backendOf(two)).isEqualTo("a");
        assertThat(server.refractium().localAddresses()).containsExactly(one, two);

        write(file, config(a.hostAndPort(), second));
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.APPLIED);
        assertThat(server.refractium().localAddresses()).containsExactly(two);
        assertThat(backendOf(two)).isEqualTo("a");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> backendOf(one)).isInstanceOf(ConnectException.class);
        // The connection the removed listener accepted carries on.
        open.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
        assertThat(TestServer.readLine(open.getInputStream())).isEqualTo("GET / HTTP/1.0\r");

        // A listener that cannot be bound rejects the whole file.
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            write(file, config(greeter("b").hostAndPort(), second, taken.getLocalPort()));
            assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.REJECTED);
        }
        assertThat(server.refractium().localAddresses()).containsExactly(two);
        assertThat(backendOf(two)).isEqualTo("a");
    }

    @Test
    void settingsThatCannotChangeLiveAreNamedAndKept() throws Exception {
        TestServer a = greeter("a");
        Path file = dir.resolve("refractium.yaml");
        write(file, config(a.hostAndPort(), 0));
        Server server = start(file);
        ServerConfig next = ServerConfig.from(YamlConfig.parse(config(a.hostAndPort(), 0)
                .replace("{shutdown-grace: 1s}", "{shutdown-grace: 1s, connect: 2s}")
                + "limits: {max-connections: 5}\n", "next.yaml"));
        assertThat(server.config().engine().fixedSettingsThatDiffer(next.engine()))
                .containsExactly("limits", "timeouts.connect");
        write(file, config(a.hostAndPort(), 0) + "limits: {max-connections: 5}\n");
        assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.APPLIED);
        assertThat(backendOf(server.refractium().localAddress())).isEqualTo("a");
    }

    @Test
    void aChangedFileIsReloadedWhileWatched() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Path file = dir.resolve("refractium.yaml");
        write(file, config(a.hostAndPort(), 0));
        Server server = start(file).watch(java.time.Duration.ofMillis(50));
        InetSocketAddress address = server.refractium().localAddress();
        assertThat(backendOf(address)).isEqualTo("a");
        write(file, config(b.hostAndPort(), 0));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.config().engine().targets().get("web").backends().get(0).port() != b.port()
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(backendOf(address)).isEqualTo("b");
    }

    @Test
    void reloadsUnderTrafficLoseNoConnection() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        int port = TestServer.deadPort();
        int extra = TestServer.deadPort();
        Path file = dir.resolve("refractium.yaml");
        write(file, config(a.hostAndPort(), port));
        Server server = start(file);
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);

        int clients = 2;
        int perClient = 150;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger done = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch finished = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < perClient && !stop.get(); i++) {
                        try (Socket s = new Socket()) {
                            s.connect(address, 2000);
                            s.setSoTimeout(5000);
                            s.getOutputStream().write(("GET /" + i + " HTTP/1.0\r\n\r\n")
                                    .getBytes(StandardCharsets.US_ASCII));
                            InputStream in = s.getInputStream();
                            String greeting = TestServer.readLine(in);
                            String echo = TestServer.readLine(in);
                            if (!("a".equals(greeting) || "b".equals(greeting))
                                    || !("GET /" + i + " HTTP/1.0\r").equals(echo)) {
                                failures.add("connection " + i + ": " + greeting + " / " + echo);
                            }
                            done.incrementAndGet();
                        } catch (IOException e) {
                            failures.add("connection " + i + ": " + e);
                        }
                    }
                } finally {
                    finished.countDown();
                }
            }, "client-" + c);
            t.setDaemon(true);
            t.start();
        }
        int reloads = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (finished.getCount() > 0 && reloads < 40 && System.nanoTime() < deadline) {
            String backend = reloads % 2 == 0 ? b.hostAndPort() : a.hostAndPort();
            write(file, reloads % 4 == 1 ? config(backend, port, extra) : config(backend, port));
            assertThat(server.reload()).isEqualTo(Server.ReloadOutcome.APPLIED);
            reloads++;
            Thread.sleep(10);
        }
        assertThat(finished.await(40, TimeUnit.SECONDS)).isTrue();
        stop.set(true);
        assertThat(failures).isEmpty();
        assertThat(done.get()).isEqualTo(clients * perClient);
        assertThat(reloads).isGreaterThan(3);
        assertThat(a.accepted() + b.accepted()).isEqualTo(clients * perClient);
    }
}
