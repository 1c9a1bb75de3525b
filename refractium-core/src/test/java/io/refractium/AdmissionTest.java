package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.Hook;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Admission limits end to end on loopback, with clients bound to different loopback addresses (127.0.0.2, 127.0.0.3,
 * ...): each limit refuses at once, counts the reason and tells the hooks; other clients are still admitted; the
 * counts return to zero when connections close. Admitted clients here stay in detection (they send nothing), which
 * keeps them open.
 */
@Timeout(60)
class AdmissionTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> refusedEvents = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private final Hook recorder = new Hook() {
        @Override
        public Admission onAccepted(ConnectionInfo connection) {
            accepted.incrementAndGet();
            return Admission.ACCEPT;
        }

        @Override
        public void onRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
            refusedEvents.add(client.getAddress().getHostAddress() + " " + refusal.reason() + " " + refusal.limit());
        }
    };

    private Refractium start(AdmissionLimits limits, boolean nativeTransport, int listeners) {
        TestServer backend = TestServer.greeter("alpha");
        closeables.add(backend);
        RefractiumBuilder b = Refractium.builder().limits(limits).nativeTransport(nativeTransport)
                .protocol(new PrefixProtocol("alpha", "HELLO"))
                .route("alpha", ForwardTarget.of("alpha", backend.hostAndPort()))
                .hook(recorder);
        for (int i = 0; i < listeners; i++) {
            b.listen("127.0.0.1", 0);
        }
        Refractium r = b.build().start();
        closeables.add(r);
        return r;
    }

    private Refractium start(AdmissionLimits limits) {
        return start(limits, true, 1);
    }

    private Socket connect(String from, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(to, 5000);
        return s;
    }

    /** Connects and waits until the proxy holds the connection in detection. */
    private Socket admitted(Refractium r, String from, InetSocketAddress to) throws IOException {
        int before = r.activeConnections();
        Socket s = connect(from, to);
        Await.until("connection from " + from + " admitted", () -> r.activeConnections() == before + 1);
        s.setSoTimeout(200);
        assertThatThrownBy(() -> s.getInputStream().read()).as("still open").isInstanceOf(SocketTimeoutException.class);
        return s;
    }

    /** Connects and expects the proxy to close the connection at once, for the given reason. */
    private void refused(Refractium r, String from, InetSocketAddress to, RefusalReason reason) throws IOException {
        long before = r.refusals().get(reason);
        int acceptedBefore = accepted.get();
        int eventsBefore = refusedEvents.size();
        Socket s = connect(from, to);
        s.setSoTimeout(5000);
        assertThat(s.getInputStream().read()).as("closed at once").isEqualTo(-1);
        Await.until(reason + " counted", () -> r.refusals().get(reason) == before + 1);
        Await.until(reason + " reported to the hook", () -> refusedEvents.size() == eventsBefore + 1);
        assertThat(accepted.get()).as("no hook saw it accepted").isEqualTo(acceptedBefore);
    }

    @Test
    void perIpCapRefusesTheExtraConnectionOfOneAddressOnly() throws Exception {
        Refractium r = start(AdmissionLimits.builder().maxConnectionsPerIp(2).build());
        InetSocketAddress to = r.localAddress();
        admitted(r, "127.0.0.2", to);
        admitted(r, "127.0.0.2", to);
        refused(r, "127.0.0.2", to, RefusalReason.MAX_CONNECTIONS_PER_IP);
        admitted(r, "127.0.0.3", to);
        Await.until("hook told", () -> !refusedEvents.isEmpty());
        assertThat(refusedEvents).containsExactly("127.0.0.2 MAX_CONNECTIONS_PER_IP maxConnectionsPerIp=2");
    }

    @Test
    void countsReturnToZeroAfterConnectionsClose() throws Exception {
        Refractium r = start(AdmissionLimits.builder().maxConnections(3).maxConnectionsPerIp(2).maxDetecting(3)
                .build());
        InetSocketAddress to = r.localAddress();
        for (int round = 0; round < 3; round++) {
            List<Socket> open = new ArrayList<>();
            open.add(admitted(r, "127.0.0.2", to));
            open.add(admitted(r, "127.0.0.2", to));
            refused(r, "127.0.0.2", to, RefusalReason.MAX_CONNECTIONS_PER_IP);
            open.add(admitted(r, "127.0.0.3", to));
            refused(r, "127.0.0.4", to, RefusalReason.MAX_DETECTING);
            for (Socket s : open) {
                s.close();
            }
            Await.until("all closed", () -> r.activeConnections() == 0);
        }
        assertThat(r.refusals().get(RefusalReason.MAX_CONNECTIONS_PER_IP)).isEqualTo(3);
        assertThat(r.refusals().get(RefusalReason.MAX_DETECTING)).isEqualTo(3);
    }

    @Test
    void globalCapRefusesEveryAddressOnceFull() throws Exception {
        Refractium r = start(AdmissionLimits.builder().maxConnections(2).build());
        InetSocketAddress to = r.localAddress();
        admitted(r, "127.0.0.2", to);
        admitted(r, "127.0.0.3", to);
        refused(r, "127.0.0.4", to, RefusalReason.MAX_CONNECTIONS);
        refused(r, "127.0.0.2", to, RefusalReason.MAX_CONNECTIONS);
        assertThat(refusedEvents).contains("127.0.0.4 MAX_CONNECTIONS maxConnections=2");
    }

    @Test
    void perListenerCapCountsEachListenAddressApart() throws Exception {
        Refractium r = start(AdmissionLimits.builder().maxConnectionsPerListener(1).build(), true, 2);
        InetSocketAddress a = r.localAddresses().get(0);
        InetSocketAddress b = r.localAddresses().get(1);
        admitted(r, "127.0.0.2", a);
        refused(r, "127.0.0.3", a, RefusalReason.MAX_CONNECTIONS_PER_LISTENER);
        admitted(r, "127.0.0.3", b);
        refused(r, "127.0.0.4", b, RefusalReason.MAX_CONNECTIONS_PER_LISTENER);
    }

    @Test
    void ratePerIpRefusesPastTheBurstEvenWhenEarlierConnectionsClosed() throws Exception {
        // One token per 100 s: only the burst of 2 is available during the test.
        Refractium r = start(AdmissionLimits.builder().ratePerIp(0.01, 2).build());
        InetSocketAddress to = r.localAddress();
        admitted(r, "127.0.0.2", to).close();
        Await.until("closed", () -> r.activeConnections() == 0);
        admitted(r, "127.0.0.2", to).close();
        Await.until("closed", () -> r.activeConnections() == 0);
        refused(r, "127.0.0.2", to, RefusalReason.RATE_PER_IP);
        admitted(r, "127.0.0.3", to);
        assertThat(refusedEvents).containsExactly("127.0.0.2 RATE_PER_IP ratePerIp=0.01/s,burst=2");
    }

    @Test
    void denyAndAllowLists() throws Exception {
        Refractium r = start(AdmissionLimits.builder().allow("127.0.0.0/29").deny("127.0.0.2/32").build());
        InetSocketAddress to = r.localAddress();
        refused(r, "127.0.0.2", to, RefusalReason.DENIED);
        admitted(r, "127.0.0.3", to);
        refused(r, "127.0.0.9", to, RefusalReason.NOT_ALLOWED);
        assertThat(refusedEvents).containsExactly("127.0.0.2 DENIED deny=127.0.0.2/32",
                "127.0.0.9 NOT_ALLOWED allow=[127.0.0.0/29]");
    }

    @Test
    void maxDetectingCountsOnlyConnectionsStillInDetection() throws Exception {
        Refractium r = start(AdmissionLimits.builder().maxDetecting(1).build());
        InetSocketAddress to = r.localAddress();
        Socket first = admitted(r, "127.0.0.2", to);
        refused(r, "127.0.0.3", to, RefusalReason.MAX_DETECTING);
        first.setSoTimeout(5000);
        first.getOutputStream().write("HELLO".getBytes(StandardCharsets.US_ASCII));
        InputStream in = first.getInputStream();
        assertThat(TestServer.readLine(in)).as("routed to the backend").isEqualTo("alpha");
        Socket second = admitted(r, "127.0.0.3", to);
        assertThat(first.isClosed()).isFalse();
        refused(r, "127.0.0.4", to, RefusalReason.MAX_DETECTING);
        second.close();
        Await.until("the slot is back after a close in detection", () -> r.activeConnections() == 1);
        admitted(r, "127.0.0.4", to);
    }

    @ParameterizedTest(name = "native transport {0}")
    @ValueSource(booleans = {true, false})
    void rejectWithRstResetsTheRefusedConnection(boolean nativeTransport) throws Exception {
        Refractium r = start(AdmissionLimits.builder().deny("127.0.0.2/32").rejectWithRst(true).build(),
                nativeTransport, 1);
        // The reset may come before the client's connect() returns, or on its first read.
        assertThatThrownBy(() -> {
            Socket s = connect("127.0.0.2", r.localAddress());
            s.setSoTimeout(5000);
            s.getInputStream().read();
        }).isInstanceOf(SocketException.class).hasMessageContaining("reset");
        assertThat(r.refusals().get(RefusalReason.DENIED)).isEqualTo(1);
        admitted(r, "127.0.0.3", r.localAddress());
    }

    @Test
    void withoutLimitsNothingIsRefused() throws Exception {
        Refractium r = start(AdmissionLimits.none());
        for (int i = 2; i < 6; i++) {
            admitted(r, "127.0.0." + i, r.localAddress());
        }
        assertThat(r.refusals().values()).containsOnly(0L);
        assertThat(r.refusals()).hasSize(RefusalReason.values().length);
    }
}
