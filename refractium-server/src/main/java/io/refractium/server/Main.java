package io.refractium.server;

import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.Refractium;
import io.refractium.Route;
import io.refractium.SilenceRoute;
import io.refractium.config.ConfigException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refractium.micrometer.MicrometerMetrics;
import io.refractium.server.admin.AdminServer;
import io.refractium.server.admin.ConfigText;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The {@code refractium} command: {@code run --config FILE}, {@code check --config FILE}, {@code demo},
 * {@code --version}, and the quick flags ({@code --listen}, {@code --route}, ...) that run without a file.
 *
 * <p>Exit status: 0 after {@code --help}, {@code --version} or a valid {@code check}; 2 for a bad command line or
 * configuration (the message names the file, line, key and value, or the flag); 1 when a listen address cannot be
 * bound or the file cannot be read. SIGTERM and SIGINT stop a running server after draining open connections (the
 * JVM then exits with 143 or 130).
 */
@Command(name = "refractium", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"A protocol multiplexer: many protocols on one port.", "",
            "  refractium run --config refractium.yaml     run from a YAML file (reloaded on change and SIGHUP)",
            "  refractium check --config refractium.yaml   check a file and exit",
            "  refractium --listen 0.0.0.0:443 --route tls=10.0.0.1:443 --route http=10.0.0.2:80",
            "                                               run from flags, without a file", ""},
        subcommands = {Main.Run.class, Main.Check.class, Main.Demo.class})
public final class Main implements Callable<Integer> {

