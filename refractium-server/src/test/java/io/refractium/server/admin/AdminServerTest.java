package io.refractium.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.micrometer.MicrometerMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin endpoint over real HTTP (the JDK's HttpClient) beside a real Refractium with real backends. */
@Timeout(60)
class AdminServerTest {

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** An echo server that counts the connections it accepted. */
    private final class Echo implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        Echo() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.incrementAndGet();
                        sockets.add(s);
                        Thread w = new Thread(() -> {
                            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                                in.transferTo(out);
                            } catch (IOException ignored) {
                                // the client went away
                            }
                        });
                        w.setDaemon(true);
                        w.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            resources.add(this);
        }

        String hostAndPort() {
            return "127.0.0.1:" + server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    private record Setup(Refractium refractium, AdminServer admin, PrometheusMeterRegistry registry) {
    }

    private Setup start(ForwardTarget target) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Refractium r = Refractium.builder().listen("127.0.0.1", 0).fallback(target)
                .metrics(MicrometerMetrics.of(registry)).build().start();
        resources.add(r);
        AdminServer admin = AdminServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), () -> r,
                registry::scrape, () -> "listeners:\n  - 127.0.0.1:0\npassword: <hidden>\n");
        resources.add(admin);
        return new Setup(r, admin, registry);
    }

    private HttpResponse<String> get(AdminServer admin, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(admin, path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(AdminServer admin, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(admin, path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(AdminServer admin, String path) {
        return URI.create("http://127.0.0.1:" + admin.localAddress().getPort() + path);
    }

    private static Socket echoThrough(Refractium r, String line) throws IOException {
        Socket c = new Socket();
        c.connect(r.localAddress(), 2000);
        c.setSoTimeout(10_000);
        c.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        byte[] back = c.getInputStream().readNBytes(line.length() + 1);
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo(line + "\n");
        return c;
    }

    @Test
    void theMetricsAreScrapedAsPrometheusText() throws Exception {
        Echo echo = new Echo();
        Setup s = start(ForwardTarget.of("echo", echo.hostAndPort()));
        for (int i = 0; i < 3; i++) {
            try (Socket c = echoThrough(s.refractium(), "hello " + i)) {
                c.shutdownOutput();
                c.getInputStream().readAllBytes();
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        Map<String, Double> samples;
        do {
            HttpResponse<String> res = get(s.admin(), "/metrics");
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
            samples = parsePrometheus(res.body());
        } while (samples.getOrDefault("refractium_connections_closed_total", 0.0) < 3 && System.nanoTime() < deadline
                && sleep());
        assertThat(samples.get("refractium_connections_accepted_total")).isEqualTo(3.0);
        assertThat(samples.get("refractium_connections_closed_total")).isEqualTo(3.0);
        assertThat(samples.get("refractium_connections_active")).isEqualTo(0.0);
    }

    /**
     * Parses the Prometheus text format: every line a comment or {@code name{labels} value}; returns the sum of the
     * samples of each name (labels dropped), failing on a line that is neither.
     */
    private static Map<String, Double> parsePrometheus(String text) {
        Pattern sample = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)");
        Map<String, Double> sums = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = sample.matcher(line);
            assertThat(m.matches()).as("a Prometheus sample line: %s", line).isTrue();
            sums.merge(m.group(1), Double.parseDouble(m.group(3).replace("+Inf", "Infinity")), Double::sum);
        }
        return sums;
    }

    private static boolean sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    @Test
    void healthReadinessConfigAndUnknownPaths() throws Exception {
        Echo echo = new Echo();
        Setup s = start(ForwardTarget.of("echo", echo.hostAndPort()));
        assertThat(get(s.admin(), "/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get(s.admin(), "/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(get(s.admin(), "/config").body()).contains("<hidden>");
        assertThat(get(s.admin(), "/nope").statusCode()).isEqualTo(404);
        assertThat(post(s.admin(), "/metrics").statusCode()).isEqualTo(405);
        assertThat(get(s.admin(), "/targets/echo/backends/" + echo.hostAndPort() + "/drain").statusCode())
                .isEqualTo(405);
        HttpResponse<String> unknown = post(s.admin(), "/targets/nope/backends/127.0.0.1:1/drain");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("nope");
        s.refractium().close();
        assertThat(get(s.admin(), "/healthz").statusCode()).isEqualTo(503);
        assertThat(get(s.admin(), "/ready").statusCode()).isEqualTo(503);
    }

    @Test
    void aDrainedBackendGetsNoNewConnectionsWhileItsOpenOnesFinish() throws Exception {
        Echo a = new Echo();
        Echo b = new Echo();
        ForwardTarget target = ForwardTarget.builder("pair").backend(Backend.parse(a.hostAndPort()))
                .backend(Backend.parse(b.hostAndPort())).build();
        Setup s = start(target);
        List<Socket> open = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            open.add(echoThrough(s.refractium(), "before " + i));
        }
        assertThat(a.accepted.get()).isPositive();
        HttpResponse<String> drained = post(s.admin(), "/targets/pair/backends/" + a.hostAndPort() + "/drain");
        assertThat(drained.statusCode()).as(drained.body()).isEqualTo(200);
        assertThat(drained.body()).contains("\"admin\":\"DRAINING\"");
        int acceptedByA = a.accepted.get();
        for (int i = 0; i < 6; i++) {
            try (Socket c = echoThrough(s.refractium(), "after " + i)) {
                c.shutdownOutput();
            }
        }
        assertThat(a.accepted.get()).as("the drained backend got no new connection").isEqualTo(acceptedByA);
        // The open connections, those on the drained backend included, still work.
        for (Socket c : open) {
            c.getOutputStream().write("still\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(c.getInputStream().readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo("still\n");
        }
        HttpResponse<String> targets = get(s.admin(), "/targets");
        assertThat(targets.body()).contains("\"name\":\"pair\"").contains("DRAINING");
        HttpResponse<String> connections = get(s.admin(), "/connections");
        assertThat(connections.statusCode()).isEqualTo(200);
        assertThat(connections.body()).contains("\"target\":\"pair\"").contains("\"bytesFromClient\":");
        for (Socket c : open) {
            c.close();
        }
        assertThat(post(s.admin(), "/targets/pair/backends/" + a.hostAndPort() + "/enable").body())
                .contains("\"admin\":\"ENABLED\"");
    }
}
