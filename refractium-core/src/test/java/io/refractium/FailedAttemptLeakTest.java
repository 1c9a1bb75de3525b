package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.epoll.Epoll;
import io.netty.util.internal.PlatformDependent;
import io.refractium.testing.Await;
import io.refractium.testing.OpenFiles;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * A failed connect attempt followed by a retry leaks nothing on epoll (where a socket whose connect was refused
 * stays open until closed): after many connections whose first attempt is refused, the process has as many file
 * descriptors as before, and every backend's and the target's connection counts are back to zero.
 *
 * <p>The figure of the report (fd count and direct memory after 10 000 such connections) comes from this test with
 * more connections: {@code mvn -o -B -pl refractium-core test -Dtest=FailedAttemptLeakTest
 * -Drefractium.failedAttempts.connections=10000}; it prints one line starting with {@code failed-attempts:}
 * to the test's output ({@code refractium-core/target/surefire-reports/io.refractium.FailedAttemptLeakTest-output.txt}).
 */
@Timeout(300)
@EnabledOnOs(OS.LINUX)
class FailedAttemptLeakTest {

    private static final int CONNECTIONS = Integer.getInteger("refractium.failedAttempts.connections", 600);
    private static final int CLIENT_THREADS = 4;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void refusedFirstAttemptsLeaveNoDescriptorAndNoCount() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        TestServer live = TestServer.greeter("live");
        closeables.add(live);
        String refusing = "127.0.0.1:" + TestServer.deadPort();
        // The refusing backend is the only primary, the live one a backup: every connection's first attempt is
        // refused, the retry goes to the backup. Passive ejection is off so the refusing backend stays eligible.
        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA"))
                .route("alpha", ForwardTarget.builder("pair")
                        .backend(refusing)
                        .backend(Backend.parse(live.hostAndPort()).withBackup(true))
                        .ejectAfter(0).build())
                .workerThreads(2)
                .shutdownGracePeriod(Duration.ZERO)
                .build().start();
        closeables.add(r);

        run(r, 40);
        awaitIdle(r);
        int fdBefore = OpenFiles.count();
        long directBefore = PlatformDependent.usedDirectMemory();
        long pooledBefore = allocatorDirectMemory();
        long failuresBefore = r.target("pair").backend(refusing).connectFailures();

        run(r, CONNECTIONS);
        awaitIdle(r);
        Await.until("file descriptors back to " + fdBefore + " (now " + OpenFiles.count() + ")",
                () -> OpenFiles.count() <= fdBefore, Duration.ofSeconds(10));
        int fdAfter = OpenFiles.count();
        long directAfter = PlatformDependent.usedDirectMemory();
        long pooledAfter = allocatorDirectMemory();
        System.out.printf("failed-attempts: %d connections, each with a refused first attempt (epoll): fds %d -> %d,"
                        + " Netty direct memory %d -> %d bytes, default allocator direct memory %d -> %d bytes%n",
                CONNECTIONS, fdBefore, fdAfter, directBefore, directAfter, pooledBefore, pooledAfter);

        TargetStatus pair = r.target("pair");
        assertThat(pair.backend(refusing).connectFailures() - failuresBefore)
                .as("every connection's first attempt was refused").isEqualTo(CONNECTIONS);
        assertThat(pair.backends()).allSatisfy(b -> assertThat(b.activeConnections()).isZero());
        assertThat(r.activeConnections()).isZero();
    }

    /** Opens {@code n} connections through the proxy over a few threads; each must reach the live backend. */
    private static void run(Refractium r, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENT_THREADS);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < CLIENT_THREADS; t++) {
                int share = n / CLIENT_THREADS + (t < n % CLIENT_THREADS ? 1 : 0);
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < share; i++) {
                        assertThat(ask(r)).isEqualTo("live");
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(240, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String ask(Refractium r) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(r.localAddress(), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
            return TestServer.readLine(s.getInputStream());
        }
    }

    private static void awaitIdle(Refractium r) {
        Await.until("no open connection and no backend slot held", () -> r.activeConnections() == 0
                && r.target("pair").backends().stream().allMatch(b -> b.activeConnections() == 0), Duration.ofSeconds(10));
    }

    private static long allocatorDirectMemory() {
        return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p ? p.metric().usedDirectMemory() : -1;
    }

}
