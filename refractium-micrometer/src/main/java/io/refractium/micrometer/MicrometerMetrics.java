package io.refractium.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.refractium.Backend;
import io.refractium.BackendStatus;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.RoutingTable;
import io.refractium.TargetStatus;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.HealthChange;
import io.refractium.hook.RefusalReason;
import io.refractium.metrics.MetricsRecorder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A {@link MetricsRecorder} that records into a Micrometer {@link MeterRegistry}:
 *
 * <pre>{@code
 * MeterRegistry registry = ...;                       // Prometheus, OTLP, JMX, ...
 * Refractium proxy = Refractium.builder()
 *     .metrics(MicrometerMetrics.of(registry))
 *     ...
 *     .build().start();
 * }</pre>
 *
 * <p>The meters, with their tags (values are lower case; {@code none} where a connection had no protocol or
 * target; {@code backend} is {@code HOST:PORT}, {@code listener} the local {@code ADDRESS:PORT}):
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@code refractium.connections.accepted}</td><td>counter</td><td>listener</td>
 *       <td>connections admitted</td></tr>
 *   <tr><td>{@code refractium.connections.refused}</td><td>counter</td><td>listener, reason</td>
 *       <td>connections refused at accept, by {@link RefusalReason}</td></tr>
 *   <tr><td>{@code refractium.connections.active}</td><td>gauge</td><td></td>
 *       <td>client connections open now, in any phase</td></tr>
 *   <tr><td>{@code refractium.connections.closed}</td><td>counter</td><td>protocol, target, reason</td>
 *       <td>connections ended, by {@link io.refractium.hook.CloseReason}</td></tr>
 *   <tr><td>{@code refractium.connection.duration}</td><td>timer</td><td>protocol, target</td>
 *       <td>from accept to close</td></tr>
 *   <tr><td>{@code refractium.bytes}</td><td>counter (bytes)</td><td>direction ({@code from_client},
 *       {@code to_client}), protocol, target</td><td>bytes relayed, counted when a connection ends</td></tr>
 *   <tr><td>{@code refractium.detection}</td><td>timer</td><td>protocol, outcome</td>
 *       <td>time from accept to the detection decision, by {@link DetectionReport.Outcome}</td></tr>
 *   <tr><td>{@code refractium.detector.bytes}</td><td>distribution summary (bytes)</td><td>detector, verdict</td>
 *       <td>each detector's last verdict per connection, and the bytes it had seen then</td></tr>
 *   <tr><td>{@code refractium.fallbacks}</td><td>counter</td><td>reason</td>
 *       <td>connections meant for the fallback or silence target, by outcome ({@code no_route}, {@code no_match},
 *       {@code silence}, ...)</td></tr>
 *   <tr><td>{@code refractium.backend.connect.attempts}</td><td>counter</td><td>target, backend</td>
 *       <td>connect attempts</td></tr>
 *   <tr><td>{@code refractium.backend.connect.failures}</td><td>counter</td><td>target, backend</td>
 *       <td>failed attempts (refused, reset, timed out, local errors)</td></tr>
 *   <tr><td>{@code refractium.backend.connect.time}</td><td>timer</td><td>target, backend</td>
 *       <td>time of successful attempts</td></tr>
 *   <tr><td>{@code refractium.backend.active}</td><td>gauge</td><td>target, backend</td>
 *       <td>client connections open to the backend now</td></tr>
 *   <tr><td>{@code refractium.backend.up}</td><td>gauge</td><td>target, backend</td>
 *       <td>1 when the backend takes new connections (healthy and enabled), else 0</td></tr>
 *   <tr><td>{@code refractium.backend.health.changes}</td><td>counter</td><td>target, backend, health</td>
 *       <td>health changes, by the new health</td></tr>
 *   <tr><td>{@code refractium.connections.spliced}</td><td>counter</td><td></td>
 *       <td>connections a direction of which switched to {@code splice(2)}</td></tr>
 *   <tr><td>{@code refractium.limits.reached}</td><td>counter</td><td>limit</td>
 *       <td>{@link MetricsRecorder#limitReached limits} that changed a connection's course</td></tr>
 * </table>
 *
 * <p>The gauges read the instances the recorder is bound to (the builder binds it): one recorder may serve several
 * instances, whose open connections it adds up; to tell them apart, give each its own recorder with
 * {@linkplain #of(MeterRegistry, Iterable) common tags}. The backend gauges list the backends of the bound
 * instances' tables: the list is refreshed when a table is replaced, a backend's health changes, or an instance is
 * bound or closed; their values are read on each scrape, from a status at most {@value #STATUS_CACHE_MILLIS} ms old.
 *
 * <p>Thread-safe. Meters are created on first use and cached, so an event costs a map lookup and an increment.
 */
public final class MicrometerMetrics implements MetricsRecorder {

    /** How long the backend gauges reuse one reading of the instances' target status. */
    static final long STATUS_CACHE_MILLIS = 100;

    private static final String NONE = "none";

    private final MeterRegistry registry;
    private final Tags common;
    private final List<Refractium> bound = new CopyOnWriteArrayList<>();
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();
    private final Map<Key, Timer> timers = new ConcurrentHashMap<>();
    private final Map<Key, DistributionSummary> summaries = new ConcurrentHashMap<>();
    private final MultiGauge backendActive;
    private final MultiGauge backendUp;
    private final Counter spliced;
    private volatile Map<List<String>, BackendStatus> statusCache = Map.of();
    private volatile long statusCachedAt;

    /** A cache key: the meter's name and its tag values, in order. */
    private record Key(String name, Object a, Object b, Object c) {
    }

    private MicrometerMetrics(MeterRegistry registry, Iterable<Tag> commonTags) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.common = Tags.of(Objects.requireNonNull(commonTags, "commonTags"));
        Gauge.builder("refractium.connections.active", bound, MicrometerMetrics::activeConnections)
                .description("client connections open now, in any phase").tags(common).register(registry);
        this.backendActive = MultiGauge.builder("refractium.backend.active")
                .description("client connections open to the backend now").tags(common).register(registry);
        this.backendUp = MultiGauge.builder("refractium.backend.up")
                .description("1 when the backend takes new connections (healthy and enabled), else 0")
                .tags(common).register(registry);
        this.spliced = Counter.builder("refractium.connections.spliced")
                .description("connections a direction of which switched to splice(2)").tags(common).register(registry);
    }

    /**
     * Returns a recorder into the registry.
     *
     * @param registry the registry
     * @return the recorder
     */
    public static MicrometerMetrics of(MeterRegistry registry) {
        return new MicrometerMetrics(registry, Tags.empty());
    }

    /**
     * Returns a recorder into the registry that adds the tags to every meter (for example the instance's name).
     *
     * @param registry the registry
     * @param commonTags tags on every meter
     * @return the recorder
     */
    public static MicrometerMetrics of(MeterRegistry registry, Iterable<Tag> commonTags) {
        return new MicrometerMetrics(registry, commonTags);
    }

    /** Returns the registry meters go to. */
    public MeterRegistry registry() {
        return registry;
    }

    private static int activeConnections(List<Refractium> instances) {
        int n = 0;
        for (Refractium r : instances) {
            n += r.activeConnections();
        }
        return n;
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void bind(Refractium refractium) {
        bound.add(refractium);
        refreshBackends();
    }

    @Override
    public void unbind(Refractium refractium) {
        bound.remove(refractium);
        refreshBackends();
    }

    @Override
    public void routesUpdated(RoutingTable table) {
        refreshBackends();
    }

    @Override
    public void healthChanged(HealthChange change) {
        counter("refractium.backend.health.changes", "health changes, by the new health",
                change.target().name(), change.backend().hostAndPort(), change.current(),
                k -> Tags.of("target", k.a().toString(), "backend", k.b().toString(), "health", lower(k.c())))
                .increment();
        refreshBackends();
    }

    /** Lists the backends of the bound instances in the backend gauges. */
    private synchronized void refreshBackends() {
        List<MultiGauge.Row<?>> active = new ArrayList<>();
        List<MultiGauge.Row<?>> up = new ArrayList<>();
        for (Refractium r : bound) {
            for (TargetStatus t : r.targets()) {
                for (BackendStatus b : t.backends()) {
                    List<String> key = List.of(t.name(), b.backend().hostAndPort());
                    Tags tags = Tags.of("target", t.name(), "backend", b.backend().hostAndPort());
                    active.add(MultiGauge.Row.of(tags, () -> {
                        BackendStatus s = status(key);
                        return s == null ? 0 : s.activeConnections();
                    }));
                    up.add(MultiGauge.Row.of(tags, () -> {
                        BackendStatus s = status(key);
                        return s != null && s.takesNewConnections() ? 1 : 0;
                    }));
                }
            }
        }
        backendActive.register(active, true);
        backendUp.register(up, true);
        statusCachedAt = 0;
    }

    /** Returns a backend's status from a reading at most {@link #STATUS_CACHE_MILLIS} old. */
    private BackendStatus status(List<String> key) {
        long now = System.nanoTime();
        Map<List<String>, BackendStatus> m = statusCache;
        if (statusCachedAt == 0 || now - statusCachedAt > TimeUnit.MILLISECONDS.toNanos(STATUS_CACHE_MILLIS)) {
            m = new HashMap<>();
            for (Refractium r : bound) {
                for (TargetStatus t : r.targets()) {
                    for (BackendStatus b : t.backends()) {
                        m.merge(List.of(t.name(), b.backend().hostAndPort()), b, MicrometerMetrics::sum);
                    }
                }
            }
            statusCache = m;
            statusCachedAt = now == 0 ? 1 : now;
        }
        return m.get(key);
    }

    /** Two instances with the same target and backend: their connections add up; either taking new ones counts. */
    private static BackendStatus sum(BackendStatus x, BackendStatus y) {
        BackendStatus up = y.takesNewConnections() ? y : x;
        return new BackendStatus(up.backend(), up.health(), x.activeConnections() + y.activeConnections(),
                x.connectFailures() + y.connectFailures(), up.lastChange(), up.admin());
    }

    // ---------------------------------------------------------------- connection events

    @Override
    public void connectionAccepted(InetSocketAddress listener) {
        counter("refractium.connections.accepted", "connections admitted", listener, null, null,
                k -> Tags.of("listener", address(k.a()))).increment();
    }

    @Override
    public void connectionRefused(InetSocketAddress listener, RefusalReason reason) {
        counter("refractium.connections.refused", "connections refused at accept", listener, reason, null,
                k -> Tags.of("listener", address(k.a()), "reason", lower(k.b()))).increment();
    }

    @Override
    public void detectionDecided(ConnectionInfo connection, DetectionReport report) {
        String protocol = orNone(report.protocol());
        timer("refractium.detection", "time from accept to the detection decision", protocol, report.outcome(), null,
                k -> Tags.of("protocol", k.a().toString(), "outcome", lower(k.b())))
                .record(report.elapsed().toNanos(), TimeUnit.NANOSECONDS);
        for (DetectionReport.DetectorVerdict v : report.verdicts()) {
            summaries.computeIfAbsent(new Key("refractium.detector.bytes", v.detector(), v.verdict(), null),
                    k -> DistributionSummary.builder(k.name())
                            .description("each detector's last verdict per connection, and the bytes it had seen")
                            .baseUnit("bytes").tags(common)
                            .tags(Tags.of("detector", k.a().toString(), "verdict", lower(k.b())))
                            .register(registry))
                    .record(v.bytes());
        }
        if (report.isFallback()) {
            counter("refractium.fallbacks", "connections meant for the fallback or silence target, by outcome",
                    report.outcome(), null, null, k -> Tags.of("reason", lower(k.a()))).increment();
        }
    }

    @Override
    public void connectStarted(ConnectionInfo connection, ForwardTarget target, Backend backend) {
        counter("refractium.backend.connect.attempts", "connect attempts", target.name(), backend.hostAndPort(),
                null, MicrometerMetrics::backendTags).increment();
    }

    @Override
    public void connectSucceeded(ConnectionInfo connection, ForwardTarget target, Backend backend,
                                 long elapsedNanos) {
        timer("refractium.backend.connect.time", "time of successful connect attempts", target.name(),
                backend.hostAndPort(), null, MicrometerMetrics::backendTags)
                .record(elapsedNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void connectFailed(ConnectionInfo connection, ForwardTarget target, Backend backend, Throwable cause) {
        counter("refractium.backend.connect.failures", "failed connect attempts", target.name(),
                backend.hostAndPort(), null, MicrometerMetrics::backendTags).increment();
    }

    @Override
    public void spliced(ConnectionInfo connection) {
        spliced.increment();
    }

    @Override
    public void limitReached(ConnectionInfo connection, String limit) {
        counter("refractium.limits.reached", "limits that changed a connection's course", limit, null, null,
                k -> Tags.of("limit", k.a().toString())).increment();
    }

    @Override
    public void connectionClosed(ConnectionInfo connection, ConnectionSummary summary) {
        String protocol = orNone(connection.protocol());
        String target = connection.target() == null ? NONE : connection.target().name();
        counter("refractium.connections.closed", "connections ended, by reason", protocol, target, summary.reason(),
                k -> Tags.of("protocol", k.a().toString(), "target", k.b().toString(), "reason", lower(k.c())))
                .increment();
        timer("refractium.connection.duration", "from accept to close", protocol, target, null,
                k -> Tags.of("protocol", k.a().toString(), "target", k.b().toString()))
                .record(summary.duration().toNanos(), TimeUnit.NANOSECONDS);
        if (summary.bytesFromClient() > 0) {
            bytes("from_client", protocol, target).increment(summary.bytesFromClient());
        }
        if (summary.bytesToClient() > 0) {
            bytes("to_client", protocol, target).increment(summary.bytesToClient());
        }
    }

    private Counter bytes(String direction, String protocol, String target) {
        return counters.computeIfAbsent(new Key("refractium.bytes", direction, protocol, target),
                k -> Counter.builder(k.name()).description("bytes relayed, counted when a connection ends")
                        .baseUnit("bytes").tags(common)
                        .tags(Tags.of("direction", k.a().toString(), "protocol", k.b().toString(),
                                "target", k.c().toString()))
                        .register(registry));
    }

    // ---------------------------------------------------------------- meters

    private Counter counter(String name, String description, Object a, Object b, Object c,
                            Function<Key, Tags> tags) {
        return counters.computeIfAbsent(new Key(name, a, b, c), k -> Counter.builder(name).description(description)
                .tags(common).tags(tags.apply(k)).register(registry));
    }

    private Timer timer(String name, String description, Object a, Object b, Object c, Function<Key, Tags> tags) {
        return timers.computeIfAbsent(new Key(name, a, b, c), k -> Timer.builder(name).description(description)
                .tags(common).tags(tags.apply(k)).register(registry));
    }

    private static Tags backendTags(Key k) {
        return Tags.of("target", k.a().toString(), "backend", k.b().toString());
    }

    private static String lower(Object enumValue) {
        return enumValue.toString().toLowerCase(Locale.ROOT);
    }

    private static String orNone(String s) {
        return s == null ? NONE : s;
    }

    private static String address(Object listener) {
        if (!(listener instanceof InetSocketAddress)) {
            return NONE;
        }
        InetSocketAddress a = (InetSocketAddress) listener;
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
