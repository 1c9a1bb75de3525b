package io.refractium.server;

import io.refractium.Refractium;
import io.refractium.RefractiumBuilder;
import io.refractium.RoutingTable;
import io.refractium.config.ConfigException;
import io.refractium.config.RefractiumConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running standalone Refractium: the instance built from a {@link ServerConfig}, its access log, and, when it
 * was read from a file, the reloads of that file. This is what {@code refractium run} starts; it owns the
 * lifecycle, so whatever runs beside the multiplexer (an admin endpoint, metrics) can be started next to it and
 * reach the instance through {@link #refractium()}.
 *
 * <p>A reload ({@link #reload()}, on a change of the file when {@link #watch(Duration)} is on, or on
 * {@code SIGHUP}) reads and checks the whole file first; an invalid file changes nothing and the reason is
 * logged. A valid one is applied in this order: new listeners are bound (if one fails, those just bound are closed
 * and nothing changes), the routing table is swapped in one step ({@link Refractium#updateRoutes}: connections
 * already open keep the table and backend they started with and drain), then listeners no longer in the file are
 * closed (connections they accepted carry on). Settings that a running instance cannot change (timeouts, limits,
 * detection, hooks, protocols, a listener's PROXY protocol setting) keep their running value, and the log names
 * each one; they apply at the next start.
 *
 * <p>Thread-safe. Reloads are serialised on one thread.
 */
public final class Server implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Server.class);

    /** What a reload did. */
    public enum ReloadOutcome {
        /** The new file is in use (settings that cannot change live were logged). */
        APPLIED,
        /** The file is the same as the one in use. */
        UNCHANGED,
        /** The file was invalid or could not be applied; the running configuration stays. */
        REJECTED
    }

    private final Path file;
    private final Consumer<RefractiumBuilder> customizer;
    private final ServerConfig built;
    private final AccessLog accessLog;
    private final ExecutorService reloader;
    private volatile ServerConfig current;
    private volatile byte[] lastDigest;
    private volatile byte[] appliedDigest;
    private Refractium refractium;
    /** The configured listen address of each bound one (they differ when the configured port is 0). */
    private final Map<InetSocketAddress, InetSocketAddress> bound = new LinkedHashMap<>();
    private ScheduledExecutorService watcher;
    private final List<Runnable> beforeClose = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Creates a server; nothing is bound until {@link #start()}.
     *
     * @param file the file the configuration came from, for reloads, or {@code null} (command-line flags)
     * @param config the configuration
     * @param customizer called on the builder before it builds (to add hooks, say); may be {@code null}
     */
    public Server(Path file, ServerConfig config, Consumer<RefractiumBuilder> customizer) {
        this.file = file;
        this.built = Objects.requireNonNull(config, "config");
        this.current = config;
        this.customizer = customizer;
        this.accessLog = new AccessLog(config.accessLog());
        this.reloader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "refractium-reload");
            t.setDaemon(true);
            return t;
        });
        if (file != null) {
            try {
                lastDigest = digest(Files.readAllBytes(file));
                appliedDigest = lastDigest;
            } catch (IOException e) {
                lastDigest = null;
            }
        }
    }

    /**
     * Builds and starts the instance.
     *
     * @return this server
     * @throws java.io.UncheckedIOException naming the address when a listener cannot be bound
     * @throws IllegalArgumentException when the builder refuses what a customizer added
     */
    public synchronized Server start() {
        if (refractium != null) {
            return this;
        }
        RefractiumBuilder b = built.engine().toBuilder().hook(accessLog);
        if (customizer != null) {
            customizer.accept(b);
        }
        Refractium r = b.build();
        r.start();
        List<InetSocketAddress> configured = built.engine().listenAddresses();
        List<InetSocketAddress> actual = r.localAddresses();
        for (int i = 0; i < configured.size(); i++) {
            bound.put(configured.get(i), actual.get(i));
        }
        refractium = r;
        return this;
    }

    /**
     * Returns the running instance.
     *
     * @throws IllegalStateException before {@link #start()}
     */
    public synchronized Refractium refractium() {
        if (refractium == null) {
            throw new IllegalStateException("not started: call start() first");
        }
        return refractium;
    }

    /** Returns the configuration in use (the last one applied). */
    public ServerConfig config() {
        return current;
    }

    /** Returns the access log hook. */
    public AccessLog accessLog() {
        return accessLog;
    }

    /**
     * Checks the file for changes every {@code interval} and reloads it when its content changed.
     *
     * @param interval how often to look, more than zero
     * @return this server
     * @throws IllegalStateException when the configuration did not come from a file
     */
    public synchronized Server watch(Duration interval) {
        if (file == null) {
            throw new IllegalStateException("no configuration file to watch");
        }
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
        }
        if (watcher == null) {
            watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "refractium-config-watch");
                t.setDaemon(true);
                return t;
            });
            long ms = interval.toMillis();
            watcher.scheduleWithFixedDelay(this::checkForChange, ms, ms, TimeUnit.MILLISECONDS);
            log.info("watching {} for changes every {} ms", file, ms);
        }
        return this;
    }

    private void checkForChange() {
        try {
            byte[] content = Files.readAllBytes(file);
            if (!Arrays.equals(digest(content), lastDigest)) {
                log.info("{} changed: reloading", file);
                reloader.submit(this::reloadNow).get();
            }
        } catch (IOException e) {
            log.debug("cannot read {} to check for changes: {}", file, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("checking {} for changes failed: {}", file, e.toString(), e);
        }
    }

    /**
     * Reloads the file on the reload thread, without waiting; for a signal handler.
     *
     * @return the reload's outcome, when it is done
     */
    public Future<ReloadOutcome> reloadAsync() {
        return reloader.submit(this::reloadNow);
    }

    /**
     * Reads the file again and applies it (see the class description); blocks until done.
     *
     * @return what the reload did
     * @throws IllegalStateException when the configuration did not come from a file, or before {@link #start()}
     */
    public ReloadOutcome reload() {
        if (file == null) {
            throw new IllegalStateException("no configuration file to reload");
        }
        try {
            return reloader.submit(this::reloadNow).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ReloadOutcome.REJECTED;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("reload failed: " + e.getCause(), e.getCause());
        }
    }

    private ReloadOutcome reloadNow() {
        Refractium r = refractium();
        byte[] content;
        ServerConfig next;
        try {
            content = Files.readAllBytes(file);
            lastDigest = digest(content);
            if (Arrays.equals(lastDigest, appliedDigest)) {
                log.info("reload: {} is the configuration in use; nothing to do", file);
                return ReloadOutcome.UNCHANGED;
            }
            next = ServerConfig.from(YamlConfig.parse(new String(content, java.nio.charset.StandardCharsets.UTF_8),
                    file.toString()));
        } catch (IOException e) {
            log.warn("reload: cannot read {}: {}; keeping the running configuration", file, e.toString());
            return ReloadOutcome.REJECTED;
        } catch (ConfigException e) {
            log.warn("reload: {}; keeping the running configuration", e.getMessage());
            return ReloadOutcome.REJECTED;
        }
        RefractiumConfig after = next.engine();
        RoutingTable table = after.routingTable();

        // 1. Listeners to add, with the settings the instance was built with for their port.
        List<InetSocketAddress> toAdd = new ArrayList<>();
        for (InetSocketAddress a : after.listenAddresses()) {
            if (bound.containsKey(a)) {
                continue;
            }
            String wanted = after.proxyProtocol(a.getPort());
            String running = built.engine().proxyProtocol(a.getPort());
            if (!Objects.equals(wanted, running)) {
                log.warn("reload: listener {}: its proxy-protocol ({}) cannot be set on a running instance, which "
                        + "has {} for port {}; keeping the running configuration (restart to apply)", a,
                        wanted == null ? "none" : wanted, running == null ? "none" : running, a.getPort());
                return ReloadOutcome.REJECTED;
            }
            toAdd.add(a);
        }
        Map<InetSocketAddress, InetSocketAddress> added = new LinkedHashMap<>();
        for (InetSocketAddress a : toAdd) {
            try {
                added.put(a, r.addListener(a));
            } catch (RuntimeException e) {
                added.values().forEach(r::removeListener);
                log.warn("reload: listener {}: {}; keeping the running configuration", a, e.getMessage());
                return ReloadOutcome.REJECTED;
            }
        }
        // 2. The routing table, in one step.
        try {
            r.updateRoutes(table);
        } catch (IllegalArgumentException e) {
            added.values().forEach(r::removeListener);
            log.warn("reload: {}: {}; keeping the running configuration", file, e.getMessage());
            return ReloadOutcome.REJECTED;
        }
        // 3. Listeners that left the file.
        List<InetSocketAddress> removed = new ArrayList<>();
        for (Map.Entry<InetSocketAddress, InetSocketAddress> e : new ArrayList<>(bound.entrySet())) {
            if (!after.listenAddresses().contains(e.getKey())) {
                r.removeListener(e.getValue());
                bound.remove(e.getKey());
                removed.add(e.getValue());
            }
        }
        bound.putAll(added);
        accessLog.settings(next.accessLog());
        List<String> fixed = built.engine().fixedSettingsThatDiffer(after);
        if (!fixed.isEmpty()) {
            log.warn("reload: {} cannot change on a running instance: the running values stay until restart",
                    String.join(", ", fixed));
        }
        current = next;
        appliedDigest = digest(content);
        log.info("reload: {} applied: {} routes, {} targets{}{}", file, after.routes().size(), after.targets().size(),
                added.isEmpty() ? "" : ", listening on " + added.values(),
                removed.isEmpty() ? "" : ", stopped listening on " + removed);
        return ReloadOutcome.APPLIED;
    }

    private static byte[] digest(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Makes {@code SIGHUP} reload the file, where the JVM lets a program handle signals ({@code sun.misc.Signal});
     * elsewhere logs that it cannot.
     *
     * @return whether the handler is installed
     */
    public boolean reloadOnSighup() {
        if (file == null) {
            return false;
        }
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance("HUP");
            Object handler = java.lang.reflect.Proxy.newProxyInstance(handlerClass.getClassLoader(),
                    new Class<?>[] {handlerClass}, (proxy, method, args) -> {
                        if (method.getName().equals("handle")) {
                            log.info("SIGHUP: reloading {}", file);
                            reloadAsync();
                            return null;
                        }
                        if (method.getName().equals("toString")) {
                            return "refractium SIGHUP handler";
                        }
                        if (method.getName().equals("hashCode")) {
                            return System.identityHashCode(proxy);
                        }
                        if (method.getName().equals("equals")) {
                            return proxy == args[0];
                        }
                        return null;
                    });
            signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.warn("SIGHUP cannot be handled on this JVM ({}): reload by changing the file instead", e.toString());
            return false;
        }
    }

    /**
     * Adds something to run when the server closes, before the instance drains (to stop an extension).
     *
     * @param action what to run; exceptions it throws are logged
     */
    public void onClose(Runnable action) {
        beforeClose.add(Objects.requireNonNull(action, "action"));
    }

    /**
     * Runs the {@link #onClose} actions, stops watching, then closes the instance (which drains open connections
     * for its grace period). Calling it again closes nothing more.
     */
    @Override
    public void close() {
        for (Runnable action : beforeClose) {
            beforeClose.remove(action);
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("a close action failed: {}", e.toString(), e);
            }
        }
        ScheduledExecutorService w;
        Refractium r;
        synchronized (this) {
            w = watcher;
            watcher = null;
            r = refractium;
        }
        if (w != null) {
            w.shutdownNow();
        }
        reloader.shutdownNow();
        if (r != null) {
            r.close();
        }
    }
}
