package io.refractium.examples.launcher;

import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.Refractium;
import io.refractium.Route;
import io.refractium.examples.demo.Demo;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The standalone multiplexer: {@code java -jar refractium.jar [OPTIONS]}.
 *
 * <p>Without arguments it runs the {@linkplain Demo demo}. With arguments it parses them with
 * {@link LauncherOptions} (see {@link LauncherOptions#usage()}), builds and starts a {@link Refractium} with the
 * protocols found by {@code discoverProtocols()}, prints the bound addresses and the routes, and runs until the JVM
 * is asked to stop (SIGTERM, SIGINT/Ctrl-C): a shutdown hook then calls {@link Refractium#close()}, which stops
 * accepting and drains open connections for the grace period.
 *
 * <p>Exit status: 0 after {@code --help} or a clean stop, 2 for a bad command line (the message names the argument,
 * the value and what was expected), 1 when a listen address cannot be bound.
 */
public final class Main {

    /** Exit status for a bad command line. */
    static final int EXIT_USAGE = 2;
    /** Exit status when the listeners cannot be bound. */
    static final int EXIT_BIND = 1;

    private Main() {
    }

    /**
     * Runs the launcher, or the demo when there are no arguments.
     *
     * @param args the command line; see {@link LauncherOptions#usage()}
     * @throws Exception when the demo cannot start its backends
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            Demo.main(args);
            return;
        }
        int status = run(List.of(args), System.out, System.err, Main::runUntilShutdown);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Parses, builds and starts, hands the running instance to {@code runner}, and returns the exit status.
     *
     * @param args the command line
     * @param out where help and the startup report go
     * @param err where errors go
     * @param runner runs the started instance until it should stop; it owns closing it
     * @return the exit status: 0, {@link #EXIT_USAGE} or {@link #EXIT_BIND}
     */
    static int run(List<String> args, PrintStream out, PrintStream err, Consumer<Refractium> runner) {
        LauncherOptions options;
        try {
            options = LauncherOptions.parse(args);
        } catch (UsageException e) {
            return usageError(err, e.getMessage());
        }
        if (options.isHelp()) {
            out.print(LauncherOptions.usage());
            out.flush();
            return 0;
        }
        Refractium refractium;
        try {
            refractium = options.toBuilder().build();
        } catch (IllegalArgumentException e) {
            return usageError(err, e.getMessage());
        }
        try {
            refractium.start();
        } catch (UncheckedIOException e) {
            err.println("refractium: " + e.getMessage());
            return EXIT_BIND;
        }
        report(out, refractium);
        runner.accept(refractium);
        return 0;
    }

    private static int usageError(PrintStream err, String message) {
        err.println("refractium: " + message);
        err.println(LauncherOptions.USAGE_HINT);
        err.flush();
        return EXIT_USAGE;
    }

    private static void report(PrintStream out, Refractium refractium) {
        StringBuilder addresses = new StringBuilder();
        for (InetSocketAddress a : refractium.localAddresses()) {
            String host = a.getAddress().getHostAddress();
            addresses.append(addresses.length() == 0 ? "" : ", ")
                    .append(host.indexOf(':') >= 0 ? "[" + host + "]" : host).append(':').append(a.getPort());
        }
        StringBuilder udp = new StringBuilder();
        for (InetSocketAddress a : refractium.udpLocalAddresses()) {
            String host = a.getAddress().getHostAddress();
            udp.append(udp.length() == 0 ? "" : ", ")
                    .append(host.indexOf(':') >= 0 ? "[" + host + "]" : host).append(':').append(a.getPort());
        }
        out.println("refractium listening on " + addresses + (udp.length() == 0 ? ""
                : (addresses.length() == 0 ? "udp " : " and udp ") + udp));
        out.println("protocols: " + refractium.protocols());
        for (Route r : refractium.routes().routes()) {
            out.println("  route " + r.describe() + " -> " + describe(r.target()));
        }
        ForwardTarget silence = refractium.routes().silenceTarget();
        if (silence != null) {
            out.println("  silent clients -> " + describe(silence));
        }
        for (io.refractium.SilenceRoute s : refractium.routes().listenerSilenceRoutes()) {
            out.println("  silent clients on port " + s.listenerPort() + " -> " + describe(s.target())
                    + (s.timeout() == null ? "" : " after " + s.timeout().toMillis() + "ms"));
        }
        ForwardTarget fallback = refractium.routes().fallback();
        out.println("  fallback -> " + (fallback == null ? "close the connection" : describe(fallback)));
        out.flush();
    }

    private static String describe(ForwardTarget t) {
        return t.name() + " " + t.backends() + " " + t.loadBalancer().name()
                + (t.healthCheck().kind() == HealthCheck.Kind.NONE ? "" : ", check " + t.healthCheck());
    }

    /** Blocks until the JVM shuts down; the shutdown hook drains and closes the instance. */
    private static void runUntilShutdown(Refractium refractium) {
        awaitShutdown("refractium-shutdown", () -> {
            System.out.println("refractium: stopping, draining open connections ("
                    + refractium.activeConnections() + " open)");
            refractium.close();
            System.out.println("refractium: stopped");
        });
    }

    /**
     * Blocks until the JVM is asked to shut down (SIGTERM, SIGINT/Ctrl-C); the shutdown hook runs {@code stop} and
     * lets the JVM exit once it returns.
     *
     * @param threadName the name of the shutdown hook's thread
     * @param stop what to do before exiting, such as closing the proxy
     */
    public static void awaitShutdown(String threadName, Runnable stop) {
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stop.run();
            } finally {
                closed.countDown();
            }
        }, threadName));
        boolean interrupted = false;
        while (closed.getCount() > 0) {
            try {
                closed.await();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
