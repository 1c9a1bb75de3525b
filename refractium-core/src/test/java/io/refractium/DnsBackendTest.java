package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestDnsServer;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Backends named by host name, resolved through DNS against a small UDP responder on loopback: a name with two
 * addresses is two backends (two greeters bound on 127.0.0.2 and 127.0.0.3), the answer's TTL is honoured and a
 * changed answer takes effect when it expires, a removed address drains, a name that does not resolve closes only
 * its connections, and IP literals never reach DNS.
 */
@Timeout(60)
class DnsBackendTest {

    private static final String NAME = "backends.refractium.test";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<String> failures = new LinkedBlockingQueue<>();
    private final BlockingQueue<CloseReason> closed = new LinkedBlockingQueue<>();
    private final TestDnsServer dns = keep(new TestDnsServer());

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

    private Refractium start(boolean nativeTransport, ForwardTarget alpha, ForwardTarget beta) {
        RefractiumBuilder b = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .protocol(new PrefixProtocol("beta", "BETA"))
                .route("alpha", alpha)
                .dnsServers(List.of(dns.address()))
                .nativeTransport(nativeTransport)
                .connectTimeout(Duration.ofSeconds(2))
                .shutdownGracePeriod(Duration.ZERO)
                .hook(new Hook() {
                    @Override
                    public void onBackendFailed(ConnectionInfo c, InetSocketAddress backend, Throwable cause) {
                        failures.add(backend.getHostString() + " " + cause.getClass().getSimpleName());
                    }

                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.add(s.reason());
                    }
                });
        if (beta != null) {
            b.route("beta", beta);
        }
        return keep(b.build().start());
    }

    /** Two greeters on one port, one on 127.0.0.2 ("two"), one on 127.0.0.3 ("three"). */
    private int twoGreetersOnOnePort() {
        for (int i = 0; i < 20; i++) {
            TestServer two = keep(TestServer.greeter(new InetSocketAddress("127.0.0.2", 0), "two"));
            try {
                keep(TestServer.greeter(new InetSocketAddress("127.0.0.3", two.port()), "three"));
                return two.port();
            } catch (UncheckedIOException taken) {
                two.close();
            }
        }
        throw new AssertionError("no port free on both 127.0.0.2 and 127.0.0.3");
    }

    private Socket open(Refractium r, String firstLine) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(5000);
        s.getOutputStream().write((firstLine + "\n").getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private String ask(Refractium r) throws IOException {
        try (Socket s = open(r, "ALPHA")) {
            return TestServer.readLine(s.getInputStream());
        }
    }

    @ParameterizedTest(name = "native transport: {0}")
    @ValueSource(booleans = {true, false})
    void aNameWithTwoAddressesIsTwoBackendsUntilTheAnswerChangesAndItsTtlExpires(boolean nativeTransport)
            throws Exception {
        int port = twoGreetersOnOnePort();
        dns.answer(NAME, 1, "127.0.0.2", "127.0.0.3");
        Refractium r = start(nativeTransport, ForwardTarget.builder("named").backend(NAME, port).ejectAfter(0).build(),
                null);

        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            seen.add(ask(r));
        }
        assertThat(seen).containsExactlyInAnyOrder("two", "two", "three", "three");
        TargetStatus status = r.target("named");
        assertThat(status.backends()).extracting(b -> b.backend().hostAndPort())
                .containsExactlyInAnyOrder("127.0.0.2:" + port, "127.0.0.3:" + port);

        // A connection to 127.0.0.3 stays open across the change.
        Socket held = null;
        for (int i = 0; i < 2 && held == null; i++) {
            Socket s = keep(open(r, "ALPHA"));
            if ("three".equals(TestServer.readLine(s.getInputStream()))) {
                held = s;
            } else {
                s.close();
            }
        }
        assertThat(held).as("round robin reaches 127.0.0.3 within two connections").isNotNull();
        assertThat(r.target("named").backend("127.0.0.3:" + port).activeConnections()).isEqualTo(1);

        dns.answer(NAME, 1, "127.0.0.2");
        int queriesBefore = dns.aQueries(NAME);
        Await.until("the name re-resolved after its 1 s TTL", () -> dns.aQueries(NAME) > queriesBefore
                && r.target("named").backend("127.0.0.3:" + port).lastChange().contains("no longer in the DNS answer"),
                Duration.ofSeconds(10));
        for (int i = 0; i < 6; i++) {
            assertThat(ask(r)).as("new connections go to the remaining address").isEqualTo("two");
        }
        BackendStatus draining = r.target("named").backend("127.0.0.3:" + port);
        assertThat(draining.activeConnections()).as("the removed address keeps its open connection, counted")
                .isEqualTo(1);
        assertThat(TestServer.readLine(held.getInputStream())).as("the replayed first line, echoed").isEqualTo("ALPHA");
        held.getOutputStream().write("still here\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(TestServer.readLine(held.getInputStream())).isEqualTo("still here");
        held.close();
        Await.until("the drained address leaves the status", () -> r.target("named").backend("127.0.0.3:" + port) == null);
        Await.until("all counts back to zero", () -> r.activeConnections() == 0
                && r.target("named").backends().stream().allMatch(b -> b.activeConnections() == 0));
    }

    @Test
    void theAnswerIsKeptForItsTtlNotAskedPerConnection() throws Exception {
        int port = twoGreetersOnOnePort();
        dns.answer(NAME, 300, "127.0.0.2");
        Refractium r = start(true, ForwardTarget.of("named", NAME + ":" + port), null);
        for (int i = 0; i < 10; i++) {
            assertThat(ask(r)).isEqualTo("two");
        }
        assertThat(dns.aQueries(NAME)).as("one query for ten connections").isEqualTo(1);
    }

    @Test
    void eachAddressHasItsOwnHealthCheckWhichStopsWhenTheAddressLeaves() throws Exception {
        int port = twoGreetersOnOnePort();
        dns.answer(NAME, 1, "127.0.0.2", "127.0.0.3");
        Refractium r = start(true, ForwardTarget.builder("checked").backend(NAME, port)
                .healthCheck(HealthCheck.connect().withInterval(Duration.ofMillis(200))).build(), null);
        Await.until("a check loop per address", () -> r.liveHealthCheckers() == 2);
        dns.answer(NAME, 1, "127.0.0.2");
        Await.until("the removed address's check stopped", () -> r.liveHealthCheckers() == 1, Duration.ofSeconds(10));
        assertThat(r.target("checked").backends()).extracting(b -> b.backend().hostAndPort())
                .containsExactly("127.0.0.2:" + port);
    }

    @Test
    void aNameThatDoesNotResolveClosesOnlyItsConnection() throws Exception {
        TestServer live = keep(TestServer.greeter("live"));
        Refractium r = start(true, ForwardTarget.of("ghost", "nosuch.refractium.test:80"),
                ForwardTarget.of("live", live.hostAndPort()));
        try (Socket s = open(r, "ALPHA")) {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(failures.poll(5, TimeUnit.SECONDS)).isEqualTo("nosuch.refractium.test "
                + UnknownHostException.class.getSimpleName());
        assertThat(closed.poll(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.BACKEND_UNAVAILABLE);
        BackendStatus ghost = r.target("ghost").backend("nosuch.refractium.test:80");
        assertThat(ghost.health()).isEqualTo(BackendStatus.Health.DOWN);
        assertThat(ghost.lastChange()).startsWith("did not resolve");

        try (Socket s = open(r, "BETA")) {
            assertThat(TestServer.readLine(s.getInputStream())).as("the listener serves other targets").isEqualTo("live");
        }
        assertThat(r.isRunning()).isTrue();
    }

    @Test
    void ipLiteralsNeverGoThroughDns() throws Exception {
        TestServer live = keep(TestServer.greeter("live"));
        Refractium r = start(true, ForwardTarget.of("literal", live.hostAndPort()), null);
        for (int i = 0; i < 3; i++) {
            assertThat(ask(r)).isEqualTo("live");
        }
        assertThat(dns.totalQueries()).isZero();
    }
}
