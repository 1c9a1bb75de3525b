package io.refractium.examples.demo;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.RefractiumBuilder;
import io.refractium.Route;
import io.refractium.examples.backends.DemoBackends;
import io.refractium.examples.hooks.LoggingHook;
import io.refractium.server.Main;
import io.refractium.spi.RefractiumProtocol;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The quick start: several protocols on one port, each forwarded to its own backend, all on this machine.
 *
 * <p>Run it with {@code java -jar refractium-examples/target/refractium-examples.jar demo} (the server's
 * {@code refractium demo} command, which finds it through {@link DemoProgram}) or
 * {@code java -cp refractium-examples/target/refractium-examples.jar io.refractium.examples.demo.Demo [--port N]}. It starts these backends on loopback ephemeral ports:
 * <ul>
 *   <li>an HTTP/1.1 server that answers {@code hello from the http backend} and the Host it saw;</li>
 *   <li>two TLS servers for {@code a.test} and {@code b.test}, with certificates made at startup by a self-signed
 *       demo authority; each says {@code hello from a.test} (or {@code b.test}) after the handshake and for every
 *       line it receives;</li>
 *   <li>for SSH, the local sshd when {@code 127.0.0.1:22} accepts connections (so a real {@code ssh} works), else
 *       a banner server that sends {@code SSH-2.0-RefractiumDemo} and explains;</li>
 *   <li>an echo server, the fallback for bytes no detector recognises.</li>
 * </ul>
 * Then Refractium listens on {@code 127.0.0.1:8443} (or a free port when 8443 is taken, or the {@code --port}
 * given) with the protocols found by {@code discoverProtocols()}: {@code http} to the HTTP server, {@code tls}
 * routed by SNI, {@code ssh} and silent clients (an SSH client that waits for the server's banner, like sslh's
 * {@code --on-timeout}) to the SSH backend, anything else to the echo server. A {@link LoggingHook} prints one line
 * per closed connection. The program prints the commands to try and runs until Ctrl-C, which closes everything.
 */
public final class Demo implements AutoCloseable {

    /** The port the demo listens on when it is free. */
    public static final int DEFAULT_PORT = 8443;

    private static final Duration GRACE_PERIOD = Duration.ofSeconds(2);

    private final DemoBackends backends;
    private final Refractium refractium;
    private final String instructions;

    private Demo(DemoBackends backends, Refractium refractium, String instructions) {
        this.backends = backends;
        this.refractium = refractium;
        this.instructions = instructions;
    }

    /**
     * Runs the demo until the JVM is asked to stop (Ctrl-C, SIGTERM).
     *
     * @param args nothing, or {@code --port N} (0 picks a free port)
     */
    public static void main(String[] args) {
        int port = DEFAULT_PORT;
        if (args.length > 0) {
            port = parsePort(args);
            if (port < 0) {
                System.err.println("demo: " + String.join(" ", args)
                        + " (expected: nothing, or --port N with N from 0 to 65535)");
                System.exit(2);
                return;
            }
        }
        Demo demo = start(port);
        System.out.println(demo.instructions());
        Main.awaitShutdown("refractium-demo-shutdown", () -> {
            System.out.println("demo: stopping");
            demo.close();
        });
    }

    private static int parsePort(String[] args) {
        if (args.length != 2 || !args[0].equals("--port") || args[1].isEmpty() || args[1].length() > 5
                || !args[1].chars().allMatch(Character::isDigit)) {
            return -1;
        }
        int port = Integer.parseInt(args[1]);
        return port <= 65535 ? port : -1;
    }

    /**
     * Starts the backends and Refractium; the connection log goes to standard output.
     *
     * @param preferredPort the port to listen on when it is free (0 picks a free port)
     * @return the running demo
     * @throws IllegalArgumentException when the protocols the demo routes ({@code http}, {@code tls}, {@code ssh})
     *         are not on the class path
     */
    public static Demo start(int preferredPort) {
        return start(preferredPort, new InetSocketAddress(InetAddress.getLoopbackAddress(), 22), List.of(),
                System.out::println);
    }

