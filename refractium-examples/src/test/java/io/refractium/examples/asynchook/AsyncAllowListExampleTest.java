package io.refractium.examples.asynchook;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class AsyncAllowListExampleTest {

    private final ScheduledExecutorService lookups = Executors.newSingleThreadScheduledExecutor();
    private final DemoBackends backends = new DemoBackends();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        backends.close();
        lookups.shutdownNow();
    }

    @Test
    void anAllowedClientIsForwardedOnceTheLookupAnswers() throws Exception {
        Refractium r = start(Set.of(InetAddress.getByName("127.0.0.1")));
        Socket s = connect(r);
        s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(s.getInputStream().readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo("hello\n");
    }

    @Test
    void aClientNotOnTheListIsClosedWithoutAnEcho() throws Exception {
        Refractium r = start(Set.of(InetAddress.getByName("192.0.2.1")));
        Socket s = connect(r);
        s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        assertThat(in.read()).isEqualTo(-1);
    }

    private Refractium start(Set<InetAddress> allowed) {
        Refractium r = AsyncAllowListExample.start(allowed, lookups, DemoBackends.hostAndPort(backends.echo()));
        closeables.add(r);
        return r;
    }

    private Socket connect(Refractium r) throws IOException {
        Socket s = new Socket();
        s.connect(r.localAddress(), 2000);
        s.setSoTimeout(15_000);
        closeables.add(s);
        return s;
    }
}
