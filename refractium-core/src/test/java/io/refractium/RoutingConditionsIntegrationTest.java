package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.balance.LoadBalancers;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.Hook;
import io.refractium.testing.Await;
import io.refractium.testing.AttributeProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Routing on loopback sockets by any attribute a detector reports and by the listener, silence per listener, hashing
 * on an attribute, and the detection report seen by a hook.
 */
@Timeout(30)
class RoutingConditionsIntegrationTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** Each closed connection's detection report, by the client's local port. */
    private final Map<Integer, DetectionReport> reports = new ConcurrentHashMap<>();

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

    private static ForwardTarget to(String name, TestServer s) {
        return ForwardTarget.of(name, s.hostAndPort());
    }

    private RefractiumBuilder builder() {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .protocol(new AttributeProtocol("pg"))
                .shutdownGracePeriod(Duration.ZERO)
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        if (c.detection() != null) {
                            reports.put(c.clientAddress().getPort(), c.detection());
                        }
                    }
                });
    }

    private Refractium start(RefractiumBuilder b) {
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    private Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, 2000);
        s.setSoTimeout(5000);
        closeables.add(s);
        return s;
    }

    /** Sends a line (unless null) and returns the first line the backend greets with. */
    private String exchange(InetSocketAddress address, String line) throws IOException {
        try (Socket s = connect(address)) {
            if (line != null) {
                OutputStream out = s.getOutputStream();
                out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            return TestServer.readLine(s.getInputStream());
        }
    }

    @Test
    void routesByAnyAttributeExactSuffixPredicateAndListElement() throws IOException {
        TestServer app = greeter("app");
        TestServer tenants = greeter("tenants");
        TestServer admin = greeter("admin");
        TestServer replicas = greeter("replicas");
        TestServer any = greeter("any");
        Refractium r = start(builder()
                .route(Route.builder("pg").attribute("pg.database", "app").to(to("app", app)))
                .route(Route.builder("pg").attribute("pg.database", "*.tenant").to(to("tenants", tenants)))
                .route(Route.builder("pg").attribute("pg.user", u -> u.startsWith("admin")).to(to("admin", admin)))
                .route(Route.builder("pg").attribute("pg.hosts", "replica").to(to("replicas", replicas)))
                .route("pg", to("any", any)));
        InetSocketAddress a = r.localAddress();
        assertThat(exchange(a, "pg database=app user=bob")).isEqualTo("app");
        assertThat(exchange(a, "pg database=App user=bob")).as("exact is case-sensitive").isEqualTo("any");
        assertThat(exchange(a, "pg database=acme.TENANT user=bob")).isEqualTo("tenants");
        assertThat(exchange(a, "pg database=x user=admin2")).isEqualTo("admin");
        assertThat(exchange(a, "pg hosts=primary,replica")).isEqualTo("replicas");
        assertThat(exchange(a, "pg hosts=primary,other")).isEqualTo("any");
    }

    @Test
    void twoListenersServeDifferentRulesAndEachWaitsForSilenceOnlyWithItsOwnSilenceRoute() throws Exception {
        TestServer first = greeter("first");
        TestServer second = greeter("second");
        TestServer ssh = greeter("SSH-2.0-greeter");
        TestServer fallback = greeter("fallback");
        Refractium r = start(builder().listen("127.0.0.1", 0).peekTimeout(Duration.ofMillis(1500)));
        InetSocketAddress one = r.localAddresses().get(0);
        InetSocketAddress two = r.localAddresses().get(1);
        r.updateRoutes(RoutingTable.builder()
                .route(Route.builder("pg").listener(one.getPort()).to(to("first", first)))
                .route(Route.builder("pg").listener(two).to(to("second", second)))
                .onSilence(one.getPort(), to("ssh", ssh), Duration.ofMillis(200))
                .fallback(to("fallback", fallback))
                .build());

        assertThat(exchange(one, "pg database=app")).isEqualTo("first");
        assertThat(exchange(two, "pg database=app")).isEqualTo("second");

        Socket silentOne = connect(one);
        Socket silentTwo = connect(two);
        assertThat(TestServer.readLine(silentOne.getInputStream())).isEqualTo("SSH-2.0-greeter");
        assertThat(TestServer.readLine(silentTwo.getInputStream())).isEqualTo("fallback");
        int portOne = silentOne.getLocalPort();
        int portTwo = silentTwo.getLocalPort();
        silentOne.close();
        silentTwo.close();
        Await.until("both silent connections closed", () -> reports.containsKey(portOne) && reports.containsKey(portTwo));
        assertThat(reports.get(portOne).outcome()).isEqualTo(DetectionReport.Outcome.SILENCE);
        assertThat(reports.get(portOne).elapsed()).isLessThan(Duration.ofMillis(1500));
        assertThat(reports.get(portTwo).outcome()).isEqualTo(DetectionReport.Outcome.SILENCE);
        assertThat(reports.get(portTwo).elapsed()).as("no silence route: the detection deadline")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void hashingOnAnAttributeSendsTheSameValueToTheSameBackend() throws IOException {
        TestServer b0 = greeter("b0");
        TestServer b1 = greeter("b1");
        TestServer b2 = greeter("b2");
        ForwardTarget pool = ForwardTarget.builder("pool").backend(b0.hostAndPort()).backend(b1.hostAndPort())
                .backend(b2.hostAndPort()).loadBalancer(LoadBalancers.hashAttribute("pg.client")).build();
        Refractium r = start(builder().route("pg", pool));
        Set<String> used = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            String first = exchange(r.localAddress(), "pg client=c" + i);
            for (int again = 0; again < 3; again++) {
                assertThat(exchange(r.localAddress(), "pg client=c" + i + " other=" + again))
                        .as("client c%d, connection %d", i, again + 2).isEqualTo(first);
            }
            used.add(first);
        }
        assertThat(used).as("12 client ids over 3 backends").hasSizeGreaterThan(1);
    }

    @Test
    void aHookSeesTheDetectionReportOfEachConnection() throws Exception {
        TestServer app = greeter("app");
        TestServer fallback = greeter("fallback");
        Refractium r = start(builder().route(Route.builder("pg").attribute("pg.database", "app").to(to("app", app)))
                .fallback(to("fallback", fallback)));
        int[] ports = new int[3];
        String[] lines = {"pg database=app", "pg database=other", "GET / HTTP/1.1"};
        String[] expected = {"app", "fallback", "fallback"};
        for (int i = 0; i < lines.length; i++) {
            try (Socket s = connect(r.localAddress())) {
                ports[i] = s.getLocalPort();
                s.getOutputStream().write((lines[i] + "\n").getBytes(StandardCharsets.US_ASCII));
                assertThat(TestServer.readLine(s.getInputStream())).isEqualTo(expected[i]);
            }
        }
        Await.until("three reports", () -> reports.keySet().containsAll(List.of(ports[0], ports[1], ports[2])));
        DetectionReport routed = reports.get(ports[0]);
        assertThat(routed.protocol()).isEqualTo("pg");
        assertThat(routed.outcome()).isEqualTo(DetectionReport.Outcome.ROUTED);
        assertThat(routed.verdicts()).containsExactly(
                new DetectionReport.DetectorVerdict("pg", DetectionReport.Verdict.MATCH, lines[0].length() + 1));
        assertThat(routed.elapsed()).isPositive();
        assertThat(reports.get(ports[1]).outcome()).isEqualTo(DetectionReport.Outcome.NO_ROUTE);
        DetectionReport noMatch = reports.get(ports[2]);
        assertThat(noMatch.outcome()).isEqualTo(DetectionReport.Outcome.NO_MATCH);
        assertThat(noMatch.protocol()).isNull();
        assertThat(noMatch.verdict("pg").verdict()).isEqualTo(DetectionReport.Verdict.NO_MATCH);
    }
}
