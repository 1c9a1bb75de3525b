package io.refractium.config;

import io.refractium.AdmissionLimits;
import io.refractium.Backend;
import io.refractium.Cidr;
import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.ProxyProtocolMode;
import io.refractium.ProxyProtocolVersion;
import io.refractium.Refractium;
import io.refractium.RefractiumBuilder;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.balance.LoadBalancers;
import io.refractium.hook.Hook;
import io.refractium.hook.HookFactory;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.spi.RefractiumProtocol;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A standalone Refractium's configuration, read and checked from a {@link ConfigNode} tree, whatever wrote the
 * tree (a YAML file, command-line flags). It maps onto a {@link RefractiumBuilder} ({@link #toBuilder()}) and, for a
 * running instance, onto a {@link RoutingTable} ({@link #routingTable()}) and its listen addresses, so that a
 * reloaded file can be applied live: routes and targets through {@link Refractium#updateRoutes}, listeners through
 * {@link Refractium#addListener} and {@link Refractium#removeListener}. The other settings are fixed once the
 * instance is built; {@link #fixedSettingsThatDiffer} names those that a new file changes.
 *
 * <p>The sections of the tree (every key optional unless said; durations are written {@code 500ms}, {@code 2s},
 * {@code 1m}, {@code 1h} or ISO-8601 {@code PT2S}):
 * <pre>
 * listeners:            # TCP, at least one here or in udp-listeners: "HOST:PORT", or a map
 *   - address: HOST:PORT                # IPv6 as [::]:443
 *     proxy-protocol: {mode: required|optional, trusted: [CIDR, ...]}
 *     silence: {target: NAME, timeout: DURATION}   # clients that send nothing on this listener
 * udp-listeners: [HOST:PORT]          # UDP flows, routed by the same routes (fixed once started)
 * protocols: [ID, ..., {class: CLASS}]  # default: every detector found through ServiceLoader
 * targets:
 *   NAME:
 *     backends: [HOST:PORT, "HOST:PORT*WEIGHT+backup", {address: HOST:PORT, weight: N, backup: B, max-connections: N}]
 *     balance: round-robin|weighted|least-conn|p2c|random|hash-ip|hash-name|hash-attr:KEY
 *     health: {check: none|connect|send, send: TEXT, expect: PREFIX, interval: D, timeout: D, rise: N, fall: N,
 *              starts-up: B}
 *     attempts: N
 *     connect-deadline: D
 *     eject-after: N
 *     ejection-cooldown: D
 *     max-connections: N    # the cap of each backend without its own
 *     send-proxy: v1|v2
 * routes:               # most specific first, then in order
 *   - protocol: ID      # required
 *     sni: NAME   host: NAME   alpn: ID   path: PREFIX   client: CIDR   listener: PORT|HOST:PORT
 *     attributes: {KEY: VALUE}
 *     target: NAME      # required
 * fallback: NAME
 * silence: {target: NAME, timeout: D}  # listeners without a silence of their own; the timeout is also the
 *                                     # deadline of listener silences without one (default 2s)
 * detection: {peek-timeout: D, quiet-timeout: D, max-peek-bytes: N, max-peek-memory-bytes: N}
 * timeouts: {connect: D, idle: D (0 disables), drain: D, shutdown-grace: D}
 * limits: {max-connections: N, max-connections-per-listener: N, max-connections-per-ip: N, max-detecting: N,
 *          rate-per-ip: R, burst-per-ip: N, allow: [CIDR], deny: [CIDR], ipv6-prefix: N, max-tracked-ips: N,
 *          reject-with-rst: B}
 * bandwidth: {per-connection: UP:DOWN, per-ip: UP:DOWN, per-route: UP:DOWN, per-target: UP:DOWN,
 *             targets: {NAME: UP:DOWN}}   # bytes per second each way: 0 (no cap) or 512k, 10m, 1g (k = 1024)
 * hooks: [CLASS, {class: CLASS}]       # a Hook, HookFactory, DataHookFactory or Tap with a public no-argument
 *                                     # constructor
 * hook-policy: {on-failure: fail-closed|fail-open, decision-timeout: D}
 * engine: {workers: N, transport: native|epoll|io_uring|nio, splice: B}
 * dns: {servers: [HOST:PORT], min-ttl: D, max-ttl: D}
 * </pre>
 *
 * <p>Unknown keys are errors. Every error is a {@link ConfigException} naming the source, the line, the dotted key
 * and the value. Immutable and thread-safe; {@link #toBuilder()} returns a new builder each time (hooks named by
 * class are made once, when the configuration is read, and shared by every builder).
 */
public final class RefractiumConfig {

    /** The top-level keys this model reads. */
    public static final Set<String> SECTIONS = Set.of("listeners", "udp-listeners", "protocols", "targets", "routes", "fallback",
            "silence", "detection", "timeouts", "limits", "bandwidth", "hooks", "hook-policy", "engine", "dns");

    private static final Pattern PROTOCOL_ID = Pattern.compile("[a-z0-9][a-z0-9._+-]*");

    private final String source;
    private final List<InetSocketAddress> listenAddresses;
    private final Map<Integer, String> proxyByPort;
    private final List<Consumer<RefractiumBuilder>> fixed;
    private final Map<String, String> fixedValues;
    private final Map<String, ForwardTarget> targets;
    private final List<Route> routes;
    private final List<Consumer<RoutingTable.Builder>> tableSteps;
    private final List<Consumer<RefractiumBuilder>> builderRouteSteps;

    private RefractiumConfig(Reader r) {
        this.source = r.source;
        this.listenAddresses = List.copyOf(r.listenAddresses);
        this.proxyByPort = Map.copyOf(r.proxyByPort);
        this.fixed = List.copyOf(r.fixed);
        this.fixedValues = new TreeMap<>(r.fixedValues);
        this.targets = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(r.targets));
        this.routes = List.copyOf(r.routes);
        this.tableSteps = List.copyOf(r.tableSteps);
        this.builderRouteSteps = List.copyOf(r.builderRouteSteps);
    }

    /**
     * Parses a duration as the configuration writes it: {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h},
     * ISO-8601 ({@code PT2S}) or {@code 0}.
     *
     * @param text the text
     * @return the duration, or {@code null} when the text is none of these or is negative
     */
    public static Duration parseDuration(String text) {
        Duration d = text == null ? null : Cursor.parseDuration(text);
        return d == null || d.isNegative() ? null : d;
    }

    /**
     * Reads and checks a configuration tree. Every value is checked where it is written, then the whole is checked
     * as {@link RefractiumBuilder#build()} would (routes to unknown protocols, silence deadlines against the
     * detection deadline, ...), without binding anything.
     *
     * @param root the tree's root, a map
     * @return the configuration
     * @throws ConfigException naming the source, line, key and value of the first problem
     */
    public static RefractiumConfig from(ConfigNode root) {
        Objects.requireNonNull(root, "root");
        Reader reader = new Reader(root);
        reader.read();
        RefractiumConfig config = new RefractiumConfig(reader);
        try {
            config.toBuilder().build().close();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(root.source(), "(configuration)", e.getMessage());
        }
        return config;
    }

    /** Returns where the configuration was read from (the root node's source). */
    public String source() {
        return source;
    }

    /** Returns the listen addresses, in order. */
    public List<InetSocketAddress> listenAddresses() {
        return listenAddresses;
    }

    /** Returns the targets by name, in order of declaration. */
    public Map<String, ForwardTarget> targets() {
        return targets;
    }

    /** Returns the routes, in order of declaration. */
    public List<Route> routes() {
        return routes;
    }

    /**
     * Returns the routing table: the routes, the fallback, the silence targets (per listener and the default one)
     * and every declared target (so hooks may reroute to one no route names).
     *
     * @return a new table
     */
    public RoutingTable routingTable() {
        RoutingTable.Builder b = RoutingTable.builder();
        for (Consumer<RoutingTable.Builder> step : tableSteps) {
            step.accept(b);
        }
        return b.build();
    }

    /**
     * Returns a new builder with every setting of this configuration: listeners, protocols, routes and targets,
     * timeouts, limits, hooks. Add what a file cannot say (event loop groups, more hooks) and build.
     *
     * @return a new builder
     */
    public RefractiumBuilder toBuilder() {
        RefractiumBuilder b = Refractium.builder();
        listenAddresses.forEach(b::listen);
        for (Consumer<RefractiumBuilder> step : fixed) {
            step.accept(b);
        }
        for (Consumer<RefractiumBuilder> step : builderRouteSteps) {
            step.accept(b);
        }
        return b;
    }

    /**
     * Names the settings fixed when an instance is built (everything but listen addresses, routes, targets, the
     * fallback and silence targets) whose value differs in {@code next}: a running instance keeps its value until
     * it is restarted.
     *
     * @param next the configuration read later
     * @return the dotted keys that differ, sorted; empty when none
     */
    public List<String> fixedSettingsThatDiffer(RefractiumConfig next) {
        List<String> keys = new ArrayList<>();
        Set<String> all = new java.util.TreeSet<>(fixedValues.keySet());
        all.addAll(next.fixedValues.keySet());
        for (String k : all) {
            if (!Objects.equals(fixedValues.get(k), next.fixedValues.get(k))) {
                keys.add(k);
            }
        }
        return keys;
    }

    /**
     * Returns the PROXY protocol setting of the listeners on a port, as text ({@code null} when they take no
     * header). A listener added to a running instance gets the setting the instance was built with for its port.
     *
     * @param port the listen port
     * @return the setting, or {@code null}
     */
    public String proxyProtocol(int port) {
        return proxyByPort.get(port);
    }

    @Override
    public String toString() {
        return "RefractiumConfig[" + source + ": listeners " + listenAddresses + ", " + routes.size() + " routes, "
                + targets.size() + " targets]";
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Walks the tree once, checking each value where it is written. */
    private static final class Reader {
        final String source;
        final Cursor root;
        final List<InetSocketAddress> listenAddresses = new ArrayList<>();
        final Map<Integer, String> proxyByPort = new LinkedHashMap<>();
        final List<Consumer<RefractiumBuilder>> fixed = new ArrayList<>();
        final Map<String, String> fixedValues = new LinkedHashMap<>();
        final Map<String, ForwardTarget> targets = new LinkedHashMap<>();
        final Map<String, Cursor> targetNodes = new LinkedHashMap<>();
        final List<Route> routes = new ArrayList<>();
        final List<Consumer<RoutingTable.Builder>> tableSteps = new ArrayList<>();
        final List<Consumer<RefractiumBuilder>> builderRouteSteps = new ArrayList<>();
        final java.util.Set<String> usedTargets = new java.util.HashSet<>();
        /** A builder the fixed settings are tried on as they are read, so a setter's check names the key. */
        final RefractiumBuilder scratch = Refractium.builder();

        Reader(ConfigNode root) {
            this.source = root.source();
            this.root = new Cursor(root, "");
        }

        void read() {
            root.map(SECTIONS);
            readTargets();
            readListeners();
            readProtocols();
            readRoutes();
            Cursor fallback = root.get("fallback");
            if (fallback != null) {
                ForwardTarget t = target(fallback);
                tableSteps.add(b -> b.fallback(t));
                builderRouteSteps.add(b -> b.fallback(t));
            }
            Cursor silence = root.get("silence");
            if (silence != null) {
                silence.map(Set.of("target", "timeout"));
                if (silence.has("target")) {
                    ForwardTarget t = target(silence.get("target"));
                    tableSteps.add(b -> b.onSilence(t));
                    builderRouteSteps.add(b -> b.onSilence(t));
                    defaultSilence = true;
                }
                Cursor timeout = silence.get("timeout");
                if (timeout != null) {
                    Duration d = timeout.duration(false);
                    fix(timeout, d.toString(), b -> b.silenceTimeout(d));
                }
            }
            for (Map.Entry<String, ForwardTarget> e : targets.entrySet()) {
                if (!usedTargets.contains(e.getKey())) {
                    ForwardTarget t = e.getValue();
                    tableSteps.add(b -> b.target(t));
                    builderRouteSteps.add(b -> b.target(t));
                }
            }
            readDetection();
            readTimeouts();
            readLimits();
            readBandwidth();
            readHooks();
            readEngine();
            readDns();
            if (routes.isEmpty() && root.get("fallback") == null && !defaultSilence && listenerSilences == 0) {
                throw root.fail("nothing to forward to (expected: at least one of routes, fallback or silence)");
            }
        }

        int listenerSilences;
        boolean defaultSilence;

        /** Applies a fixed setting to the scratch builder now (naming the key if it fails) and keeps it. */
        void fix(Cursor at, String value, Consumer<RefractiumBuilder> step) {
            try {
                step.accept(scratch);
            } catch (IllegalArgumentException e) {
                throw at.fail(at.shown() + ": " + e.getMessage());
            }
            fixed.add(step);
            fixedValues.put(at.path, value);
        }

        // -------------------------------------------------------------------------------------------- listeners

        void readListeners() {
            Cursor udp = root.get("udp-listeners");
            if (udp != null) {
                List<InetSocketAddress> udpAddresses = new ArrayList<>();
                for (Cursor u : udp.list()) {
                    udpAddresses.add(socketAddress(u, 0));
                }
                List<InetSocketAddress> copy = List.copyOf(udpAddresses);
                fix(udp, copy.toString(), b -> copy.forEach(b::listenUdp));
            }
            Cursor listeners = udp != null && !root.has("listeners") ? null
                    : root.require("listeners", "a list of listen addresses such as 0.0.0.0:443");
            List<Cursor> list = listeners == null ? List.of() : listeners.list();
            if (listeners != null && list.isEmpty()) {
                throw listeners.expected("at least one listen address such as 0.0.0.0:443");
            }
            Map<InetSocketAddress, String> seen = new LinkedHashMap<>();
            for (Cursor l : list) {
                Cursor address = l;
                Cursor proxy = null;
                Cursor silence = null;
                if (!l.isScalar()) {
                    l.map(Set.of("address", "proxy-protocol", "silence"));
                    address = l.require("address", "HOST:PORT");
                    proxy = l.get("proxy-protocol");
                    silence = l.get("silence");
                }
                InetSocketAddress a = socketAddress(address, 0);
                if (seen.put(a, address.path) != null) {
                    throw address.fail(address.shown() + " is also " + seen.get(a)
                            + " (expected: each listen address once)");
                }
                listenAddresses.add(a);
                if (proxy != null) {
                    readProxy(proxy, a.getPort());
                }
                if (silence != null) {
                    silence.map(Set.of("target", "timeout"));
                    if (a.getPort() == 0) {
                        throw silence.fail("listener " + address.shown() + " has port 0 (expected: a fixed port for a "
                                + "listener's own silence target)");
                    }
                    ForwardTarget t = target(silence.require("target", "the name of a target"));
                    Cursor timeout = silence.get("timeout");
                    Duration d = timeout == null ? null : timeout.duration(false);
                    int port = a.getPort();
                    try {
                        RoutingTable.builder().onSilence(port, t, d);
                    } catch (IllegalArgumentException e) {
                        throw silence.fail(e.getMessage());
                    }
                    tableSteps.add(b -> b.onSilence(port, t, d));
                    builderRouteSteps.add(b -> b.onSilence(port, t, d));
                    listenerSilences++;
                }
            }
        }

        void readProxy(Cursor proxy, int port) {
            proxy.map(Set.of("mode", "trusted"));
            String modeText = proxy.require("mode", "required or optional").oneOf("required", "optional");
            ProxyProtocolMode mode = modeText.equals("required") ? ProxyProtocolMode.REQUIRED
                    : ProxyProtocolMode.OPTIONAL;
            Cursor trustedNode = proxy.require("trusted", "the networks of the proxies in front, e.g. [10.0.0.0/8]");
            List<Cidr> trusted = new ArrayList<>();
            for (Cursor c : trustedNode.list()) {
                trusted.add(cidr(c));
            }
            if (trusted.isEmpty()) {
                throw trustedNode.expected("at least one network, e.g. 10.0.0.0/8");
            }
            if (port == 0) {
                throw proxy.fail("the listener has port 0 (expected: a fixed port for a PROXY protocol setting)");
            }
            String text = modeText + " " + trusted;
            String previous = proxyByPort.putIfAbsent(port, text);
            if (previous != null && !previous.equals(text)) {
                throw proxy.fail(text + " differs from another listener on port " + port + " (" + previous
                        + ") (expected: one PROXY protocol setting per port)");
            }
            fix(proxy, text, b -> b.acceptProxyProtocol(port, mode, trusted));
            fixedValues.remove(proxy.path);
            fixedValues.put("listeners.proxy-protocol:" + port, text);
        }

        // -------------------------------------------------------------------------------------------- protocols

        void readProtocols() {
            Cursor protocols = root.get("protocols");
            if (protocols == null) {
                fix(root, "discover", RefractiumBuilder::discoverProtocols);
                fixedValues.remove("");
                fixedValues.put("protocols", "discover");
                return;
            }
            Map<String, RefractiumProtocol> discovered = new LinkedHashMap<>();
            List<RefractiumProtocol> chosen = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            for (Cursor p : protocols.list()) {
                RefractiumProtocol protocol;
                if (p.isScalar()) {
                    String id = p.string();
                    if (discovered.isEmpty()) {
                        discover(discovered);
                    }
                    protocol = discovered.get(id);
                    if (protocol == null) {
                        throw p.expected("a protocol id found through ServiceLoader, one of "
                                + String.join(", ", discovered.keySet()) + ", or {class: CLASS}");
                    }
                } else {
                    p.map(Set.of("class"));
                    protocol = instantiate(p.require("class", "a class name"), RefractiumProtocol.class);
                }
                chosen.add(protocol);
                text.append(text.length() == 0 ? "" : ",").append(p.isScalar() ? p.string()
                        : protocol.getClass().getName());
            }
            List<RefractiumProtocol> copy = List.copyOf(chosen);
            fix(protocols, text.toString(), b -> b.protocols(copy));
        }

        private static void discover(Map<String, RefractiumProtocol> into) {
            ClassLoader cl = Thread.currentThread().getContextClassLoader();
            ServiceLoader<RefractiumProtocol> loader = ServiceLoader.load(RefractiumProtocol.class,
                    cl != null ? cl : RefractiumConfig.class.getClassLoader());
            for (ServiceLoader.Provider<RefractiumProtocol> provider : loader.stream().toList()) {
                try {
                    RefractiumProtocol p = provider.get();
                    into.putIfAbsent(p.id(), p);
                } catch (java.util.ServiceConfigurationError | RuntimeException e) {
                    // RefractiumBuilder.discoverProtocols logs and skips such providers too.
                }
            }
        }

        // ---------------------------------------------------------------------------------------------- targets

        void readTargets() {
            Cursor targetsNode = root.get("targets");
            if (targetsNode == null) {
                return;
            }
            if (targetsNode.node.kind() != ConfigNode.Kind.MAP) {
                throw targetsNode.expected("a map of target names to targets");
            }
            for (String name : targetsNode.node.entries().keySet()) {
                Cursor t = targetsNode.get(name);
                targets.put(name, readTarget(name, t));
                targetNodes.put(name, t);
            }
        }

        ForwardTarget readTarget(String name, Cursor t) {
            t.map(Set.of("backends", "balance", "health", "attempts", "connect-deadline", "eject-after",
                    "ejection-cooldown", "max-connections", "send-proxy"));
            ForwardTarget.Builder tb;
            try {
                tb = ForwardTarget.builder(name);
            } catch (IllegalArgumentException e) {
                throw t.fail("name \"" + name + "\": " + e.getMessage());
            }
            Cursor cap = t.get("max-connections");
            int defaultCap = cap == null ? 0 : cap.integer(1, Integer.MAX_VALUE);
            Cursor backendsNode = t.require("backends", "a list of HOST:PORT");
            List<Cursor> backends = backendsNode.list();
            if (backends.isEmpty()) {
                throw backendsNode.expected("at least one backend HOST:PORT");
            }
            Map<String, String> seen = new LinkedHashMap<>();
            for (Cursor b : backends) {
                Backend backend = backend(b, defaultCap);
                if (seen.put(backend.hostAndPort(), b.path) != null) {
                    throw b.fail(backend.hostAndPort() + " is also " + seen.get(backend.hostAndPort())
                            + " (expected: each backend once)");
                }
                tb.backend(backend);
            }
            Cursor balance = t.get("balance");
            if (balance != null) {
                try {
                    tb.loadBalancer(LoadBalancers.byName(balance.string()));
                } catch (IllegalArgumentException e) {
                    throw balance.fail(afterKey(e.getMessage()));
                }
            }
            Cursor health = t.get("health");
            if (health != null) {
                tb.healthCheck(healthCheck(health));
            }
            Cursor attempts = t.get("attempts");
            if (attempts != null) {
                tb.maxAttempts(attempts.integer(1, backends.size()));
            }
            Cursor deadline = t.get("connect-deadline");
            if (deadline != null) {
                Duration d = deadline.duration(false);
                apply(deadline, () -> tb.connectDeadline(d));
            }
            Cursor ejectAfter = t.get("eject-after");
            if (ejectAfter != null) {
                int n = ejectAfter.integer(0, 1000);
                apply(ejectAfter, () -> tb.ejectAfter(n));
            }
            Cursor cooldown = t.get("ejection-cooldown");
            if (cooldown != null) {
                Duration d = cooldown.duration(false);
                apply(cooldown, () -> tb.ejectionCooldown(d));
            }
            Cursor sendProxy = t.get("send-proxy");
            if (sendProxy != null) {
                tb.sendProxyProtocol(sendProxy.oneOf("v1", "v2").equals("v1") ? ProxyProtocolVersion.V1
                        : ProxyProtocolVersion.V2);
            }
            try {
                return tb.build();
            } catch (IllegalArgumentException e) {
                throw t.fail(e.getMessage());
            }
        }

        /** Strips a leading {@code "key: "} from a builder's message, the key being named already. */
        private static String afterKey(String message) {
            int colon = message.indexOf(": ");
            return colon > 0 && colon < 30 && message.substring(0, colon).matches("[A-Za-z. ]+")
                    ? message.substring(colon + 2) : message;
        }

        private static void apply(Cursor at, Runnable setter) {
            try {
                setter.run();
            } catch (IllegalArgumentException e) {
                throw at.fail(at.shown() + ": " + e.getMessage());
            }
        }

        Backend backend(Cursor b, int defaultCap) {
            Backend backend;
            if (b.isScalar()) {
                String text = b.string();
                String s = text;
                boolean backup = false;
                if (s.endsWith("+backup")) {
                    backup = true;
                    s = s.substring(0, s.length() - "+backup".length());
                }
                int weight = Backend.DEFAULT_WEIGHT;
                int star = s.lastIndexOf('*');
                if (star >= 0) {
                    String w = s.substring(star + 1);
                    if (w.isEmpty() || w.length() > 4 || !w.chars().allMatch(c -> c >= '0' && c <= '9')
                            || Integer.parseInt(w) < 1 || Integer.parseInt(w) > Backend.MAX_WEIGHT) {
                        throw b.expected("HOST:PORT[*WEIGHT][+backup] with WEIGHT 1-" + Backend.MAX_WEIGHT);
                    }
                    weight = Integer.parseInt(w);
                    s = s.substring(0, star);
                }
                backend = parseBackend(b, s).withWeight(weight).withBackup(backup);
                if (defaultCap > 0) {
                    backend = backend.withMaxConnections(defaultCap);
                }
                return backend;
            }
            b.map(Set.of("address", "weight", "backup", "max-connections"));
            backend = parseBackend(b.require("address", "HOST:PORT"), b.require("address", "HOST:PORT").string());
            Cursor weight = b.get("weight");
            if (weight != null) {
                backend = backend.withWeight(weight.integer(1, Backend.MAX_WEIGHT));
            }
            Cursor backup = b.get("backup");
            if (backup != null) {
                backend = backend.withBackup(backup.bool());
            }
            Cursor cap = b.get("max-connections");
            int n = cap != null ? cap.integer(1, Integer.MAX_VALUE) : defaultCap;
            return n > 0 ? backend.withMaxConnections(n) : backend;
        }

        private static Backend parseBackend(Cursor at, String hostAndPort) {
            try {
                return Backend.parse(hostAndPort);
            } catch (IllegalArgumentException e) {
                throw at.expected("HOST:PORT, with an IPv6 host in brackets such as [::1]:443");
            }
        }

        HealthCheck healthCheck(Cursor h) {
            h.map(Set.of("check", "send", "expect", "interval", "timeout", "rise", "fall", "starts-up"));
            String check = h.require("check", "none, connect or send").oneOf("none", "connect", "send");
            if (check.equals("none")) {
                for (String key : List.of("send", "expect", "interval", "timeout", "rise", "fall", "starts-up")) {
                    if (h.has(key)) {
                        throw h.get(key).fail(h.get(key).shown() + " applies only to an active check (expected: "
                                + "check: connect or check: send)");
                    }
                }
                return HealthCheck.none();
            }
            HealthCheck hc;
            if (check.equals("connect")) {
                for (String key : List.of("send", "expect")) {
                    if (h.has(key)) {
                        throw h.get(key).fail(h.get(key).shown() + " applies only to check: send");
                    }
                }
                hc = HealthCheck.connect();
            } else {
                Cursor expect = h.require("expect", "the start of the reply, e.g. \"HTTP/1.1 200\"");
                Cursor send = h.get("send");
                hc = HealthCheck.sendExpect(send == null ? "" : send.text(), expect.string());
            }
            Cursor interval = h.get("interval");
            if (interval != null) {
                Duration d = interval.duration(false);
                hc = withCheck(interval, hc, c -> c.withInterval(d));
            }
            Cursor timeout = h.get("timeout");
            if (timeout != null) {
                Duration d = timeout.duration(false);
                hc = withCheck(timeout, hc, c -> c.withTimeout(d));
            }
            Cursor rise = h.get("rise");
            if (rise != null) {
                int n = rise.integer(1, 100);
                hc = hc.withRise(n);
            }
            Cursor fall = h.get("fall");
            if (fall != null) {
                int n = fall.integer(1, 100);
                hc = hc.withFall(n);
            }
            Cursor startsUp = h.get("starts-up");
            if (startsUp != null) {
                hc = hc.withStartsUp(startsUp.bool());
            }
            return hc;
        }

        private static HealthCheck withCheck(Cursor at, HealthCheck hc,
                                             java.util.function.UnaryOperator<HealthCheck> f) {
            try {
                return f.apply(hc);
            } catch (IllegalArgumentException e) {
                throw at.fail(at.shown() + ": " + e.getMessage());
            }
        }

        /** Resolves a reference to a declared target. */
        ForwardTarget target(Cursor ref) {
            String name = ref.string();
            ForwardTarget t = targets.get(name);
            if (t == null) {
                throw ref.expected("the name of a target under targets"
                        + (targets.isEmpty() ? " (there are none)" : ", one of " + String.join(", ", targets.keySet())));
            }
            usedTargets.add(name);
            return t;
        }

        // ----------------------------------------------------------------------------------------------- routes

        void readRoutes() {
            Cursor routesNode = root.get("routes");
            if (routesNode == null) {
                return;
            }
            Map<String, String> seen = new LinkedHashMap<>();
            for (Cursor r : routesNode.list()) {
                r.map(Set.of("protocol", "sni", "host", "alpn", "path", "client", "listener", "attributes",
                        "target"));
                Cursor protocolNode = r.require("protocol", "a protocol id such as tls, http or ssh");
                String protocol = protocolNode.string();
                if (!PROTOCOL_ID.matcher(protocol).matches()) {
                    throw protocolNode.expected("a lower-case protocol id such as tls, http, http2, ssh or dns");
                }
                Route.Builder rb = Route.builder(protocol);
                condition(r, "sni", v -> rb.sni(v));
                condition(r, "host", v -> rb.host(v));
                condition(r, "alpn", v -> rb.alpn(v));
                condition(r, "path", v -> rb.pathPrefix(v));
                condition(r, "client", v -> rb.clientCidr(v));
                Cursor listener = r.get("listener");
                if (listener != null) {
                    String v = listener.string();
                    InetSocketAddress a = v.chars().allMatch(c -> c >= '0' && c <= '9')
                            ? new InetSocketAddress(listener.integer(1, 65535)) : socketAddress(listener, 1);
                    apply(listener, () -> rb.listener(a));
                }
                Cursor attributes = r.get("attributes");
                if (attributes != null) {
                    if (attributes.node.kind() != ConfigNode.Kind.MAP || attributes.node.entries().isEmpty()) {
                        throw attributes.expected("a map of attribute names to values, e.g. {postgres.database: app}");
                    }
                    for (String key : attributes.node.entries().keySet()) {
                        Cursor value = attributes.get(key);
                        String v = value.string();
                        apply(value, () -> rb.attribute(key, v));
                    }
                }
                ForwardTarget t = target(r.require("target", "the name of a target"));
                Route route = rb.to(t);
                String key = route.describe();
                if (seen.containsKey(key)) {
                    throw r.fail("the same protocol and conditions as " + seen.get(key)
                            + " (expected: one route per protocol and conditions)");
                }
                seen.put(key, r.path + " (" + r.node.where() + ")");
                routes.add(route);
                tableSteps.add(b -> b.route(route));
                builderRouteSteps.add(b -> b.route(route));
            }
        }

        private static void condition(Cursor r, String key, Consumer<String> setter) {
            Cursor c = r.get(key);
            if (c != null) {
                String v = c.string();
                apply(c, () -> setter.accept(v));
            }
        }

        // --------------------------------------------------------------------------------------------- settings

        void readDetection() {
            Cursor d = root.get("detection");
            if (d == null) {
                return;
            }
            d.map(Set.of("peek-timeout", "quiet-timeout", "max-peek-bytes", "max-peek-memory-bytes"));
            durationSetting(d, "peek-timeout", false, (b, v) -> b.peekTimeout(v));
            durationSetting(d, "quiet-timeout", false, (b, v) -> b.quietTimeout(v));
            Cursor bytes = d.get("max-peek-bytes");
            if (bytes != null) {
                int n = bytes.integer(1, Integer.MAX_VALUE);
                fix(bytes, String.valueOf(n), b -> b.maxPeekBytes(n));
            }
            Cursor memory = d.get("max-peek-memory-bytes");
            if (memory != null) {
                long n = memory.longValue(1, Long.MAX_VALUE);
                fix(memory, String.valueOf(n), b -> b.maxPeekMemoryBytes(n));
            }
        }

        void readTimeouts() {
            Cursor t = root.get("timeouts");
            if (t == null) {
                return;
            }
            t.map(Set.of("connect", "idle", "drain", "shutdown-grace"));
            durationSetting(t, "connect", false, (b, v) -> b.connectTimeout(v));
            durationSetting(t, "idle", true, (b, v) -> b.idleTimeout(v));
            durationSetting(t, "drain", false, (b, v) -> b.drainTimeout(v));
            durationSetting(t, "shutdown-grace", true, (b, v) -> b.shutdownGracePeriod(v));
        }

        private void durationSetting(Cursor section, String key, boolean zeroAllowed,
                                     java.util.function.BiConsumer<RefractiumBuilder, Duration> setter) {
            Cursor c = section.get(key);
            if (c != null) {
                Duration d = c.duration(zeroAllowed);
                fix(c, d.toString(), b -> setter.accept(b, d));
            }
        }

        void readLimits() {
            Cursor l = root.get("limits");
            if (l == null) {
                return;
            }
            l.map(Set.of("max-connections", "max-connections-per-listener", "max-connections-per-ip",
                    "max-detecting", "rate-per-ip", "burst-per-ip", "allow", "deny", "ipv6-prefix", "max-tracked-ips",
                    "reject-with-rst"));
            AdmissionLimits.Builder b = AdmissionLimits.builder();
            Cursor c;
            if ((c = l.get("max-connections")) != null) {
                b.maxConnections(c.integer(1, Integer.MAX_VALUE));
            }
            if ((c = l.get("max-connections-per-listener")) != null) {
                b.maxConnectionsPerListener(c.integer(1, Integer.MAX_VALUE));
            }
            if ((c = l.get("max-connections-per-ip")) != null) {
                b.maxConnectionsPerIp(c.integer(1, Integer.MAX_VALUE));
            }
            if ((c = l.get("max-detecting")) != null) {
                b.maxDetecting(c.integer(1, Integer.MAX_VALUE));
            }
            Cursor rate = l.get("rate-per-ip");
            Cursor burst = l.get("burst-per-ip");
            if (rate != null) {
                double r = rate.number(0, AdmissionLimits.MAX_RATE_PER_SECOND);
                if (r <= 0) {
                    throw rate.expected("a number of connections per second above 0");
                }
                if (burst != null) {
                    int n = burst.integer(1, Integer.MAX_VALUE);
                    apply(burst, () -> b.ratePerIp(r, n));
                } else {
                    apply(rate, () -> b.ratePerIp(r));
                }
            } else if (burst != null) {
                throw burst.fail(burst.shown() + " applies only with rate-per-ip (expected: rate-per-ip as well)");
            }
            if ((c = l.get("allow")) != null) {
                for (Cursor a : c.list()) {
                    b.allow(cidr(a));
                }
            }
            if ((c = l.get("deny")) != null) {
                for (Cursor a : c.list()) {
                    b.deny(cidr(a));
                }
            }
            if ((c = l.get("ipv6-prefix")) != null) {
                b.ipv6PrefixLength(c.integer(1, 128));
            }
            if ((c = l.get("max-tracked-ips")) != null) {
                b.maxTrackedAddresses(c.integer(1, Integer.MAX_VALUE));
            }
            if ((c = l.get("reject-with-rst")) != null) {
                b.rejectWithRst(c.bool());
            }
            AdmissionLimits limits;
            try {
                limits = b.build();
            } catch (IllegalArgumentException e) {
                throw l.fail(e.getMessage());
            }
            fix(l, limits.toString(), builder -> builder.limits(limits));
        }

        void readBandwidth() {
            Cursor bw = root.get("bandwidth");
            if (bw == null) {
                return;
            }
            bw.map(Set.of("per-connection", "per-ip", "per-route", "per-target", "targets"));
            io.refractium.BandwidthLimits.Builder b = io.refractium.BandwidthLimits.builder();
            Cursor c;
            if ((c = bw.get("per-connection")) != null) {
                long[] r = rates(c);
                apply(c, () -> b.perConnection(r[0], r[1]));
            }
            if ((c = bw.get("per-ip")) != null) {
                long[] r = rates(c);
                apply(c, () -> b.perIp(r[0], r[1]));
            }
            if ((c = bw.get("per-route")) != null) {
                long[] r = rates(c);
                apply(c, () -> b.perRoute(r[0], r[1]));
            }
            if ((c = bw.get("per-target")) != null) {
                long[] r = rates(c);
                apply(c, () -> b.perTarget(r[0], r[1]));
            }
            Cursor named = bw.get("targets");
            if (named != null) {
                if (named.node.kind() != ConfigNode.Kind.MAP) {
                    throw named.expected("a map of target names to UP:DOWN");
                }
                for (String name : named.node.entries().keySet()) {
                    Cursor t = named.get(name);
                    if (!targets.containsKey(name)) {
                        throw t.fail("no target \"" + name + "\" (expected: the name of a target under targets, one of "
                                + String.join(", ", targets.keySet()) + ")");
                    }
                    long[] r = rates(t);
                    apply(t, () -> b.perTarget(name, r[0], r[1]));
                }
            }
            io.refractium.BandwidthLimits limits;
            try {
                limits = b.build();
            } catch (IllegalArgumentException e) {
                throw bw.fail(e.getMessage());
            }
            fix(bw, limits.toString(), builder -> builder.bandwidth(limits));
        }

        /** Parses {@code UP:DOWN}, each 0 or digits with an optional k, m or g (powers of 1024). */
        private static long[] rates(Cursor c) {
            String text = c.string();
            java.util.regex.Matcher m = java.util.regex.Pattern
                    .compile("(\\d{1,13})([kKmMgG]?):(\\d{1,13})([kKmMgG]?)").matcher(text);
            String expected = "UP:DOWN in bytes per second, each 0 (no cap) or a size such as 512k, 10m or 1g "
                    + "(k = 1024), e.g. 1m:10m";
            if (!m.matches()) {
                throw c.expected(expected);
            }
            long up = size(m.group(1), m.group(2));
            long down = size(m.group(3), m.group(4));
            if (up < 0 || down < 0) {
                throw c.expected(expected + ", at most 1024g");
            }
            return new long[] {up, down};
        }

        private static long size(String digits, String unit) {
            long n = Long.parseLong(digits);
            int shift = unit.isEmpty() ? 0 : "kmg".indexOf(Character.toLowerCase(unit.charAt(0))) * 10 + 10;
            return n > io.refractium.BandwidthLimits.MAX_BYTES_PER_SECOND >> shift ? -1 : n << shift;
        }

        void readHooks() {
            Cursor hooks = root.get("hooks");
            if (hooks != null) {
                StringBuilder names = new StringBuilder();
                for (Cursor h : hooks.list()) {
                    Cursor cls = h;
                    if (!h.isScalar()) {
                        h.map(Set.of("class"));
                        cls = h.require("class", "a class name");
                    }
                    Object instance = instantiate(cls, Object.class);
                    if (instance instanceof Hook) {
                        Hook hook = (Hook) instance;
                        fixed.add(b -> b.hook(hook));
                    } else if (instance instanceof HookFactory) {
                        HookFactory factory = (HookFactory) instance;
                        fixed.add(b -> b.hookFactory(factory));
                    } else if (instance instanceof io.refractium.hook.DataHookFactory) {
                        io.refractium.hook.DataHookFactory factory = (io.refractium.hook.DataHookFactory) instance;
                        fixed.add(b -> b.dataHook(factory));
                    } else if (instance instanceof io.refractium.hook.Tap) {
                        io.refractium.hook.Tap tap = (io.refractium.hook.Tap) instance;
                        fixed.add(b -> b.tap(tap));
                    } else {
                        throw cls.expected("a class that implements " + Hook.class.getName() + ", "
                                + HookFactory.class.getName() + ", io.refractium.hook.DataHookFactory or "
                                + "io.refractium.hook.Tap");
                    }
                    names.append(names.length() == 0 ? "" : ",").append(cls.string());
                }
                fixedValues.put("hooks", names.toString());
            }
            Cursor policy = root.get("hook-policy");
            if (policy != null) {
                policy.map(Set.of("on-failure", "decision-timeout"));
                Cursor onFailure = policy.get("on-failure");
                if (onFailure != null) {
                    HookFailurePolicy p = onFailure.oneOf("fail-closed", "fail-open").equals("fail-open")
                            ? HookFailurePolicy.FAIL_OPEN : HookFailurePolicy.FAIL_CLOSED;
                    fix(onFailure, p.name(), b -> b.hookFailurePolicy(p));
                }
                durationSetting(policy, "decision-timeout", false, (b, v) -> b.hookDecisionTimeout(v));
            }
        }

        void readEngine() {
            Cursor e = root.get("engine");
            if (e == null) {
                return;
            }
            e.map(Set.of("workers", "transport", "splice"));
            Cursor c;
            if ((c = e.get("workers")) != null) {
                int n = c.integer(1, 1024);
                fix(c, String.valueOf(n), b -> b.workerThreads(n));
            }
            if ((c = e.get("transport")) != null) {
                io.refractium.IoTransport t = io.refractium.IoTransport.valueOf(
                        c.oneOf("native", "epoll", "io_uring", "nio").toUpperCase(java.util.Locale.ROOT));
                fix(c, t.name(), b -> b.transport(t));
            }
            if ((c = e.get("splice")) != null) {
                boolean v = c.bool();
                fix(c, String.valueOf(v), b -> b.splice(v));
            }
        }

        void readDns() {
            Cursor d = root.get("dns");
            if (d == null) {
                return;
            }
            d.map(Set.of("servers", "min-ttl", "max-ttl"));
            Cursor servers = d.get("servers");
            if (servers != null) {
                List<InetSocketAddress> list = new ArrayList<>();
                for (Cursor s : servers.list()) {
                    list.add(socketAddress(s, 1));
                }
                List<InetSocketAddress> copy = List.copyOf(list);
                fix(servers, copy.toString(), b -> b.dnsServers(copy));
            }
            durationSetting(d, "min-ttl", false, (b, v) -> b.dnsMinTtl(v));
            durationSetting(d, "max-ttl", false, (b, v) -> b.dnsMaxTtl(v));
        }

        // ---------------------------------------------------------------------------------------------- values

        static Cidr cidr(Cursor c) {
            try {
                return Cidr.parse(c.string());
            } catch (IllegalArgumentException e) {
                throw c.expected("a network such as 10.0.0.0/8 or fd00::/8");
            }
        }

        /** Parses {@code HOST:PORT} (IPv6 in brackets) into a resolved address. */
        static InetSocketAddress socketAddress(Cursor c, int minPort) {
            String text = c.string();
            String expected = "HOST:PORT, with an IPv6 host in brackets such as [::]:443";
            int colon = text.lastIndexOf(':');
            if (colon <= 0) {
                throw c.expected(expected);
            }
            String host = text.substring(0, colon);
            String port = text.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            } else if (host.indexOf(':') >= 0) {
                throw c.expected(expected);
            }
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                    || Integer.parseInt(port) < minPort || Integer.parseInt(port) > 65535) {
                throw c.expected(expected + " and a port " + minPort + "-65535");
            }
            InetSocketAddress a = new InetSocketAddress(host, Integer.parseInt(port));
            if (a.isUnresolved()) {
                throw c.fail(c.shown() + ": host \"" + host + "\" does not resolve (expected: an IP address or a "
                        + "name that resolves)");
            }
            return a;
        }

        static <T> T instantiate(Cursor c, Class<T> type) {
            String name = c.string();
            ClassLoader cl = Thread.currentThread().getContextClassLoader();
            Class<?> cls;
            try {
                cls = Class.forName(name, true, cl != null ? cl : RefractiumConfig.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw c.fail(c.shown() + ": class not found (expected: a class on the class path)");
            }
            if (!type.isAssignableFrom(cls)) {
                throw c.expected("a class that implements " + type.getName());
            }
            try {
                return type.cast(cls.getConstructor().newInstance());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
                throw c.fail(c.shown() + ": cannot be made: " + cause
                        + " (expected: a public class with a public no-argument constructor)");
            }
        }
    }
}
