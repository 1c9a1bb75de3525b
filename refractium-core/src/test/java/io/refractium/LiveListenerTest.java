package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Listeners added and removed on a running instance, without touching the others or open connections. */
@Timeout(30)
class LiveListenerTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        closeables.add(s);
        s.connect(address, 2000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        String greeting = TestServer.readLine(s.getInputStream());
        return greeting + "/" + TestServer.readLine(s.getInputStream());
    }

    @Test
    void aListenerAddedAndRemovedLiveLeavesTheOthersAndOpenConnectionsAlone() throws Exception {
        TestServer backend = TestServer.greeter("a");
        closeables.add(backend);
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.of("a", backend.hostAndPort()))
                .shutdownGracePeriod(Duration.ofSeconds(1))
                .build().start();
        closeables.add(r);
        InetSocketAddress first = r.localAddress();

        InetSocketAddress second = r.addListener(new InetSocketAddress("127.0.0.1", 0));
        assertThat(second.getPort()).isNotZero().isNotEqualTo(first.getPort());
        assertThat(r.localAddresses()).containsExactly(first, second);
        Socket viaSecond = connect(second);
        assertThat(roundTrip(viaSecond, "ALPHA 1")).isEqualTo("a/ALPHA 1");

        assertThat(r.removeListener(second)).isTrue();
        assertThat(r.removeListener(second)).isFalse();
        assertThat(r.localAddresses()).containsExactly(first);
        // The connection accepted by the removed listener carries on; the first listener still accepts.
        viaSecond.getOutputStream().write("ALPHA 2\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(TestServer.readLine(viaSecond.getInputStream())).isEqualTo("ALPHA 2");
        assertThat(roundTrip(connect(first), "ALPHA 3")).isEqualTo("a/ALPHA 3");
        assertThatThrownBy(() -> connect(second)).isInstanceOf(ConnectException.class);
    }

    @Test
    void addingABoundAddressOrBeforeStartFails() throws Exception {
        TestServer backend = TestServer.greeter("a");
        closeables.add(backend);
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.of("a", backend.hostAndPort()))
                .build();
        closeables.add(r);
        assertThatThrownBy(() -> r.addListener(new InetSocketAddress("127.0.0.1", 0)))
                .isInstanceOf(IllegalStateException.class);
        r.start();
        assertThatThrownBy(() -> r.addListener(r.localAddress()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(r.localAddress().toString());
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            InetSocketAddress busy = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            assertThatThrownBy(() -> r.addListener(busy)).isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessageContaining(String.valueOf(taken.getLocalPort()));
        }
        assertThat(r.localAddresses()).hasSize(1);
    }
}