    /** Exit status for a bad command line or configuration. */
    public static final int EXIT_USAGE = 2;
    /** Exit status when listeners cannot be bound or the file cannot be read. */
    public static final int EXIT_FAILURE = 1;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Listen address (repeatable).")
    List<String> listen = new java.util.ArrayList<>();
    @Option(names = "--listen-udp", paramLabel = "HOST:PORT", description = "UDP listen address (repeatable).")
    List<String> listenUdp = new java.util.ArrayList<>();
    @Option(names = "--route", paramLabel = "SPEC", description = {"A route (repeatable): "
            + FlagConfig.ROUTE_GRAMMAR, "BACKEND = HOST:PORT[*WEIGHT][+backup]; CONDITION = sni=NAME | host=NAME | "
            + "alpn=ID | path=PREFIX | client=CIDR | listener=PORT | KEY=VALUE; OPTION = balance, check, send, "
            + "expect, interval, timeout, rise, fall, attempts, max-conns, send-proxy."})
    List<String> route = new java.util.ArrayList<>();
    @Option(names = "--fallback", paramLabel = "HOST:PORT", description = "Where bytes no route takes go.")
    String fallback;
    @Option(names = "--on-silence", paramLabel = "HOST:PORT[;listener=PORT[;timeout=D]]",
            description = "Where clients that send nothing go (repeatable, one per listener port).")
    List<String> onSilence = new java.util.ArrayList<>();
    @Option(names = "--accept-proxy", paramLabel = "required|optional;trusted=CIDR,...[;listener=PORT]",
            description = "Receive the PROXY protocol on every listener, or on one port (repeatable).")
    List<String> acceptProxy = new java.util.ArrayList<>();
    @Option(names = "--peek-timeout", paramLabel = "D", description = "Detection deadline (default 5s).")
    String peekTimeout;
    @Option(names = "--silence-timeout", paramLabel = "D", description = "Silence deadline (default 2s).")
    String silenceTimeout;
    @Option(names = "--quiet-timeout", paramLabel = "D", description = "Quiet timeout of detection (default 100ms).")
    String quietTimeout;
    @Option(names = "--peek-bytes", paramLabel = "N", description = "Peek cap in bytes (default 32768).")
    String peekBytes;
    @Option(names = "--transport", paramLabel = "native|epoll|io_uring|nio",
            description = "The I/O transport (default native: io_uring where the kernel allows it, else epoll, else nio; "
                    + "epoll first with splice on).")
    String transport;
    @Option(names = "--connect-timeout", paramLabel = "D", description = "Backend connect timeout (default 5s).")
    String connectTimeout;
    @Option(names = "--idle-timeout", paramLabel = "D", description = "Idle timeout, 0 disables (default 10m).")
    String idleTimeout;
    @Option(names = "--max-connections", paramLabel = "N", description = "Open connections of the instance.")
    String maxConnections;
    @Option(names = "--max-connections-per-listener", paramLabel = "N", description = "Of each listener.")
    String maxConnectionsPerListener;
    @Option(names = "--max-connections-per-ip", paramLabel = "N", description = "Of each client address.")
    String maxConnectionsPerIp;
    @Option(names = "--max-detecting", paramLabel = "N", description = "Connections in detection.")
    String maxDetecting;
    @Option(names = "--rate-per-ip", paramLabel = "R/s[,burst=B]", description = "New connections per client.")
    String ratePerIp;
    @Option(names = "--allow", paramLabel = "CIDR", description = "Allowed client network (repeatable).")
    List<String> allow = new java.util.ArrayList<>();
    @Option(names = "--deny", paramLabel = "CIDR", description = "Denied client network (repeatable).")
    List<String> deny = new java.util.ArrayList<>();
    @Option(names = "--ipv6-prefix", paramLabel = "N", description = "IPv6 prefix of one client (default 64).")
    String ipv6Prefix;
    @Option(names = "--max-tracked-ips", paramLabel = "N", description = "Rate buckets kept (default 100000).")
    String maxTrackedIps;
    @Option(names = "--reject-with-rst", description = "Reset refused connections instead of closing them.")
    boolean rejectWithRst;
    @Option(names = "--bandwidth-per-connection", paramLabel = "UP:DOWN",
            description = "Each connection's cap, bytes per second each way: 0 or a size such as 512k, 10m, 1g.")
    String bandwidthPerConnection;
    @Option(names = "--bandwidth-per-ip", paramLabel = "UP:DOWN", description = "Shared by each client address.")
    String bandwidthPerIp;
    @Option(names = "--bandwidth-per-route", paramLabel = "UP:DOWN", description = "Shared by each route.")
    String bandwidthPerRoute;
    @Option(names = "--bandwidth-per-target", paramLabel = "[NAME=]UP:DOWN",
            description = "Shared by each target, or by the one named (repeatable, once per NAME).")
    List<String> bandwidthPerTarget = new java.util.ArrayList<>();
    @Option(names = "--access-log", paramLabel = "text|json|off",
            description = "The access log's format, or off (default text: one line per connection on stdout).")
    String accessLog;
    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Serve the admin HTTP endpoint (metrics, health, targets, drain, connections) here.")
    String admin;

    PrintStream out = System.out;
    PrintStream err = System.err;
    Consumer<Server> runner = Main::runUntilShutdown;

    /**
     * Runs the command and exits with its status (except after a clean stop of a running server, which returns).
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        int status = execute(args, System.out, System.err, Main::runUntilShutdown);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Runs the command and returns its exit status; a seam for tests.
     *
     * @param args the command line
     * @param out where help, the version and the startup report go
     * @param err where errors go
     * @param runner runs a started server until it should stop; it owns closing it
     * @return the exit status
     */
    public static int execute(String[] args, PrintStream out, PrintStream err, Consumer<Server> runner) {
        Main main = new Main();
        main.out = out;
        main.err = err;
        main.runner = runner;
        CommandLine cl = new CommandLine(main);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        FlagConfig.Flags f = flags();
        if (f.isEmpty()) {
            err.println("refractium: nothing to do (expected: run --config FILE, check --config FILE, demo, or "
                    + "--listen HOST:PORT --route SPEC ...; see --help)");
            return EXIT_USAGE;
        }
        ServerConfig config;
        try {
            config = ServerConfig.from(FlagConfig.toTree(f));
        } catch (ConfigException e) {
            err.println("refractium: " + e.getMessage());
            return EXIT_USAGE;
        }
        return start(null, config, false, null);
    }

