package io.refractium.examples.asynchook;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.examples.backends.DemoBackends;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * An asynchronous admission check: the {@link AllowListHook} asks a (simulated, 100 ms) allow-list service about
 * each client and Refractium waits for the answer without blocking its event loop. Refused clients are closed
 * before any byte is forwarded, and the close line says why.
 *
 * <p>Refractium listens on a free loopback port and sends everything to an echo server. The allowed addresses are
 * the arguments; by default {@code 127.0.0.1}, so a client from {@code 127.0.0.2} is refused.
 *
 * <p>Run: {@code java -cp refractium-examples/target/refractium-examples.jar
 * io.refractium.examples.asynchook.AsyncAllowListExample [ADDRESS...]}, then
 * {@code printf 'hello\n' | nc 127.0.0.1 PORT} (echoed) and {@code printf 'hello\n' | nc -s 127.0.0.2 127.0.0.1 PORT}
 * (refused). Ctrl-C stops it.
 */
public final class AsyncAllowListExample {

    private AsyncAllowListExample() {
    }

    /**
     * Runs the example until Ctrl-C.
     *
     * @param args the client addresses to admit; default {@code 127.0.0.1}
     * @throws InterruptedException if interrupted while running
     * @throws UnknownHostException if an argument is not an address
     */
    public static void main(String[] args) throws InterruptedException, UnknownHostException {
        Set<InetAddress> allowed = new HashSet<>();
        for (String a : args.length == 0 ? new String[] {"127.0.0.1"} : args) {
            allowed.add(InetAddress.getByName(a));
        }
        ScheduledExecutorService lookups = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "allow-list-lookup");
            t.setDaemon(true);
            return t;
        });
        DemoBackends backends = new DemoBackends();
        Refractium refractium = start(allowed, lookups, DemoBackends.hostAndPort(backends.echo()));
        int port = refractium.localAddress().getPort();
        System.out.println("listening on " + DemoBackends.hostAndPort(refractium.localAddress())
                + ", admitting " + allowed);
        System.out.println("try:  printf 'hello\\n' | nc 127.0.0.1 " + port);
        System.out.println("      printf 'hello\\n' | nc -s 127.0.0.2 127.0.0.1 " + port + "   (refused)");

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            refractium.close();
            backends.close();
            lookups.shutdownNow();
            stopped.countDown();
        }));
        stopped.await();
    }

    /**
     * Starts Refractium on a free loopback port with the allow-list hook, sending everything to the echo server.
     *
     * @param allowed the client addresses to admit
     * @param lookups the executor the lookups complete on
     * @param echo the echo server's {@code host:port}
     * @return the started instance
     */
    static Refractium start(Set<InetAddress> allowed, ScheduledExecutorService lookups, String echo) {
        return Refractium.builder()
                .listen("127.0.0.1", 0)
                .discoverProtocols()
                .fallback(ForwardTarget.of("echo", echo))
                .hookDecisionTimeout(Duration.ofSeconds(2))
                .hook(new AllowListHook(allowed, lookups, Duration.ofMillis(100), System.out::println))
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        System.out.println("#" + c.id() + " closed: " + s.reason()
                                + (s.detail() != null ? " (" + s.detail() + ")" : ""));
                    }
                })
                .build()
                .start();
    }
}
