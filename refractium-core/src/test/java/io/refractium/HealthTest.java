package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.BackendStatus.Health;
import io.refractium.hook.HealthChange;
import io.refractium.hook.Hook;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Active and passive health, failover, backups and connection caps with real loopback backends. */
@Timeout(60)
class HealthTest {

    private static final Duration INTERVAL = Duration.ofMillis(200);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<HealthChange> changes = new LinkedBlockingQueue<>();

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

    private Refractium start(ForwardTarget target) {
        return keep(Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", target)
                .connectTimeout(Duration.ofSeconds(1))
                .shutdownGracePeriod(Duration.ZERO)
                .hook(new Hook() {
                    @Override
                    public void onHealthChanged(HealthChange change) {
                        changes.add(change);
                    }
                })
                .build().start());
    }

    /** Connects through the proxy and returns the backend's greeting, or null when the proxy closed the client. */
    private static String ask(Refractium r) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(r.localAddress(), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
            return TestServer.readLine(s.getInputStream());
        }
    }

    private static Duration await(BooleanSupplier condition, Duration max) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + max);
            }
            Thread.sleep(10);
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static Health health(Refractium r, String target, TestServer backend) {
        return r.target(target).backend(backend.hostAndPort()).health();
    }

    @Test
    void aKilledBackendIsMarkedDownWithinIntervalTimesFallAndUpAgainWithinIntervalTimesRise() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        TestServer c = TestServer.greeter("c");
        int cPort = c.port();
        Refractium r = start(ForwardTarget.builder("abc")
                .backend(a.hostAndPort()).backend(b.hostAndPort()).backend(c.hostAndPort())
                .healthCheck(HealthCheck.connect().withInterval(INTERVAL).withTimeout(Duration.ofMillis(500))
                        .withFall(2).withRise(2).withJitter(0))
                .ejectAfter(0)
                .build());
        await(() -> "initial".equals(r.target("abc").backend(a.hostAndPort()).lastChange()), Duration.ofSeconds(1));
        assertThat(ask(r)).isIn("a", "b", "c");

        c.close();
        long killed = System.nanoTime();
        Duration down = await(() -> health(r, "abc", c) == Health.DOWN, Duration.ofSeconds(5));
        // interval x fall, plus one interval of phase and scheduling slack
        assertThat(down).isLessThan(INTERVAL.multipliedBy(2 + 2).plusMillis(300));
        HealthChange change = changes.poll(1, TimeUnit.SECONDS);
        assertThat(change).isNotNull();
        assertThat(change.backend().port()).isEqualTo(cPort);
        assertThat(change.current()).isEqualTo(Health.DOWN);
        assertThat(change.reason()).startsWith("check failed 2 times in a row");

        // From now on no client connection fails, and none reaches the dead backend.
        for (int i = 0; i < 30; i++) {
            assertThat(ask(r)).isIn("a", "b");
        }
        assertThat(r.target("abc").backend(c.hostAndPort()).connectFailures()).isZero();

        TestServer c2 = keep(TestServer.greeter(cPort, "c"));
        Duration up = await(() -> health(r, "abc", c2) == Health.UP, Duration.ofSeconds(5));
        assertThat(up).isLessThan(INTERVAL.multipliedBy(2 + 2).plusMillis(300));
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            seen.add(ask(r));
        }
        assertThat(seen).contains("c");
        assertThat(Duration.ofNanos(System.nanoTime() - killed)).isPositive();
    }

    @Test
    void backendsCanStartDownUntilTheyPassRiseChecks() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = start(ForwardTarget.builder("cold").backend(a.hostAndPort())
                .healthCheck(HealthCheck.connect().withInterval(INTERVAL).withRise(2).withStartsUp(false))
                .build());
        assertThat(health(r, "cold", a)).isEqualTo(Health.DOWN);
        assertThat(ask(r)).as("no traffic before the first checks pass").isNull();
        Duration up = await(() -> health(r, "cold", a) == Health.UP, Duration.ofSeconds(5));
        assertThat(up).isLessThan(INTERVAL.multipliedBy(2 + 2).plusMillis(300));
        assertThat(ask(r)).isEqualTo("a");
    }

    @Test
    void checksCanSendAndExpectAReplyPrefix() throws Exception {
        TestServer good = keep(TestServer.start(s -> {
            byte[] req = new byte[5];
            s.getInputStream().readNBytes(req, 0, 5);
            s.getOutputStream().write(("PING".equals(new String(req, 0, 4, StandardCharsets.US_ASCII)) ? "PONG ok\n" : "ERR\n")
                    .getBytes(StandardCharsets.US_ASCII));
        }));
        TestServer wrong = keep(TestServer.start(s -> s.getOutputStream().write("ERR\n".getBytes(StandardCharsets.US_ASCII))));
        Refractium r = start(ForwardTarget.builder("pp").backend(good.hostAndPort()).backend(wrong.hostAndPort())
                .healthCheck(HealthCheck.sendExpect("PING\n", "PONG").withInterval(INTERVAL).withFall(1).withRise(1))
                .build());
        await(() -> health(r, "pp", wrong) == Health.DOWN, Duration.ofSeconds(5));
        Thread.sleep(INTERVAL.multipliedBy(3).toMillis());
        assertThat(health(r, "pp", good)).isEqualTo(Health.UP);
        assertThat(r.target("pp").backend(wrong.hostAndPort()).lastChange()).contains("unexpected reply");
        // Checks are not client traffic.
        assertThat(r.target("pp").backend(good.hostAndPort()).activeConnections()).isZero();
    }

    @Test
    void allBackendsDownGivesPromptClosesAndTheBackupTakesOver() throws Exception {
        TestServer backup = keep(TestServer.greeter("backup"));
        int dead1 = TestServer.deadPort();
        int dead2 = TestServer.deadPort();
        Refractium r = start(ForwardTarget.builder("withbackup")
                .backend("127.0.0.1:" + dead1).backend("127.0.0.1:" + dead2)
                .backend(Backend.parse(backup.hostAndPort()).withBackup(true))
                .healthCheck(HealthCheck.connect().withInterval(INTERVAL).withFall(1))
                .build());
        // Even before the checks notice, failover reaches the backup after the primaries fail.
        assertThat(ask(r)).isEqualTo("backup");
        await(() -> r.target("withbackup").backends().stream().filter(BackendStatus::isUp).count() == 1,
                Duration.ofSeconds(5));
        for (int i = 0; i < 5; i++) {
            assertThat(ask(r)).isEqualTo("backup");
        }

        Refractium noBackup = start(ForwardTarget.builder("nobackup")
                .backend("127.0.0.1:" + dead1).backend("127.0.0.1:" + dead2)
                .healthCheck(HealthCheck.connect().withInterval(INTERVAL).withFall(1))
                .build());
        await(() -> noBackup.target("nobackup").backends().stream().noneMatch(BackendStatus::isUp), Duration.ofSeconds(5));
        long t0 = System.nanoTime();
        assertThat(ask(noBackup)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void passiveEjectionAndAGrowingCooldownWithoutActiveChecks() throws Exception {
        // The cooldown is long enough that six requests fit in it on a loaded machine.
        TestServer live = keep(TestServer.greeter("live"));
        String dead = "127.0.0.1:" + TestServer.deadPort();
        Refractium r = start(ForwardTarget.builder("passive")
                .backend(dead).backend(live.hostAndPort())
                .ejectAfter(2).ejectionCooldown(Duration.ofMillis(1500))
                .build());
        for (int i = 0; i < 6; i++) {
            assertThat(ask(r)).isEqualTo("live");
        }
        BackendStatus s = r.target("passive").backend(dead);
        assertThat(s.health()).isEqualTo(Health.EJECTED);
        assertThat(s.connectFailures()).isEqualTo(2);
        assertThat(s.lastChange()).startsWith("2 consecutive connect failures").endsWith("ejected for 1500ms");

        // health() turns UP by the clock when the cooldown ends; the change is recorded by a timer that may run a
        // little later on a loaded machine, so wait for the record rather than the clock.
        await(() -> "ejection cooldown over".equals(r.target("passive").backend(dead).lastChange()),
                Duration.ofSeconds(5));
        assertThat(r.target("passive").backend(dead).health()).isEqualTo(Health.UP);
        for (int i = 0; i < 6; i++) {
            assertThat(ask(r)).isEqualTo("live");
        }
        s = r.target("passive").backend(dead);
        assertThat(s.health()).isEqualTo(Health.EJECTED);
        assertThat(s.lastChange()).endsWith("ejected for 3s");
    }

    @Test
    void aSuccessfulConnectionRestoresAnEjectedBackend() throws Exception {
        TestServer flaky = TestServer.greeter("flaky");
        int port = flaky.port();
        flaky.close();
        Refractium r = start(ForwardTarget.builder("one").backend("127.0.0.1:" + port)
                .ejectAfter(1).ejectionCooldown(Duration.ofMillis(1500)).build());
        assertThat(ask(r)).isNull();
        assertThat(r.target("one").backends().get(0).health()).isEqualTo(Health.EJECTED);
        assertThat(ask(r)).as("no eligible backend while ejected").isNull();
        keep(TestServer.greeter(port, "flaky"));
        await(() -> r.target("one").backends().get(0).isUp(), Duration.ofSeconds(5));
        assertThat(ask(r)).isEqualTo("flaky");
        assertThat(r.target("one").backends().get(0).health()).isEqualTo(Health.UP);
    }

    @Test
    void aBackendAtItsConnectionCapIsSkipped() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        Refractium r = start(ForwardTarget.builder("capped")
                .backend(Backend.parse(a.hostAndPort()).withMaxConnections(1))
                .backend(Backend.parse(b.hostAndPort()).withMaxConnections(1))
                .build());
        try (Socket first = new Socket(); Socket second = new Socket(); Socket third = new Socket()) {
            List<String> seen = new ArrayList<>();
            for (Socket s : List.of(first, second)) {
                s.connect(r.localAddress(), 2000);
                s.setSoTimeout(5000);
                s.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
                seen.add(TestServer.readLine(s.getInputStream()));
            }
            assertThat(seen).containsExactlyInAnyOrder("a", "b");
            assertThat(r.target("capped").backends()).allMatch(st -> st.activeConnections() == 1);
            third.connect(r.localAddress(), 2000);
            third.setSoTimeout(5000);
            third.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(third.getInputStream().read()).as("both backends are full").isEqualTo(-1);
        }
        await(() -> r.target("capped").backends().stream().allMatch(st -> st.activeConnections() == 0), Duration.ofSeconds(3));
    }

    @Test
    void attemptsBoundFailover() throws Exception {
        TestServer live = keep(TestServer.greeter("live"));
        String d1 = "127.0.0.1:" + TestServer.deadPort();
        String d2 = "127.0.0.1:" + TestServer.deadPort();
        Refractium r = start(ForwardTarget.builder("bounded").backend(d1).backend(d2).backend(live.hostAndPort())
                .maxAttempts(2).ejectAfter(0).build());
        // Round robin starts at the first backend: two dead ones use up both attempts.
        assertThat(ask(r)).isNull();
        assertThat(ask(r)).isEqualTo("live");
    }

    @Test
    void theConnectDeadlineBoundsAllAttemptsTogether() throws Exception {
        // A listener whose accept queue is full and never drained: further SYNs go unanswered, so connects hang.
        java.net.ServerSocket blackHole = keep(new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()));
        List<Socket> fillers = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket f = new Socket();
                try {
                    f.connect(blackHole.getLocalSocketAddress(), 200);
                    fillers.add(f);
                } catch (IOException e) {
                    f.close();
                    break;
                }
            }
            String hole = "127.0.0.1:" + blackHole.getLocalPort();
            TestServer live = keep(TestServer.greeter("live"));
            Refractium r = keep(Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("alpha", "ALPHA"))
                    .connectTimeout(Duration.ofSeconds(5))
                    .route("alpha", ForwardTarget.builder("slow").backend(hole).backend(live.hostAndPort())
                            .connectDeadline(Duration.ofMillis(400)).ejectAfter(0).build())
                    .build().start());
            long t0 = System.nanoTime();
            // Round robin tries the black hole first: the deadline, not the 5 s connect timeout, ends the attempt,
            // and no time is left for the second backend.
            assertThat(ask(r)).isNull();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(took).isBetween(Duration.ofMillis(300), Duration.ofSeconds(2));
            assertThat(ask(r)).as("the next connection starts at the live backend").isEqualTo("live");
        } finally {
            for (Socket f : fillers) {
                f.close();
            }
        }
    }

    @Test
    void aThousandRouteSwapsLeaveNoCheckOfRemovedBackendsRunning() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        HealthCheck check = HealthCheck.connect().withInterval(Duration.ofMillis(50));
        Refractium r = start(ForwardTarget.builder("t0").backend(a.hostAndPort()).healthCheck(check).build());
        await(() -> r.liveHealthCheckers() == 1, Duration.ofSeconds(2));
        for (int i = 1; i <= 1000; i++) {
            ForwardTarget t = ForwardTarget.builder("t" + (i % 7))
                    .backend(a.hostAndPort()).backend(i % 2 == 0 ? b.hostAndPort() : "127.0.0.1:" + (20000 + i % 13))
                    .healthCheck(check).build();
            r.updateRoutes(RoutingTable.builder().route("alpha", t).build());
        }
        // The last table has one target of two backends: exactly two check loops remain.
        await(() -> r.liveHealthCheckers() == 2, Duration.ofSeconds(5));
        Thread.sleep(300);
        assertThat(r.liveHealthCheckers()).isEqualTo(2);
        assertThat(ask(r)).isIn("a", "b");
        r.close();
        await(() -> r.liveHealthCheckers() == 0, Duration.ofSeconds(5));
    }

    @Test
    void backendsThatStayKeepTheirStateAcrossASwap() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        String dead = "127.0.0.1:" + TestServer.deadPort();
        HealthCheck check = HealthCheck.connect().withInterval(INTERVAL).withFall(1);
        Refractium r = start(ForwardTarget.builder("t").backend(a.hostAndPort()).backend(dead).healthCheck(check).build());
        await(() -> r.target("t").backend(dead).health() == Health.DOWN, Duration.ofSeconds(3));
        TestServer b = keep(TestServer.greeter("b"));
        r.updateRoutes(RoutingTable.builder().route("alpha", ForwardTarget.builder("t")
                .backend(a.hostAndPort()).backend(dead).backend(b.hostAndPort()).healthCheck(check).build()).build());
        assertThat(r.target("t").backend(dead).health()).isEqualTo(Health.DOWN);
        assertThat(r.target("t").backend(b.hostAndPort()).health()).isEqualTo(Health.UP);
    }
}