    private FlagConfig.Flags flags() {
        FlagConfig.Flags f = new FlagConfig.Flags();
        f.listen = listen;
        f.listenUdp = listenUdp;
        f.route = route;
        f.fallback = fallback;
        f.onSilence = onSilence;
        f.acceptProxy = acceptProxy;
        f.peekTimeout = peekTimeout;
        f.silenceTimeout = silenceTimeout;
        f.quietTimeout = quietTimeout;
        f.peekBytes = peekBytes;
        f.connectTimeout = connectTimeout;
        f.idleTimeout = idleTimeout;
        f.maxConnections = maxConnections;
        f.maxConnectionsPerListener = maxConnectionsPerListener;
        f.maxConnectionsPerIp = maxConnectionsPerIp;
        f.maxDetecting = maxDetecting;
        f.ratePerIp = ratePerIp;
        f.allow = allow;
        f.deny = deny;
        f.ipv6Prefix = ipv6Prefix;
        f.maxTrackedIps = maxTrackedIps;
        f.rejectWithRst = rejectWithRst;
        f.accessLog = accessLog;
        f.admin = admin;
        f.transport = transport;
        f.bandwidthPerConnection = bandwidthPerConnection;
        f.bandwidthPerIp = bandwidthPerIp;
        f.bandwidthPerRoute = bandwidthPerRoute;
        f.bandwidthPerTarget = bandwidthPerTarget;
        return f;
    }

    /** Starts a server, prints what it listens on, and hands it to the runner. */
    int start(Path file, ServerConfig config, boolean watch, Duration interval) {
        PrometheusMeterRegistry registry = config.admin() == null ? null
                : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Server server = new Server(file, config,
                registry == null ? null : b -> b.metrics(MicrometerMetrics.of(registry)));
        try {
            server.start();
        } catch (UncheckedIOException e) {
            server.close();
            err.println("refractium: " + e.getMessage());
            return EXIT_FAILURE;
        } catch (IllegalArgumentException e) {
            server.close();
            err.println("refractium: " + e.getMessage());
            return EXIT_USAGE;
        }
        report(out, server.refractium());
        if (file != null) {
            server.reloadOnSighup();
            if (watch) {
                server.watch(interval);
            }
        }
        List<AutoCloseable> extensions = new java.util.ArrayList<>();
        if (registry != null) {
            try {
                AdminServer admin = AdminServer.start(config.admin(), server::refractium, registry::scrape,
                        () -> ConfigText.of(file));
                extensions.add(admin);
                out.println("admin endpoint on http://" + AccessLog.address(admin.localAddress()));
            } catch (UncheckedIOException e) {
                server.close();
                err.println("refractium: " + e.getMessage());
                return EXIT_FAILURE;
            }
        }
        try {
            for (ServerExtension e : ServiceLoader.load(ServerExtension.class)) {
                extensions.add(0, e.start(server));
            }
        } catch (Exception e) {
            closeAll(extensions);
            server.close();
            err.println("refractium: an extension failed to start: " + e);
            return EXIT_FAILURE;
        }
        if (!extensions.isEmpty()) {
            server.onClose(() -> closeAll(extensions));
        }
        runner.accept(server);
        return 0;
    }

