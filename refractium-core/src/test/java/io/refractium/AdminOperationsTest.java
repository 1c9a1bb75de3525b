package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestDnsServer;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operators' side on real loopback sockets: drain, disable and enable a backend; snapshots of the open
 * connections; closeAsync and awaitClose.
 */
@Timeout(60)
class AdminOperationsTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<ConnectionSummary> closed = new LinkedBlockingQueue<>();

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
                .protocol(new PrefixProtocol("alpha", "ALPHA", 0, true))
                .route("alpha", target)
                .connectTimeout(Duration.ofSeconds(2))
                .shutdownGracePeriod(Duration.ZERO)
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.add(s);
                    }
                })
                .build().start());
    }

    /** A client connection through the proxy, held open; its first line is the backend's name. */
    private final class Client implements AutoCloseable {
        final Socket socket;
        final String backend;

        Client(Refractium r) throws IOException {
            socket = keep(new Socket());
            socket.connect(r.localAddress(), 2000);
            socket.setSoTimeout(5000);
            send("ALPHAname.test\n");
            backend = TestServer.readLine(socket.getInputStream());
            assertThat(backend).as("greeting").isNotNull();
            assertThat(TestServer.readLine(socket.getInputStream())).isEqualTo("ALPHAname.test");
        }

        void send(String s) throws IOException {
            socket.getOutputStream().write(s.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
        }

        String echo(String line) throws IOException {
            send(line + "\n");
            return TestServer.readLine(socket.getInputStream());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void aDrainedBackendGetsNoNewConnectionWhileItsOpenOnesFinish() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        Refractium r = start(ForwardTarget.of("ab", a.hostAndPort(), b.hostAndPort()));
        List<Client> onA = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Client c = new Client(r);
            if (c.backend.equals("a")) {
                onA.add(c);
            }
        }
        assertThat(onA).hasSize(3); // round robin over two backends
        int acceptedByA = a.accepted();

        TargetStatus status = r.drain("ab", a.hostAndPort());

        BackendStatus drained = status.backend(a.hostAndPort());
        assertThat(drained.admin()).isEqualTo(BackendStatus.Admin.DRAINING);
        assertThat(drained.activeConnections()).isEqualTo(3);
        assertThat(drained.isDrained()).isFalse();
        assertThat(drained.takesNewConnections()).isFalse();
        assertThat(drained.isUp()).isTrue();
        for (int i = 0; i < 10; i++) {
            try (Client c = new Client(r)) {
                assertThat(c.backend).isEqualTo("b");
            }
        }
        assertThat(a.accepted()).isEqualTo(acceptedByA);
        // The open ones go on, both ways.
        for (Client c : onA) {
            assertThat(c.echo("still here")).isEqualTo("still here");
        }
        assertThat(closed).noneMatch(s -> s.reason() != CloseReason.COMPLETED);
        for (Client c : onA) {
            c.close();
        }
        Await.until("a drained", () -> r.target("ab").backend(a.hostAndPort()).isDrained());

        TargetStatus enabled = r.enable("ab", a.hostAndPort());
        assertThat(enabled.backend(a.hostAndPort()).admin()).isEqualTo(BackendStatus.Admin.ENABLED);
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            try (Client c = new Client(r)) {
                seen.add(c.backend);
            }
        }
        assertThat(seen).contains("a", "b");
    }

    @Test
    void aDrainedBackendStaysDrainedAcrossARoutingTableSwapThatKeepsIt() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        Refractium r = start(ForwardTarget.of("ab", a.hostAndPort(), b.hostAndPort()));
        r.drain("ab", a.hostAndPort());

        ForwardTarget changed = r.routes().targets().get("ab").toBuilder().maxAttempts(1).build();
        r.updateRoutes(RoutingTable.builder().route("alpha", changed).build());

        assertThat(r.target("ab").backend(a.hostAndPort()).admin()).isEqualTo(BackendStatus.Admin.DRAINING);
        for (int i = 0; i < 6; i++) {
            try (Client c = new Client(r)) {
                assertThat(c.backend).isEqualTo("b");
            }
        }
    }

    @Test
    void disablingABackendClosesItsOpenConnectionsAndSendsNewOnesElsewhere() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        TestServer b = keep(TestServer.greeter("b"));
        Refractium r = start(ForwardTarget.of("ab", a.hostAndPort(), b.hostAndPort()));
        Client first = new Client(r);
        Client second = new Client(r);
        Client onA = first.backend.equals("a") ? first : second;
        Client onB = onA == first ? second : first;
        assertThat(onA.backend).isEqualTo("a");

        r.disable("ab", a.hostAndPort());

        onA.socket.setSoTimeout(5000);
        assertThat(readToEnd(onA)).isTrue();
        ConnectionSummary s = closed.poll(5, TimeUnit.SECONDS);
        assertThat(s).isNotNull();
        assertThat(s.reason()).isEqualTo(CloseReason.BACKEND_DISABLED);
        assertThat(onB.echo("b lives")).isEqualTo("b lives");
        assertThat(r.target("ab").backend(a.hostAndPort()).admin()).isEqualTo(BackendStatus.Admin.DISABLED);
        for (int i = 0; i < 4; i++) {
            try (Client c = new Client(r)) {
                assertThat(c.backend).isEqualTo("b");
            }
        }
        Await.until("a has no connection", () -> r.target("ab").backend(a.hostAndPort()).activeConnections() == 0);
    }

    /** Reads until the proxy closes the connection; returns false on a timeout. */
    private static boolean readToEnd(Client c) throws IOException {
        try {
            byte[] buf = new byte[256];
            while (c.socket.getInputStream().read(buf) >= 0) {
                // discard
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void unknownTargetsAndBackendsAreNamedInTheError() {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = start(ForwardTarget.of("only", a.hostAndPort()));
        assertThatThrownBy(() -> r.drain("nope", a.hostAndPort()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("target: \"nope\"").hasMessageContaining("[only]");
        assertThatThrownBy(() -> r.disable("only", "127.0.0.1:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend: \"127.0.0.1:1\"").hasMessageContaining(a.hostAndPort());
        assertThatThrownBy(() -> r.enable("only", "not a backend"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a backend");
        assertThat(r.target("only").backend(a.hostAndPort()).admin()).isEqualTo(BackendStatus.Admin.ENABLED);
    }

    @Test
    void openConnectionsAreListedAsImmutableSnapshots() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = start(ForwardTarget.of("solo", a.hostAndPort()));
        assertThat(r.connections()).isEmpty();

        Client c = new Client(r);
        List<ConnectionSnapshot> list = r.connections();

        assertThat(list).hasSize(1);
        ConnectionSnapshot s = list.get(0);
        assertThat(s.client()).isEqualTo(c.socket.getLocalSocketAddress());
        assertThat(s.listener()).isEqualTo(r.localAddress());
        assertThat(s.protocol()).isEqualTo("alpha");
        assertThat(s.attributes().get(io.refractium.spi.AttributeKey.SNI)).isEqualTo("name.test");
        assertThat(s.target()).isEqualTo("solo");
        assertThat(s.backend()).isEqualTo(a.address());
        assertThat(s.backendConnected()).isTrue();
        assertThat(s.bytesFromClient()).isEqualTo("ALPHAname.test\n".length());
        Await.until("echo counted", () -> r.connections().get(0).bytesToClient() == "a\nALPHAname.test\n".length());
        assertThat(s.age()).isPositive();
        assertThatThrownBy(() -> list.add(s)).isInstanceOf(UnsupportedOperationException.class);

        c.echo("more");
        ConnectionSnapshot later = r.connectionsAsync().get(5, TimeUnit.SECONDS).get(0);
        assertThat(later.id()).isEqualTo(s.id());
        assertThat(later.bytesFromClient()).isEqualTo(s.bytesFromClient() + 5);
        assertThat(s.bytesFromClient()).as("the first snapshot did not change").isEqualTo(15);

        c.close();
        Await.until("no connection listed", () -> r.connections().isEmpty());
    }

    @Test
    void closeAsyncClosesWithoutBlockingAndAwaitCloseWaitsForIt() throws Exception {
        TestServer a = keep(TestServer.greeter("a"));
        Refractium r = start(ForwardTarget.of("solo", a.hostAndPort()));
        assertThat(r.awaitClose(Duration.ofMillis(20))).isFalse();
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                r.awaitClose();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        CompletableFuture<Void> closing = r.closeAsync();

        closing.get(10, TimeUnit.SECONDS);
        waiter.get(10, TimeUnit.SECONDS);
        assertThat(r.isRunning()).isFalse();
        assertThat(r.awaitClose(Duration.ZERO)).isTrue();
        assertThat(r.closeAsync()).isCompleted();
        r.close(); // still idempotent
    }

    @Test
    void awaitCloseReturnsForAnInstanceClosedBeforeItStarted() throws Exception {
        Refractium r = Refractium.builder().listen("127.0.0.1", 0).build();
        r.close();
        assertThat(r.awaitClose(Duration.ofSeconds(5))).isTrue();
        assertThat(r.closeAsync()).isCompleted();
    }

    @Test
    void drainingANamedBackendCoversItsAddressesNowAndLaterAndOneAddressCanBeDrainedAlone() throws Exception {
        String name = "drained.refractium.test";
        TestDnsServer dns = keep(new TestDnsServer());
        int port = -1;
        for (int i = 0; i < 20 && port < 0; i++) {
            TestServer two = keep(TestServer.greeter(new InetSocketAddress("127.0.0.2", 0), "two"));
            try {
                keep(TestServer.greeter(new InetSocketAddress("127.0.0.3", two.port()), "three"));
                port = two.port();
            } catch (java.io.UncheckedIOException taken) {
                two.close();
            }
        }
        assertThat(port).as("a port free on 127.0.0.2 and 127.0.0.3").isPositive();
        TestServer b = keep(TestServer.greeter("b"));
        dns.answer(name, 1, "127.0.0.2");
        Refractium r = keep(Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA", 0, true))
                .route("alpha", ForwardTarget.builder("named").backend(name, port).backend(b.hostAndPort()).build())
                .dnsServers(List.of(dns.address()))
                .shutdownGracePeriod(Duration.ZERO)
                .build().start());
        int p = port;
        Await.until("resolved", () -> r.target("named").backend("127.0.0.2:" + p) != null);

        r.drain("named", name + ":" + port);
        dns.answer(name, 1, "127.0.0.2", "127.0.0.3");
        Await.until("the new address", () -> r.target("named").backend("127.0.0.3:" + p) != null,
                Duration.ofSeconds(10));

        assertThat(r.target("named").backend("127.0.0.3:" + p).admin()).isEqualTo(BackendStatus.Admin.DRAINING);
        for (int i = 0; i < 6; i++) {
            try (Client c = new Client(r)) {
                assertThat(c.backend).isEqualTo("b");
            }
        }

        r.enable("named", name + ":" + port);
        r.drain("named", "127.0.0.2:" + port);
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            try (Client c = new Client(r)) {
                seen.add(c.backend);
            }
        }
        assertThat(seen).contains("three", "b").doesNotContain("two");
    }
}
