package io.refractium.examples.tap;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ByteCountingTapTest {

    @Test
    void theTapCountsEveryByteBothWaysAndReportsTheEnd() throws Exception {
        Queue<String> lines = new ConcurrentLinkedQueue<>();
        ByteCountingTap tap = new ByteCountingTap(lines::add);
        DemoBackends backends = new DemoBackends();
        try (backends; Refractium r = TapExample.start(tap, DemoBackends.hostAndPort(backends.httpHello("h")),
                DemoBackends.hostAndPort(backends.echo()))) {
            byte[] sent = "hello, tap\n".repeat(1000).getBytes(StandardCharsets.US_ASCII);
            try (Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                c.getOutputStream().write(sent);
                assertThat(c.getInputStream().readNBytes(sent.length)).isEqualTo(sent);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (lines.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(lines).hasSize(1);
            assertThat(lines.peek()).contains("tapped " + sent.length + " bytes up, " + sent.length + " bytes down")
                    .doesNotContain("missed");
            assertThat(tap.openConnections()).isZero();
        }
    }
}