    private static void closeAll(List<AutoCloseable> extensions) {
        for (AutoCloseable c : extensions) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("refractium: closing an extension failed: " + e);
            }
        }
    }

    static ServerConfig readFile(Path file, PrintStream err) {
        try {
            if (!Files.isRegularFile(file)) {
                err.println("refractium: --config " + file + ": no such file");
                return null;
            }
            return ServerConfig.read(file);
        } catch (IOException e) {
            err.println("refractium: --config " + file + ": cannot be read: " + e.getMessage());
            return null;
        }
    }

    /** {@code refractium run --config FILE}. */
    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run from a YAML configuration file.")
    static final class Run implements Callable<Integer> {
        @ParentCommand
        Main parent;
        @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The YAML file.")
        Path config;
        @Option(names = "--watch-interval", paramLabel = "D", defaultValue = "1s",
                description = "How often to look for changes to the file (default ${DEFAULT-VALUE}).")
        String watchInterval;
        @Option(names = "--no-watch", description = "Do not reload when the file changes (SIGHUP still reloads).")
        boolean noWatch;

        @Override
        public Integer call() {
            Duration interval = io.refractium.server.Durations.parse(watchInterval);
            if (interval == null || interval.isZero()) {
                parent.err.println("refractium: --watch-interval \"" + watchInterval
                        + "\" (expected: a duration such as 500ms, 2s or 1m, more than zero)");
                return EXIT_USAGE;
            }
            ServerConfig cfg;
            try {
                cfg = readFile(config, parent.err);
            } catch (ConfigException e) {
                parent.err.println("refractium: " + e.getMessage());
                return EXIT_USAGE;
            }
            if (cfg == null) {
                return EXIT_FAILURE;
            }
            return parent.start(config, cfg, !noWatch, interval);
        }
    }

    /** {@code refractium check --config FILE}. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Check a YAML configuration file and exit: 0 when valid, 2 with the problem when not.")
    static final class Check implements Callable<Integer> {
        @ParentCommand
        Main parent;
        @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The YAML file.")
        Path config;

        @Override
        public Integer call() {
            ServerConfig cfg;
            try {
                cfg = readFile(config, parent.err);
            } catch (ConfigException e) {
                parent.err.println("refractium: " + e.getMessage());
                return EXIT_USAGE;
            }
            if (cfg == null) {
                return EXIT_FAILURE;
            }
            parent.out.println(config + ": valid: listeners " + cfg.engine().listenAddresses() + ", "
                    + cfg.engine().routes().size() + " routes, " + cfg.engine().targets().size() + " targets");
            return 0;
        }
    }

    /** {@code refractium demo}. */
    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "Run the demo (in the refractium-examples jar): a multiplexer in front of demo backends.")
    static final class Demo implements Callable<Integer> {
        @ParentCommand
        Main parent;

        @Override
        public Integer call() throws Exception {
            for (ServerDemo demo : ServiceLoader.load(ServerDemo.class)) {
                demo.run();
                return 0;
            }
            parent.err.println("refractium: this jar has no demo (expected: the examples jar, "
                    + "java -jar refractium-examples/target/refractium-examples.jar demo)");
            return EXIT_USAGE;
        }
    }

    /** Reads the version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"refractium " + (v == null ? "(development build)" : v) + ", Java "
                    + System.getProperty("java.version")};
        }
    }

    private static void report(PrintStream out, Refractium refractium) {
        StringBuilder addresses = new StringBuilder();
        for (InetSocketAddress a : refractium.localAddresses()) {
            addresses.append(addresses.length() == 0 ? "" : ", ").append(AccessLog.address(a));
        }
        for (InetSocketAddress a : refractium.udpLocalAddresses()) {
            addresses.append(addresses.length() == 0 ? "" : ", ").append("udp ").append(AccessLog.address(a));
        }
        out.println("refractium listening on " + addresses);
        out.println("protocols: " + refractium.protocols());
        for (Route r : refractium.routes().routes()) {
            out.println("  route " + r.describe() + " -> " + describe(r.target()));
        }
        ForwardTarget silence = refractium.routes().silenceTarget();
        if (silence != null) {
            out.println("  silent clients -> " + describe(silence));
        }
        for (SilenceRoute s : refractium.routes().listenerSilenceRoutes()) {
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

    /** Blocks until the JVM shuts down; the shutdown hook drains and closes the server. */
    static void runUntilShutdown(Server server) {
        awaitShutdown("refractium-shutdown", () -> {
            System.out.println("refractium: stopping, draining open connections ("
                    + server.refractium().activeConnections() + " open)");
            server.close();
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
