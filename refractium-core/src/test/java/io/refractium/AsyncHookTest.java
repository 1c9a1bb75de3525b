package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.hook.HookAttributeKey;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.hook.RouteDecision;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Asynchronous hook verdicts on real loopback sockets: stages completed on another executor refuse, reroute and
 * time out; per-connection hooks from a factory see their own connection; every started hook gets its end.
 */
@Timeout(30)
class AsyncHookTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ScheduledExecutorService lookups = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        lookups.shutdownNow();
    }

    @Test
    void anAdmissionRefusedLaterFromAnotherThreadClosesTheClientWithTheReason() throws Exception {
        TestServer a = greeter("a");
        CompletableFuture<ConnectionSummary> closed = new CompletableFuture<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public CompletionStage<Admission> onAcceptedAsync(ConnectionInfo c) {
                        CompletableFuture<Admission> f = new CompletableFuture<>();
                        lookups.schedule(() -> f.complete(Admission.REFUSE), 50, TimeUnit.MILLISECONDS);
                        return f;
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        threads.add(Thread.currentThread().getName());
                        closed.complete(s);
                    }
                }));
        Socket c = connect(r);
        send(c, "ALPHA hello\n");
        assertThat(c.getInputStream().read()).as("closed without a byte").isEqualTo(-1);
        ConnectionSummary s = closed.get(5, TimeUnit.SECONDS);
        assertThat(s.reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(s.detail()).contains("on accept");
        assertThat(threads).noneMatch(t -> t.startsWith("pool"));
        assertThat(a.accepted()).isZero();
    }

    @Test
    void aRouteDecisionReroutedLaterFromAnotherThreadReachesTheOtherTargetWithEveryByte() throws Exception {
        TestServer a = greeter("a");
        TestServer b = greeter("b");
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .target(ForwardTarget.of("b", b.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public CompletionStage<RouteDecision> onRouteChosenAsync(ConnectionInfo c, ForwardTarget t) {
                        CompletableFuture<RouteDecision> f = new CompletableFuture<>();
                        lookups.schedule(() -> f.complete(RouteDecision.reroute("b")), 200, TimeUnit.MILLISECONDS);
                        return f;
                    }
                }));
        Socket c = connect(r);
        send(c, "ALPHA one\n");
        send(c, "two\n"); // arrives while the decision is pending
        assertThat(line(c)).isEqualTo("b");
        assertThat(line(c)).isEqualTo("ALPHA one");
        assertThat(line(c)).isEqualTo("two");
        assertThat(a.accepted()).isZero();
    }

    @Test
    void aRouteDecisionThatNeverAnswersRefusesAtTheTimeoutWhenFailingClosed() throws Exception {
        TestServer a = greeter("a");
        CompletableFuture<ConnectionSummary> closed = new CompletableFuture<>();
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hookDecisionTimeout(Duration.ofMillis(200))
                .hook(new Hook() {
                    @Override
                    public CompletionStage<RouteDecision> onRouteChosenAsync(ConnectionInfo c, ForwardTarget t) {
                        return new CompletableFuture<>();
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.complete(s);
                    }
                }));
        Socket c = connect(r);
        send(c, "ALPHA hello\n");
        assertThat(c.getInputStream().read()).isEqualTo(-1);
        ConnectionSummary s = closed.get(5, TimeUnit.SECONDS);
        assertThat(s.reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(s.detail()).contains("TimeoutException");
    }

    @Test
    void aRouteDecisionThatNeverAnswersProceedsAtTheTimeoutWhenFailingOpen() throws Exception {
        TestServer a = greeter("a");
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hookDecisionTimeout(Duration.ofMillis(200))
                .hookFailurePolicy(HookFailurePolicy.FAIL_OPEN)
                .hook(new Hook() {
                    @Override
                    public CompletionStage<RouteDecision> onRouteChosenAsync(ConnectionInfo c, ForwardTarget t) {
                        return new CompletableFuture<>();
                    }
                }));
        Socket c = connect(r);
        send(c, "ALPHA hello\n");
        assertThat(line(c)).isEqualTo("a");
        assertThat(line(c)).isEqualTo("ALPHA hello");
    }

    @Test
    void hooksFromAFactoryAreOnePerConnectionAndEveryStartedHookIsEnded() throws Exception {
        TestServer a = greeter("a");
        HookAttributeKey<String> tag = HookAttributeKey.of("tag");
        List<String> ends = new CopyOnWriteArrayList<>();
        Refractium r = start(builder()
                .route("alpha", ForwardTarget.of("a", a.hostAndPort()))
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        c.attr(tag, "shared saw #" + c.id());
                        return Admission.ACCEPT;
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        ends.add("shared " + s.reason());
                    }
                })
                .hookFactory(conn -> new Hook() {
                    private final long id = conn.id();

                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        assertThat(c.id()).isEqualTo(id);
                        assertThat(c.attr(tag)).isEqualTo("shared saw #" + id);
                        return ends.isEmpty() ? Admission.REFUSE : Admission.ACCEPT;
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        ends.add("own " + s.reason());
                    }
                }));
        Socket refused = connect(r);
        assertThat(refused.getInputStream().read()).isEqualTo(-1);
        Await.until(() -> ends.size() == 2);
        Socket served = connect(r);
        send(served, "ALPHA x\n");
        assertThat(line(served)).isEqualTo("a");
        served.close();
        Await.until(() -> ends.size() == 4);
        assertThat(ends.subList(0, 2)).containsExactlyInAnyOrder("shared REFUSED", "own REFUSED");
        assertThat(ends.subList(2, 4)).containsExactlyInAnyOrder("shared COMPLETED", "own COMPLETED");
    }

    @Test
    void theHookSettingsAreCheckedAtOnce() {
        assertThatThrownBy(() -> builder().hookDecisionTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("hookDecisionTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> builder().hookDecisionTimeout(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("hookDecisionTimeout");
        assertThatThrownBy(() -> builder().hookFailurePolicy(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("policy");
        assertThatThrownBy(() -> builder().hookFactory(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("factory");
    }

    // ---------------------------------------------------------------- fixture

    private TestServer greeter(String name) {
        TestServer s = TestServer.greeter(name);
        closeables.add(s);
        return s;
    }

    private static RefractiumBuilder builder() {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .shutdownGracePeriod(Duration.ofSeconds(2));
    }

    private Refractium start(RefractiumBuilder b) {
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    private Socket connect(Refractium r) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(5000);
        closeables.add(s);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static String line(Socket s) throws IOException {
        return TestServer.readLine(s.getInputStream());
    }

    /** Polls briefly; the hooks run on the proxy's threads. */
    private static final class Await {
        static void until(java.util.function.BooleanSupplier condition) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!condition.getAsBoolean()) {
                assertThat(System.nanoTime()).as("waited 5 s").isLessThan(end);
                Thread.sleep(5);
            }
        }
    }
}
