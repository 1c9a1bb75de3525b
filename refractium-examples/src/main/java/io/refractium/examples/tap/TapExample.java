package io.refractium.examples.tap;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.util.concurrent.CountDownLatch;

/**
 * An asynchronous tap: the {@link ByteCountingTap} gets a read-only copy of every byte off the event loop and counts
 * it; Refractium sends HTTP to a hello server and everything else to an echo server.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium.jar io.refractium.examples.tap.TapExample}, then
 * {@code curl http://127.0.0.1:PORT/} and {@code printf 'hello\n' | nc 127.0.0.1 PORT}. Ctrl-C stops it.
 */
public final class TapExample {

    private TapExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args none
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        Refractium refractium = start(new ByteCountingTap(System.out::println),
                DemoBackends.hostAndPort(backends.httpHello("the http backend")),
                DemoBackends.hostAndPort(backends.echo()));
        int port = refractium.localAddress().getPort();
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress()));
        System.out.println("try:  curl http://127.0.0.1:" + port + "/");
        System.out.println("      printf 'hello\\n' | nc 127.0.0.1 " + port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    /**
     * Starts Refractium on a free loopback port with the tap.
     *
     * @param tap the tap
     * @param http the HTTP server's {@code host:port}
     * @param echo the echo server's {@code host:port}
     * @return the started instance
     */
    public static Refractium start(ByteCountingTap tap, String http, String echo) {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route("http", ForwardTarget.of("http", http))
                .fallback(ForwardTarget.of("echo", echo))
                .tap(tap)
                .build()
                .start();
    }
}
