package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * After the client's FIN, the backend's answer comes in bursts larger than the socket buffers on the way and the
 * client reads slowly, so the proxy's writes to the half-closed client socket stall, drain completely, and stall again
 * at every burst. Every byte must still arrive, in order, on the epoll copy and splice paths.
 *
 * <p>Regression test for a Netty 4.2 epoll bug (worked around by {@code EpollInterestKeeper}): once the half-closed
 * socket's interest set became empty (no EPOLLRDHUP, no EPOLLIN after the FIN, EPOLLOUT cleared when a stalled write
 * drained), Netty removed it from the epoll set but went on issuing {@code EPOLL_CTL_MOD}; the next stall failed with
 * {@code ENOENT}, Netty shut the output down and the rest of the answer (here some 28 of the 32 MiB) was lost. Without
 * the workaround this failed on every run, in well under a second.
 */
@Timeout(60)
@EnabledOnOs(OS.LINUX)
class HalfClosedWriteStallTest {

    private static final int BURST = 8 * 1024 * 1024;
    private static final int BURSTS = 4;

    @ParameterizedTest(name = "splice={0}")
    @ValueSource(booleans = {false, true})
    void writesThatStallAgainAndAgainAfterTheClientFinLoseNothing(boolean splice) throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        CountDownLatch clientFin = new CountDownLatch(1);
        try (TestServer backend = TestServer.start(s -> {
            InputStream in = s.getInputStream();
            in.readAllBytes(); // the header, then the client's FIN
            clientFin.countDown();
            OutputStream out = s.getOutputStream();
            Random random = new Random(7);
            byte[] chunk = new byte[BURST];
            for (int i = 0; i < BURSTS; i++) {
                random.nextBytes(chunk);
                out.write(chunk);
                out.flush();
                sleep(150); // the proxy's queue for the client empties (EPOLLOUT cleared) before the next burst
            }
            s.shutdownOutput();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).nativeTransport(true).splice(splice)
                    .protocol(new PrefixProtocol("stall", "STALL\n"))
                    .route("stall", ForwardTarget.of("b", backend.hostAndPort()))
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.setReceiveBufferSize(32 * 1024); // the proxy's writes to the client stall early
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(20_000);
                c.getOutputStream().write("STALL\n".getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                assertThat(clientFin.await(10, TimeUnit.SECONDS)).isTrue();
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                InputStream in = c.getInputStream();
                byte[] buf = new byte[16 * 1024];
                long total = 0;
                int n;
                while ((n = in.read(buf)) >= 0) {
                    md.update(buf, 0, n);
                    total += n;
                    if ((total / buf.length) % 16 == 0) {
                        Thread.sleep(5); // a slow reader: the proxy's writes stall, then resume
                    }
                }
                assertThat(total).isEqualTo((long) BURST * BURSTS);
                assertThat(HexFormat.of().formatHex(md.digest())).isEqualTo(expected());
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String expected() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random random = new Random(7);
        byte[] chunk = new byte[BURST];
        for (int i = 0; i < BURSTS; i++) {
            random.nextBytes(chunk);
            md.update(chunk);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
