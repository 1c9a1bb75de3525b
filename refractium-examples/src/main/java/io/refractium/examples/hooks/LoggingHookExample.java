package io.refractium.examples.hooks;

import io.refractium.Cidr;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Observes and filters connections with a {@link io.refractium.hook.Hook}: the {@link LoggingHook} writes one line
 * per closed connection (protocol, what the detector found, bytes each way, duration, why it ended) and refuses
 * clients from configured networks in {@code onAccepted}, before a single byte is read.
 *
 * <p>Refractium listens on a free loopback port, sends HTTP to a hello server and everything else to an echo server.
 * The networks to refuse are the arguments; by default {@code 127.0.0.2/32}, which a local client reaches by
 * choosing its source address.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium-examples.jar io.refractium.examples.hooks.LoggingHookExample
 * [CIDR...]}, then {@code curl http://127.0.0.1:PORT/} and {@code printf 'hello\n' | nc 127.0.0.1 PORT} (logged),
 * and {@code printf 'hello\n' | nc -s 127.0.0.2 127.0.0.1 PORT} (refused). Ctrl-C stops it.
 */
public final class LoggingHookExample {

    private LoggingHookExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args networks to refuse, such as {@code 10.0.0.0/8}; default {@code 127.0.0.2/32}
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        List<Cidr> refused = new ArrayList<>();
        for (String cidr : args.length == 0 ? new String[] {"127.0.0.2/32"} : args) {
            try {
                refused.add(Cidr.parse(cidr));
            } catch (IllegalArgumentException e) {
                System.err.println("LoggingHookExample: " + e.getMessage());
                System.exit(2);
            }
        }

        DemoBackends backends = new DemoBackends();
        Refractium refractium = Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .route("http", ForwardTarget.of("http",
                        DemoBackends.hostAndPort(backends.httpHello("the http backend"))))
                .fallback(ForwardTarget.of("echo", DemoBackends.hostAndPort(backends.echo())))
                .hook(new LoggingHook(System.out::println, refused))
                .build()
                .start();
        int port = refractium.localAddress().getPort();
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress())
                + ", refusing clients from " + refused);
        System.out.println("try:  curl http://127.0.0.1:" + port + "/");
        System.out.println("      printf 'hello\\n' | nc 127.0.0.1 " + port);
        System.out.println("      printf 'hello\\n' | nc -s 127.0.0.2 127.0.0.1 " + port + "   (refused)");

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            stopped.countDown();
        }));
        stopped.await();
    }
}
