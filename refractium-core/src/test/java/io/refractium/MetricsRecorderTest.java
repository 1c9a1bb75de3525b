package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.RefusalReason;
import io.refractium.metrics.MetricsRecorder;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the engine tells a {@link MetricsRecorder}, for real connections on loopback. */
@Timeout(60)
class MetricsRecorderTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Recorder recorder = new Recorder();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T t) {
        closeables.add(t);
        return t;
    }

    /** Records each event as one line. */
    static final class Recorder implements MetricsRecorder {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<DetectionReport> reports = new CopyOnWriteArrayList<>();
        final List<Refractium> bound = new CopyOnWriteArrayList<>();

        @Override
        public void bind(Refractium refractium) {
            bound.add(refractium);
            events.add("bind");
        }

        @Override
        public void unbind(Refractium refractium) {
            bound.remove(refractium);
            events.add("unbind");
        }

        @Override
        public void routesUpdated(RoutingTable table) {
            events.add("routes " + table.targets().keySet());
        }

        @Override
        public void connectionAccepted(InetSocketAddress listener) {
            events.add("accepted");
        }

        @Override
        public void connectionRefused(InetSocketAddress listener, RefusalReason reason) {
            events.add("refused " + reason);
        }

        @Override
        public void detectionDecided(ConnectionInfo connection, DetectionReport report) {
            reports.add(report);
            events.add("detected " + report.protocol() + " " + report.outcome());
        }

        @Override
        public void connectStarted(ConnectionInfo connection, ForwardTarget target, Backend backend) {
            events.add("connect " + target.name() + " " + backend.port());
        }

        @Override
        public void connectSucceeded(ConnectionInfo connection, ForwardTarget target, Backend backend, long nanos) {
            assertThat(nanos).isNotNegative();
            events.add("connected " + backend.port());
        }

        @Override
        public void connectFailed(ConnectionInfo connection, ForwardTarget target, Backend backend, Throwable cause) {
            events.add("failed " + backend.port());
        }

        @Override
        public void limitReached(ConnectionInfo connection, String limit) {
            events.add("limit " + limit);
        }

        @Override
        public void connectionClosed(ConnectionInfo connection, ConnectionSummary summary) {
            events.add("closed " + summary.reason() + " in=" + summary.bytesFromClient() + " out="
                    + summary.bytesToClient());
        }

        List<String> connectionEvents() {
            List<String> l = new ArrayList<>(events);
            l.removeIf(e -> e.equals("bind") || e.startsWith("routes"));
            return l;
        }
    }

    /** A detector that never decides: it waits for more bytes up to the peek cap. */
    private static final RefractiumProtocol UNDECIDED = new RefractiumProtocol() {
        @Override
        public String id() {
            return "undecided";
        }

        @Override
        public int maxBytes() {
            return 1 << 20;
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            return DetectionResult.needMore();
        }
    };

    private RefractiumBuilder builder() {
        return Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .protocol(new PrefixProtocol("beta", "BETA"))
                .connectTimeout(Duration.ofSeconds(2))
                .shutdownGracePeriod(Duration.ZERO)
                .metrics(recorder);
    }

    private static Socket connect(Refractium r, String send) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(5000);
        s.getOutputStream().write(send.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private void awaitEvent(String prefix) {
        Await.until(prefix, () -> recorder.events.stream().anyMatch(e -> e.startsWith(prefix)));
    }

    @Test
    void aRoutedConnectionIsAcceptedDetectedConnectedAndClosedInThatOrder() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = keep(builder().route("alpha", ForwardTarget.of("a", a.hostAndPort())).build());
        assertThat(recorder.bound).containsExactly(r);
        r.start();

        try (Socket s = connect(r, "ALPHA\n")) {
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("a");
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("ALPHA");
        }
        awaitEvent("closed");

        assertThat(recorder.connectionEvents()).containsExactly("accepted", "detected alpha ROUTED",
                "connect a " + a.port(), "connected " + a.port(), "closed COMPLETED in=6 out=8");
        DetectionReport report = recorder.reports.get(0);
        assertThat(report.verdict("alpha").verdict()).isEqualTo(DetectionReport.Verdict.MATCH);
        assertThat(report.verdicts()).extracting(DetectionReport.DetectorVerdict::detector)
                .containsExactly("alpha", "beta");
        assertThat(report.isFallback()).isFalse();

        r.close();
        assertThat(recorder.events).endsWith("unbind");
        assertThat(recorder.bound).isEmpty();
    }

    @Test
    void refusalsFailedAttemptsFallbacksAndLimitsAreReported() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer fallback = keep(TestServer.greeter("fb"));
        int dead = TestServer.deadPort();
        Refractium r = keep(builder()
                .maxPeekBytes(64)
                .protocol(UNDECIDED)
                .limits(AdmissionLimits.builder().maxConnections(2).build())
                .route("alpha", ForwardTarget.builder("ab").backend("127.0.0.1:" + dead).backend(a.hostAndPort())
                        .ejectAfter(0).build())
                .route("beta", ForwardTarget.builder("capped")
                        .backend(Backend.parse(a.hostAndPort()).withMaxConnections(1)).build())
                .fallback(ForwardTarget.of("fb", fallback.hostAndPort()))
                .build().start());

        // A dead backend first, then the live one (round robin starts at the first).
        try (Socket s = connect(r, "ALPHA\n")) {
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("a");
        }
        awaitEvent("closed");
        assertThat(recorder.connectionEvents()).containsSubsequence("connect ab " + dead, "failed " + dead,
                "connect ab " + a.port(), "connected " + a.port());
        recorder.events.clear();

        // No detector matches (the undecided one drops out at the client's FIN): the fallback takes it, and the
        // report says why.
        try (Socket s = connect(r, "HELLO\n")) {
            s.shutdownOutput();
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("fb");
        }
        awaitEvent("closed");
        assertThat(recorder.connectionEvents()).contains("detected null NO_MATCH");
        assertThat(recorder.reports.get(recorder.reports.size() - 1).isFallback()).isTrue();
        recorder.events.clear();

        // The peek cap stops detection while a detector still waits.
        try (Socket s = connect(r, "x".repeat(100))) {
            assertThat(TestServer.readLine(s.getInputStream())).isEqualTo("fb");
        }
        awaitEvent("closed");
        assertThat(recorder.connectionEvents()).containsSubsequence("detected null TOO_MANY_BYTES",
                "limit " + MetricsRecorder.LIMIT_MAX_PEEK_BYTES);
        recorder.events.clear();

        // A backend at its cap: the second connection finds none.
        try (Socket first = connect(r, "BETA\n")) {
            assertThat(TestServer.readLine(first.getInputStream())).isEqualTo("a");
            try (Socket second = connect(r, "BETA\n")) {
                assertThat(second.getInputStream().read()).isEqualTo(-1);
            }
            awaitEvent("closed BACKEND_UNAVAILABLE");
            assertThat(recorder.connectionEvents()).contains("limit " + MetricsRecorder.LIMIT_BACKEND_MAX_CONNECTIONS);
            recorder.events.clear();

            // Two open (one of them still in detection): the third is refused at accept.
            try (Socket idle = connect(r, "")) {
                Await.until("two open", () -> r.activeConnections() == 2);
                try (Socket refused = connect(r, "BETA\n")) {
                    awaitEvent("refused");
                } catch (IOException e) {
                    awaitEvent("refused");
                }
            }
            assertThat(recorder.events).contains("refused " + RefusalReason.MAX_CONNECTIONS);
        }
    }

    @Test
    void aRoutingTableSwapIsReported() {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = keep(builder().route("alpha", ForwardTarget.of("a", a.hostAndPort())).build());
        r.updateRoutes(RoutingTable.builder().route("beta", ForwardTarget.of("b", a.hostAndPort())).build());
        assertThat(recorder.events).containsExactly("bind", "routes [b]");
    }
}
