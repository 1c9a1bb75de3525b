package io.refractium.examples.rewrite;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * A data hook that changes bytes both ways: the {@link RewritingDataHook} turns {@code cat} into {@code dog} in what
 * clients send and {@code dog} into {@code bird} in what the backend sends back. Behind it is an echo server, so a
 * client that sends {@code cat} reads {@code bird}.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium.jar io.refractium.examples.rewrite.RewriteExample},
 * then {@code printf 'the cat sat\n' | nc 127.0.0.1 PORT} prints {@code the bird sat}. Ctrl-C stops it.
 */
public final class RewriteExample {

    private RewriteExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args none
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        DemoBackends backends = new DemoBackends();
        Refractium refractium = start(DemoBackends.hostAndPort(backends.echo()));
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress()));
        System.out.println("try:  printf 'the cat sat\\n' | nc 127.0.0.1 " + refractium.localAddress().getPort());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    /**
     * Starts Refractium on a free loopback port, sending everything to the given server through the rewriting hook.
     *
     * @param backend the backend's {@code host:port}
     * @return the started instance
     */
    public static Refractium start(String backend) {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .fallback(ForwardTarget.of("echo", backend))
                .dataHook(RewritingDataHook.factory(ascii("cat"), ascii("dog"), ascii("dog"), ascii("bird")))
                .build()
                .start();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
