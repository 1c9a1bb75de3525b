package io.refractium.examples.bytecount;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.util.concurrent.CountDownLatch;

/**
 * Per-connection hooks: a {@link ByteCountingHookFactory} gives every connection its own hook, which counts the
 * connection's bytes and writes one line when it closes.
 *
 * <p>Refractium listens on a free loopback port, sends HTTP to a hello server and everything else to an echo server.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium-examples.jar io.refractium.examples.bytecount.ByteCountExample},
 * then {@code curl http://127.0.0.1:PORT/} and {@code printf 'hello\n' | nc 127.0.0.1 PORT}. Ctrl-C stops it.
 */
public final class ByteCountExample {

    private ByteCountExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args none
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        ByteCountingHookFactory counting = new ByteCountingHookFactory(System.out::println);
        Refractium refractium = start(counting, DemoBackends.hostAndPort(backends.httpHello("the http backend")),
                DemoBackends.hostAndPort(backends.echo()));
        int port = refractium.localAddress().getPort();
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress()));
        System.out.println("try:  curl http://127.0.0.1:" + port + "/");
        System.out.println("      printf 'hello\\n' | nc 127.0.0.1 " + port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            System.out.println("http total: " + counting.totalBytes("http") + " B");
            stopped.countDown();
        }));
        stopped.await();
    }

    /**
     * Starts Refractium on a free loopback port with the counting hooks.
     *
     * @param counting the hook factory
     * @param http the HTTP server's {@code host:port}
     * @param echo the echo server's {@code host:port}
     * @return the started instance
     */
    static Refractium start(ByteCountingHookFactory counting, String http, String echo) {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route("http", ForwardTarget.of("http", http))
                .fallback(ForwardTarget.of("echo", echo))
                .hookFactory(counting)
                .build()
                .start();
    }
}
