package io.refractium.examples.bytecount;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ByteCountingHookFactoryTest {

    private final DemoBackends backends = new DemoBackends();
    private Refractium refractium;

    @AfterEach
    void closeAll() {
        if (refractium != null) {
            refractium.close();
        }
        backends.close();
    }

    @Test
    void eachConnectionGetsItsOwnCounterAndOneLine() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        ByteCountingHookFactory counting = new ByteCountingHookFactory(lines::add);
        refractium = ByteCountExample.start(counting, DemoBackends.hostAndPort(backends.httpHello("hello")),
                DemoBackends.hostAndPort(backends.echo()));
        String request = "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
        long[] answered = new long[2];
        for (int i = 0; i < 2; i++) {
            try (Socket s = new Socket()) {
                s.connect(refractium.localAddress(), 2000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                answered[i] = s.getInputStream().readAllBytes().length;
            }
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (lines.size() < 2 && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isNotEqualTo(lines.get(1)); // two connections, two ids
        for (int i = 0; i < 2; i++) {
            assertThat(lines.get(i)).matches("#\\d+ http: \\d+ B peeked, " + request.length()
                    + " B in, " + answered[i] + " B out, COMPLETED");
        }
        assertThat(counting.totalBytes("http")).isEqualTo(2L * request.length() + answered[0] + answered[1]);
        assertThat(counting.totalBytes("none")).isZero();
    }
}
