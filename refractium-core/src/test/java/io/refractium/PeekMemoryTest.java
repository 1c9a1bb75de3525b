package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.Hook;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The memory held by connections in detection is bounded by {@code maxPeekMemoryBytes}: over it new connections are
 * closed at once, and the count returns to zero when connections move on.
 */
@Timeout(60)
class PeekMemoryTest {

    @Test
    void overTheLimitNewConnectionsAreClosedAtOnceAndUnderItTheyAreAcceptedAgain() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .maxPeekMemoryBytes(64 * 1024)
                .protocol(new PrefixProtocol("slow", "S" + "x".repeat(20_000)))
                .hook(new Hook() {
                    @Override
                    public Admission onAccepted(ConnectionInfo c) {
                        accepted.incrementAndGet();
                        return Admission.ACCEPT;
                    }
                })
                .build().start();
        List<Socket> holders = new ArrayList<>();
        try (r) {
            byte[] chunk = new byte[8 * 1024];
            Arrays.fill(chunk, (byte) 'x');
            chunk[0] = 'S';
            // Each holder keeps 8 KiB in detection (the detector waits for 20 000 bytes): 8 of them fill 64 KiB.
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket(r.localAddress().getAddress(), r.localAddress().getPort());
                holders.add(s);
                s.getOutputStream().write(chunk);
                int n = i + 1;
                Await.until("connection " + n + " holds its bytes", () -> r.peekMemoryBytes() >= n * 8192L);
            }
            assertThat(r.peekMemoryBytes()).isGreaterThanOrEqualTo(64 * 1024);
            int acceptedBefore = accepted.get();
            try (Socket refused = new Socket(r.localAddress().getAddress(), r.localAddress().getPort())) {
                refused.setSoTimeout(5000);
                assertThat(refused.getInputStream().read()).as("closed at once").isEqualTo(-1);
            }
            assertThat(accepted.get()).as("refused before any hook").isEqualTo(acceptedBefore);

            for (Socket s : holders) {
                s.close();
            }
            Await.until("peek memory back to zero", () -> r.peekMemoryBytes() == 0 && r.activeConnections() == 0);
            try (Socket again = new Socket(r.localAddress().getAddress(), r.localAddress().getPort())) {
                again.setSoTimeout(300);
                InputStream in = again.getInputStream();
                again.getOutputStream().write('S');
                // Still open, waiting in detection: the read times out instead of seeing the end of the stream.
                assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
            }
        } finally {
            for (Socket s : holders) {
                s.close();
            }
        }
    }
}
