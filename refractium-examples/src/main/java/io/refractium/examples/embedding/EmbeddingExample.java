package io.refractium.examples.embedding;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.RoutingTable;
import io.refractium.examples.backends.DemoBackends;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Embeds Refractium in an application: configure it with the builder, start it, read the port it bound, and swap
 * its routes while it runs.
 *
 * <p>The application owns two HTTP backends ({@code v1} and {@code v2}) and an echo server. Refractium listens on a
 * free loopback port, sends HTTP to {@code v1} and everything else to the echo server. Every 10 seconds the
 * application builds a new {@link RoutingTable} that points HTTP at the other version and installs it with
 * {@link Refractium#updateRoutes(RoutingTable)}: the swap is atomic, new connections use the new table, and
 * connections already open keep the backend they started with (a keep-alive {@code curl} session stays on its
 * version).
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium-examples.jar
 * io.refractium.examples.embedding.EmbeddingExample}, then
 * {@code while sleep 1; do curl -s http://127.0.0.1:PORT/; done} to watch the answers switch between
 * {@code hello from v1} and {@code hello from v2}. Ctrl-C stops it.
 */
public final class EmbeddingExample {

    private static final Duration SWAP_EVERY = Duration.ofSeconds(10);

    private EmbeddingExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        ForwardTarget v1 = ForwardTarget.of("web-v1", DemoBackends.hostAndPort(backends.httpHello("v1")));
        ForwardTarget v2 = ForwardTarget.of("web-v2", DemoBackends.hostAndPort(backends.httpHello("v2")));
        ForwardTarget echo = ForwardTarget.of("echo", DemoBackends.hostAndPort(backends.echo()));

        Refractium refractium = Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route("http", v1)
                .fallback(echo)
                .connectTimeout(Duration.ofSeconds(2))
                .idleTimeout(Duration.ofMinutes(1))
                .shutdownGracePeriod(Duration.ofSeconds(5))
                .build()
                .start();
        int port = refractium.localAddress().getPort();
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress()) + "; http -> "
                + v1.name() + ", anything else -> " + echo.name());
        System.out.println("try:  while sleep 1; do curl -s http://127.0.0.1:" + port + "/; done");

        AtomicReference<ForwardTarget> current = new AtomicReference<>(v1);
        ScheduledExecutorService swapper = Executors.newSingleThreadScheduledExecutor();
        swapper.scheduleAtFixedRate(() -> {
            ForwardTarget next = current.get() == v1 ? v2 : v1;
            RoutingTable table = RoutingTable.builder()
                    .route("http", next)
                    .fallback(echo)
                    .build();
            refractium.updateRoutes(table);
            current.set(next);
            System.out.println("routes swapped: http -> " + next.name() + " (open connections stay where they are)");
        }, SWAP_EVERY.toMillis(), SWAP_EVERY.toMillis(), TimeUnit.MILLISECONDS);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            swapper.shutdownNow();
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }
}
