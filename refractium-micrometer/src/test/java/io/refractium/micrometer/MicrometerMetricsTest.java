package io.refractium.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refractium.AdmissionLimits;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real connections through a real Refractium, then a Prometheus scrape of the registry, parsed for the series the
 * recorder documents.
 */
@Timeout(60)
class MicrometerMetricsTest {

    /** One sample line of the Prometheus text format: {@code name{labels} value}. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        registry.close();
    }

    private <T extends AutoCloseable> T keep(T t) {
        closeables.add(t);
        return t;
    }

    /** Parses a scrape into series (name with its sorted labels, as written) and values. */
    private static Map<String, Double> parse(String scrape) {
        Map<String, Double> series = new LinkedHashMap<>();
        for (String line : scrape.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("a sample line: %s", line).isTrue();
            series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return series;
    }

    private Map<String, Double> scrape() {
        return parse(registry.scrape());
    }

    private static String readLine(Socket s) throws IOException {
        return TestServer.readLine(s.getInputStream());
    }

    private static Socket connect(Refractium r, String send) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(5000);
        s.getOutputStream().write(send.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    @Test
    void aScrapeAfterRealConnectionsHasTheDocumentedSeries() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer fb = keep(TestServer.greeter("fb"));
        int dead = TestServer.deadPort();
        Refractium r = keep(Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.builder("web").backend("127.0.0.1:" + dead).backend(a.hostAndPort())
                        .ejectAfter(0).build())
                .fallback(ForwardTarget.of("fb", fb.hostAndPort()))
                .limits(AdmissionLimits.builder().maxConnections(1).build())
                .connectTimeout(Duration.ofSeconds(2))
                .shutdownGracePeriod(Duration.ZERO)
                .metrics(MicrometerMetrics.of(registry, Tags.of("instance", "test")))
                .build().start());
        String listener = "127.0.0.1:" + r.localAddress().getPort();
        String web = "backend=\"127.0.0.1:" + a.port() + "\",instance=\"test\",target=\"web\"";
        String deadWeb = "backend=\"127.0.0.1:" + dead + "\",instance=\"test\",target=\"web\"";

        // One routed connection: the dead backend first (round robin), then the live one. While it is open, a second
        // is refused (maxConnections 1), and the gauges see it.
        try (Socket s = connect(r, "ALPHA\n")) {
            assertThat(readLine(s)).isEqualTo("a");
            assertThat(readLine(s)).isEqualTo("ALPHA");
            try (Socket refused = connect(r, "ALPHA\n")) {
                Await.until("refused", () -> r.refusals().values().stream().mapToLong(Long::longValue).sum() == 1);
            } catch (IOException e) {
                // refused before the write
            }
            Map<String, Double> open = scrape();
            assertThat(open).containsEntry("refractium_connections_active{instance=\"test\"}", 1.0);
            assertThat(open).containsEntry("refractium_backend_active{" + web + "}", 1.0);
            assertThat(open).containsEntry("refractium_backend_up{" + web + "}", 1.0);
            assertThat(open).containsEntry("refractium_connections_refused_total{instance=\"test\",listener=\""
                    + listener + "\",reason=\"max_connections\"}", 1.0);
        }
        // One that matches nothing: the fallback.
        Await.until("the first closed", () -> r.activeConnections() == 0);
        try (Socket s = connect(r, "HELLO\n")) {
            assertThat(readLine(s)).isEqualTo("fb");
            assertThat(readLine(s)).isEqualTo("HELLO");
        }
        Await.until("all closed", () -> r.activeConnections() == 0
                && scrape().getOrDefault("refractium_connections_closed_total{instance=\"test\",protocol=\"none\","
                        + "reason=\"completed\",target=\"fb\"}", 0.0) == 1.0
                // Backend gauges read a status at most 100 ms old.
                && scrape().getOrDefault("refractium_backend_active{" + web + "}", -1.0) == 0.0);

        Map<String, Double> m = scrape();
        assertThat(m).containsEntry("refractium_connections_accepted_total{instance=\"test\",listener=\"" + listener
                + "\"}", 2.0);
        assertThat(m).containsEntry("refractium_connections_active{instance=\"test\"}", 0.0);
        assertThat(m).containsEntry("refractium_connections_closed_total{instance=\"test\",protocol=\"alpha\","
                + "reason=\"completed\",target=\"web\"}", 1.0);
        assertThat(m).containsEntry("refractium_bytes_total{direction=\"from_client\",instance=\"test\","
                + "protocol=\"alpha\",target=\"web\"}", 6.0);
        assertThat(m).containsEntry("refractium_bytes_total{direction=\"to_client\",instance=\"test\","
                + "protocol=\"alpha\",target=\"web\"}", 8.0);
        assertThat(m).containsEntry("refractium_bytes_total{direction=\"from_client\",instance=\"test\","
                + "protocol=\"none\",target=\"fb\"}", 6.0);
        assertThat(m).containsEntry("refractium_connection_duration_seconds_count{instance=\"test\","
                + "protocol=\"alpha\",target=\"web\"}", 1.0);
        assertThat(m).containsEntry("refractium_detection_seconds_count{instance=\"test\",outcome=\"routed\","
                + "protocol=\"alpha\"}", 1.0);
        assertThat(m).containsEntry("refractium_detection_seconds_count{instance=\"test\",outcome=\"no_match\","
                + "protocol=\"none\"}", 1.0);
        assertThat(m.get("refractium_detection_seconds_sum{instance=\"test\",outcome=\"routed\",protocol=\"alpha\"}"))
                .isPositive();
        assertThat(m).containsEntry("refractium_detector_bytes_count{detector=\"alpha\",instance=\"test\","
                + "verdict=\"match\"}", 1.0);
        assertThat(m).containsEntry("refractium_detector_bytes_sum{detector=\"alpha\",instance=\"test\","
                + "verdict=\"match\"}", 6.0);
        assertThat(m).containsEntry("refractium_detector_bytes_count{detector=\"alpha\",instance=\"test\","
                + "verdict=\"no_match\"}", 1.0);
        assertThat(m).containsEntry("refractium_fallbacks_total{instance=\"test\",reason=\"no_match\"}", 1.0);
        assertThat(m).containsEntry("refractium_backend_connect_attempts_total{" + deadWeb + "}", 1.0);
        assertThat(m).containsEntry("refractium_backend_connect_failures_total{" + deadWeb + "}", 1.0);
        assertThat(m).containsEntry("refractium_backend_connect_attempts_total{" + web + "}", 1.0);
        assertThat(m).containsEntry("refractium_backend_connect_time_seconds_count{" + web + "}", 1.0);
        assertThat(m).containsEntry("refractium_backend_active{" + web + "}", 0.0);
        assertThat(m).containsKey("refractium_connections_spliced_total{instance=\"test\"}");

        // A drained backend is no longer up for new connections.
        r.drain("web", a.hostAndPort());
        Await.until("up gauge follows the drain", () -> scrape().get("refractium_backend_up{" + web + "}") == 0.0);
    }

    @Test
    void closingTheInstanceUnbindsItsGauges() {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.of("web", a.hostAndPort()))
                .metrics(MicrometerMetrics.of(registry))
                .build();
        assertThat(scrape()).containsKey("refractium_backend_up{backend=\"" + a.hostAndPort() + "\",target=\"web\"}");
        r.close();
        assertThat(scrape()).noneSatisfy((k, v) -> assertThat(k).startsWith("refractium_backend_up"));
    }
}