    /**
     * Starts the backends and Refractium.
     *
     * @param preferredPort the port to listen on when it is free (0 picks a free port)
     * @param localSsh where to look for a running SSH server
     * @param protocols detectors registered explicitly, beside the discovered ones (explicit ones win)
     * @param log receives one line per closed connection
     * @return the running demo
     */
    static Demo start(int preferredPort, InetSocketAddress localSsh, List<RefractiumProtocol> protocols,
                      Consumer<String> log) {
        Objects.requireNonNull(localSsh, "localSsh");
        DemoBackends backends = new DemoBackends();
        try {
            InetSocketAddress http = backends.httpHello("the http backend");
            InetSocketAddress a = backends.tlsHello("a.test");
            InetSocketAddress b = backends.tlsHello("b.test");
            InetSocketAddress echo = backends.echo();
            boolean sshd = accepts(localSsh);
            InetSocketAddress ssh = sshd ? localSsh : backends.sshBanner(List.of(
                    "This is the Refractium demo's stand-in SSH server.",
                    "Nothing accepts connections on " + DemoBackends.hostAndPort(localSsh)
                            + ", so ssh connections and silent clients come here.",
                    "Start an SSH server there and run the demo again to reach it through Refractium."));

            ForwardTarget sshTarget = ForwardTarget.of("ssh", DemoBackends.hostAndPort(ssh));
            IntFunction<Refractium> startOn = port -> Refractium.builder()
                    .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                    .discoverProtocols()
                    .protocols(protocols)
                    .route("http", ForwardTarget.of("http", DemoBackends.hostAndPort(http)))
                    .route(Route.builder("tls").sni("a.test")
                            .to(ForwardTarget.of("tls@a.test", DemoBackends.hostAndPort(a))))
                    .route(Route.builder("tls").sni("b.test")
                            .to(ForwardTarget.of("tls@b.test", DemoBackends.hostAndPort(b))))
                    .route("ssh", sshTarget)
                    .onSilence(sshTarget)
                    .fallback(ForwardTarget.of("echo", DemoBackends.hostAndPort(echo)))
                    .shutdownGracePeriod(GRACE_PERIOD)
                    .hook(new LoggingHook(log))
                    .build()
                    .start();
            Refractium refractium = listen(startOn, preferredPort);
            int port = refractium.localAddress().getPort();
            return new Demo(backends, refractium, instructions(port, http, a, b, echo, ssh, sshd));
        } catch (RuntimeException e) {
            backends.close();
            throw e;
        }
    }

    /** Starts on the preferred port when it is free, else on a free port. */
    private static Refractium listen(IntFunction<Refractium> startOn, int preferredPort) {
        if (preferredPort != 0 && isFree(InetAddress.getLoopbackAddress(), preferredPort)) {
            try {
                return startOn.apply(preferredPort);
            } catch (UncheckedIOException e) {
                // Taken between the check and the bind: a free port will do.
                return startOn.apply(0);
            }
        }
        return startOn.apply(0);
    }

    /**
     * Returns whether nothing listens on the port. The check binds without {@code SO_REUSEPORT}, so it also sees a
     * listener that shares its port with {@code SO_REUSEPORT}, which a bind with that option would join.
     */
    private static boolean isFree(InetAddress address, int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(address, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean accepts(InetSocketAddress address) {
        try (Socket s = new Socket()) {
            s.connect(address, 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String instructions(int port, InetSocketAddress http, InetSocketAddress a, InetSocketAddress b,
                                       InetSocketAddress echo, InetSocketAddress ssh, boolean sshd) {
        String nl = System.lineSeparator();
        return String.join(nl,
                "",
                "Refractium demo: many protocols on 127.0.0.1:" + port + " (Ctrl-C to stop)",
                "",
                "  http             -> " + DemoBackends.hostAndPort(http) + "  says hello and the Host it saw",
                "  tls, SNI a.test  -> " + DemoBackends.hostAndPort(a) + "  says hello from a.test (self-signed)",
                "  tls, SNI b.test  -> " + DemoBackends.hostAndPort(b) + "  says hello from b.test (self-signed)",
                "  ssh and silent   -> " + DemoBackends.hostAndPort(ssh)
                        + (sshd ? "  your SSH server" : "  a banner server (nothing listens on 127.0.0.1:22)"),
                "  anything else    -> " + DemoBackends.hostAndPort(echo) + "  echo",
                "",
                "Try:",
                "  curl -v http://127.0.0.1:" + port + "/",
                "  openssl s_client -connect 127.0.0.1:" + port + " -servername a.test",
                "  openssl s_client -connect 127.0.0.1:" + port + " -servername b.test",
                "  ssh -p " + port + " localhost",
                "  printf 'hello\\n' | nc 127.0.0.1 " + port + "        (no protocol matches: the echo fallback)",
                "  nc 127.0.0.1 " + port + "                            (send nothing: after "
                        + RefractiumBuilder.DEFAULT_SILENCE_TIMEOUT.toSeconds() + " s the ssh backend answers)",
                "",
                "One line per closed connection follows:",
                "");
    }

    /** Returns the text printed at startup: the routes and the commands to try, with the real port. */
    public String instructions() {
        return instructions;
    }

    /** Returns the running Refractium. */
    public Refractium refractium() {
        return refractium;
    }

    /** Returns the address Refractium listens on. */
    public InetSocketAddress address() {
        return refractium.localAddress();
    }

    /** Closes Refractium (draining open connections for up to 2 seconds), then the backends; blocks until done. */
    @Override
    public void close() {
        try {
            refractium.close();
        } finally {
            backends.close();
        }
    }
}
