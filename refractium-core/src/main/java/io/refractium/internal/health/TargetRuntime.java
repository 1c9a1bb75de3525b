package io.refractium.internal.health;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.Backend;
import io.refractium.BackendStatus;
import io.refractium.BackendStatus.Admin;
import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.TargetStatus;
import io.refractium.balance.LoadBalancer;
import io.refractium.balance.SelectionContext;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.hook.HealthChange;
import io.refractium.internal.transport.BackendResolver;
import io.refractium.internal.transport.Transports;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ForwardTarget} at run time: the backends connections choose from, their load-balancing selector, the
 * state of each backend and its active health checks. Shared by every connection routed to the target; kept across
 * routing-table swaps while the target is unchanged, and when it changes, backends that stay keep their state.
 * Thread-safe.
 *
 * <p>A backend given by IP literal is one backend. A backend given by host name is resolved through DNS, never on
 * a connection's path: each address it resolves to is one backend (with the configured weight, backup flag and
 * cap) for the load balancer, the caps and the health checks, and the name is resolved again when the answer's TTL
 * expires. An address that disappears from the answer takes no new connection; the connections it has keep going
 * and stay counted until they close. The set of backends in use is an immutable {@link View}, replaced in one
 * volatile write; a target of IP literals only has one view for its whole life.
 */
public final class TargetRuntime {

    private static final Logger log = LoggerFactory.getLogger(TargetRuntime.class);
    private static final int MAX_RETRY_DOUBLINGS = 5;

    final ForwardTarget target;
    private final Consumer<HealthChange> listener;
    private final Entry[] entries;
    private final boolean hasNames;
    /** Completed once every named backend has had its first answer (or the runtime stopped). */
    private final CompletableFuture<Void> firstAnswers = new CompletableFuture<>();
    private volatile View view;

    // Guarded by this.
    private final List<BackendState> draining = new ArrayList<>();
    private final Map<BackendState, HealthChecker> checkers = new IdentityHashMap<>();
    private EventLoopGroup group;
    private Transports transports;
    private AtomicInteger liveCheckers;
    private BackendResolver resolver;
    private EventLoop dnsLoop;
    private boolean stopped;

    /** The backends new connections choose from, with their selector; immutable. */
    private record View(BackendState[] backends, LoadBalancer.Selector selector, boolean hasBackups) {
    }

    /** One configured backend: an IP literal (one state) or a host name (one state per address it resolves to). */
    private static final class Entry {
        final Backend configured;
        final BackendState literal;
        /** For a name: the states by address, in the order of the last answer. Guarded by the runtime. */
        Map<InetAddress, BackendState> resolved = new LinkedHashMap<>();
        boolean answered;
        Throwable lastError;
        long expiresAtNanos;
        int failures;
        /** For a name: what an operator set for the name, given to addresses it resolves to later. */
        Admin admin = Admin.ENABLED;
        ScheduledFuture<?> timer;

        Entry(Backend configured, BackendState literal) {
            this.configured = configured;
            this.literal = literal;
        }

        boolean isName() {
            return literal == null;
        }
    }

    /**
     * Creates the runtime of a target.
     *
     * @param target the target
     * @param previous the runtime of the target with the same name in the previous table, or {@code null}
     * @param listener receives health changes
     */
    public TargetRuntime(ForwardTarget target, TargetRuntime previous, Consumer<HealthChange> listener) {
        this.target = target;
        this.listener = listener;
        List<Backend> list = target.backends();
        this.entries = new Entry[list.size()];
        boolean names = false;
        for (int i = 0; i < entries.length; i++) {
            Backend b = list.get(i);
            if (isLiteral(b.host())) {
                entries[i] = new Entry(b, new BackendState(target, b, previous == null ? null
                        : previous.literalState(b.hostAndPort()), listener));
            } else {
                names = true;
                entries[i] = new Entry(b, null);
                Entry old = previous == null ? null : previous.nameEntry(b.hostAndPort());
                if (old != null) {
                    synchronized (previous) {
                        for (Map.Entry<InetAddress, BackendState> e : old.resolved.entrySet()) {
                            entries[i].resolved.put(e.getKey(), expanded(b, e.getKey(), e.getValue()));
                        }
                        entries[i].answered = old.answered;
                        entries[i].lastError = old.lastError;
                        entries[i].expiresAtNanos = old.expiresAtNanos;
                        entries[i].admin = old.admin;
                    }
                }
            }
        }
        this.hasNames = names;
        synchronized (this) {
            this.view = newView();
            completeIfAnswered();
        }
    }

    private static boolean isLiteral(String host) {
        return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    }

    /** Returns the state of one address of a named backend, carrying over {@code previous} (may be null). */
    private BackendState expanded(Backend named, InetAddress address, BackendState previous) {
        Backend b = Backend.of(NetUtil.toAddressString(address), named.port()).withWeight(named.weight())
                .withBackup(named.isBackup()).withMaxConnections(named.maxConnections());
        InetSocketAddress connectTo;
        try {
            connectTo = new InetSocketAddress(InetAddress.getByAddress(named.host(), address.getAddress()), named.port());
        } catch (UnknownHostException e) {
            connectTo = new InetSocketAddress(address, named.port());
        }
        return new BackendState(target, b, previous, listener, connectTo);
    }

    private View newView() {
        List<BackendState> states = new ArrayList<>();
        for (Entry e : entries) {
            if (e.isName()) {
                states.addAll(e.resolved.values());
            } else {
                states.add(e.literal);
            }
        }
        List<Backend> backends = new ArrayList<>(states.size());
        boolean backups = false;
        for (BackendState s : states) {
            backends.add(s.backend);
            backups |= s.backend.isBackup();
        }
        LoadBalancer.Selector selector = backends.isEmpty() ? null : target.loadBalancer().newSelector(List.copyOf(backends));
        return new View(states.toArray(new BackendState[0]), selector, backups);
    }

    private BackendState literalState(String hostAndPort) {
        for (Entry e : entries) {
            if (!e.isName() && e.configured.hostAndPort().equals(hostAndPort)) {
                return e.literal;
            }
        }
        return null;
    }

    private Entry nameEntry(String hostAndPort) {
        for (Entry e : entries) {
            if (e.isName() && e.configured.hostAndPort().equals(hostAndPort)) {
                return e;
            }
        }
        return null;
    }

    /** Returns the target. */
    public ForwardTarget target() {
        return target;
    }

    /** Returns the backends new connections choose from now (one per address of a named backend). */
    public List<BackendState> backends() {
        return List.of(view.backends);
    }

    /**
     * Returns a future completed once every named backend has had its first DNS answer (or failure); already
     * complete for a target of IP literals. A connection that finds no backend before then waits for it.
     */
    public CompletableFuture<Void> firstAnswers() {
        return firstAnswers;
    }

    /**
     * Returns why a named backend has no address, as a failure to report for a connection that found no backend,
     * or {@code null} when no named backend failed to resolve.
     */
    public synchronized ResolutionFailure resolutionFailure() {
        for (Entry e : entries) {
            if (e.isName() && e.resolved.isEmpty() && e.lastError != null) {
                return new ResolutionFailure(e.configured, e.lastError);
            }
        }
        return null;
    }

    /**
     * A named backend that has no address because its name did not resolve.
     *
     * @param backend the configured backend
     * @param cause the resolution error
     */
    public record ResolutionFailure(Backend backend, Throwable cause) {
    }

    /**
     * Starts the active checks, if the target has any, and the resolution of named backends. Idempotent per
     * runtime; synchronized with {@link #stop()}.
     *
     * @param group the event loops that run checks, resolutions and ejection timers
     * @param transports the transport of the checks' channels
     * @param liveCheckers counts the running check loops
     * @param resolver resolves named backends
     */
    public synchronized void start(EventLoopGroup group, Transports transports, AtomicInteger liveCheckers,
                                   BackendResolver resolver) {
        if (this.group != null || stopped) {
            return;
        }
        this.group = group;
        this.transports = transports;
        this.liveCheckers = liveCheckers;
        this.resolver = resolver;
        for (BackendState s : view.backends) {
            startChecker(s);
        }
        if (!hasNames) {
            return;
        }
        dnsLoop = group.next();
        long now = System.nanoTime();
        for (Entry e : entries) {
            if (e.isName()) {
                long delay = e.answered ? Math.max(0, e.expiresAtNanos - now) : 0;
                schedule(e, delay);
            }
        }
    }

    private void startChecker(BackendState s) {
        HealthCheck check = target.healthCheck();
        if (group == null || check.kind() == HealthCheck.Kind.NONE || checkers.containsKey(s)) {
            return;
        }
        HealthChecker c = new HealthChecker(s, check, target.sendProxyProtocol(), group.next(), transports,
                liveCheckers);
        checkers.put(s, c);
        c.start();
    }

    private void stopChecker(BackendState s) {
        HealthChecker c = checkers.remove(s);
        if (c != null) {
            c.stop();
        }
    }

    /** Stops the active checks and the resolutions for good. */
    public synchronized void stop() {
        stopped = true;
        for (HealthChecker c : checkers.values()) {
            c.stop();
        }
        checkers.clear();
        for (Entry e : entries) {
            if (e.timer != null) {
                e.timer.cancel(false);
                e.timer = null;
            }
        }
        firstAnswers.complete(null);
    }

    // ---------------------------------------------------------------- DNS

    private void schedule(Entry e, long delayNanos) {
        if (delayNanos <= 0) {
            dnsLoop.execute(() -> resolve(e));
        } else {
            e.timer = dnsLoop.schedule(() -> resolve(e), delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void resolve(Entry e) {
        synchronized (this) {
            if (stopped) {
                return;
            }
        }
        resolver.resolve(dnsLoop, e.configured.host()).addListener(
                (Future<BackendResolver.Resolution> f) -> resolved(e, f));
    }

    private synchronized void resolved(Entry e, Future<BackendResolver.Resolution> f) {
        if (stopped) {
            return;
        }
        Duration next;
        if (f.isSuccess()) {
            BackendResolver.Resolution r = f.getNow();
            Map<InetAddress, BackendState> now = new LinkedHashMap<>();
            for (InetAddress a : r.addresses()) {
                if (now.containsKey(a)) {
                    continue;
                }
                BackendState s = e.resolved.get(a);
                if (s == null) {
                    s = takeDraining(e.configured, a);
                }
                if (s == null) {
                    s = expanded(e.configured, a, null);
                    s.admin.set(e.admin);
                }
                now.put(a, s);
            }
            // The same addresses in another order (DNS servers rotate answers) change nothing.
            boolean changed = !now.keySet().equals(e.resolved.keySet());
            if (!changed) {
                now = e.resolved;
            }
            if (changed || e.lastError != null || !e.answered) {
                log.info("target {} backend {}: resolves to {} (ttl {}s)", target.name(), e.configured.hostAndPort(),
                        now.keySet().stream().map(NetUtil::toAddressString).toList(), r.ttl().toSeconds());
            }
            for (Map.Entry<InetAddress, BackendState> old : e.resolved.entrySet()) {
                if (!now.containsKey(old.getKey())) {
                    BackendState s = old.getValue();
                    stopChecker(s);
                    s.removed("no longer in the DNS answer for " + e.configured.host());
                    draining.add(s);
                }
            }
            e.resolved = now;
            e.lastError = null;
            e.failures = 0;
            next = r.ttl();
            if (changed) {
                view = newView();
                for (BackendState s : now.values()) {
                    startChecker(s);
                }
            }
        } else {
            Throwable cause = f.cause();
            if (e.lastError == null || !String.valueOf(e.lastError.getMessage()).equals(String.valueOf(cause.getMessage()))) {
                log.warn("target {} backend {}: name did not resolve ({}){}", target.name(), e.configured.hostAndPort(),
                        BackendState.describe(cause), e.resolved.isEmpty() ? "" : "; keeping the last addresses");
            }
            e.lastError = cause;
            e.failures++;
            Duration min = resolver.minTtl();
            next = min.multipliedBy(1L << Math.min(e.failures - 1, MAX_RETRY_DOUBLINGS));
            if (next.compareTo(resolver.maxTtl()) > 0) {
                next = resolver.maxTtl();
            }
        }
        pruneDraining();
        e.answered = true;
        e.expiresAtNanos = System.nanoTime() + next.toNanos();
        e.timer = null;
        schedule(e, next.toNanos());
        completeIfAnswered();
    }

    private void completeIfAnswered() {
        for (Entry e : entries) {
            if (e.isName() && !e.answered) {
                return;
            }
        }
        firstAnswers.complete(null);
    }

    /** Takes back a draining state of the same address and port, so that its counts and health carry on. */
    private BackendState takeDraining(Backend named, InetAddress address) {
        for (int i = 0; i < draining.size(); i++) {
            BackendState s = draining.get(i);
            if (s.connectAddress.getPort() == named.port() && s.connectAddress.getAddress().equals(address)) {
                draining.remove(i);
                return expanded(named, address, s);
            }
        }
        return null;
    }

    private void pruneDraining() {
        draining.removeIf(s -> s.active.get() <= 0);
    }

    // ---------------------------------------------------------------- connections

    /**
     * Picks a backend for a connection and takes a connection slot on it.
     *
     * @param tried the backends this connection already tried
     * @param client the client's address
     * @param serverName the SNI or Host, or {@code null}
     * @param protocol the detected protocol id, or {@code null}
     * @param attributes what the detector found
     * @return the chosen backend, its slot taken, or {@code null} when none is eligible
     */
    public BackendState acquire(List<BackendState> tried, InetSocketAddress client, String serverName,
                                String protocol, ProtocolAttributes attributes) {
        View v = view;
        if (v.selector == null) {
            return null;
        }
        Context ctx = new Context(v, tried, client, serverName, protocol, attributes);
        for (int attempt = 0; attempt < 3; attempt++) {
            ctx.backupTier = false;
            int i = v.selector.select(ctx);
            if (i < 0 && v.hasBackups) {
                ctx.backupTier = true;
                i = v.selector.select(ctx);
            }
            if (i < 0 || i >= v.backends.length || !ctx.isEligible(i)) {
                return null;
            }
            if (v.backends[i].tryAcquire()) {
                return v.backends[i];
            }
        }
        return null;
    }

    /** Gives back a connection slot taken by {@link #acquire}. */
    public void release(BackendState backend) {
        backend.release();
    }

    /** Reports a connect failure of real traffic (passive health). */
    public void connectFailed(BackendState s, Throwable cause) {
        Duration cooldown = s.connectFailed(cause);
        EventLoopGroup g;
        synchronized (this) {
            g = group;
        }
        if (cooldown != null && g != null && !g.isShuttingDown()) {
            long until = s.ejectedUntil();
            g.next().schedule(() -> s.cooldownOver(until), cooldown.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Reports a successful connect of real traffic. */
    public void connectSucceeded(BackendState s) {
        s.connectSucceeded();
    }

    /**
     * Returns the state of the target: one entry per backend in use (per address for a named backend), a named
     * backend without any address as {@code DOWN} with the reason, then addresses that left DNS and still have
     * connections.
     */
    public synchronized TargetStatus status() {
        List<BackendStatus> list = new ArrayList<>();
        for (Entry e : entries) {
            if (!e.isName()) {
                list.add(status(e.literal));
            } else if (e.resolved.isEmpty()) {
                String why = e.lastError != null ? "did not resolve: " + BackendState.describe(e.lastError) : "resolving";
                list.add(new BackendStatus(e.configured, BackendStatus.Health.DOWN, 0, 0, why));
            } else {
                for (BackendState s : e.resolved.values()) {
                    list.add(status(s));
                }
            }
        }
        pruneDraining();
        for (BackendState s : draining) {
            list.add(status(s));
        }
        return new TargetStatus(target, List.copyOf(list));
    }

    private static BackendStatus status(BackendState s) {
        return new BackendStatus(s.backend, s.health(), s.active.get(), s.connectFailures.get(), s.lastChange(),
                s.admin.get());
    }

    /**
     * Returns whether a backend that would take new connections (enabled, healthy) is at its connection cap: why a
     * connection found no eligible backend, for metrics. Read without locks.
     */
    public boolean isCapped() {
        for (BackendState b : view.backends) {
            if (b.isEnabled() && b.isAvailable() && !b.hasCapacity()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sets what an operator wants of the backends matching {@code hostAndPort}: a backend given by IP literal, a
     * backend named by host name (all its addresses, and those it resolves to later), or one address of a named
     * backend (including addresses that left DNS and still have connections).
     *
     * @param hostAndPort the backend, as {@link Backend#hostAndPort()} spells it
     * @param admin the new state
     * @return the states changed (empty for a name without addresses yet), or {@code null} when nothing matched
     */
    public synchronized List<BackendState> admin(String hostAndPort, Admin admin) {
        List<BackendState> matched = new ArrayList<>();
        boolean known = false;
        for (Entry e : entries) {
            if (e.isName()) {
                boolean whole = e.configured.hostAndPort().equals(hostAndPort);
                if (whole) {
                    e.admin = admin;
                    known = true;
                }
                for (BackendState s : e.resolved.values()) {
                    if (whole || s.backend.hostAndPort().equals(hostAndPort)) {
                        matched.add(s);
                    }
                }
            } else if (e.configured.hostAndPort().equals(hostAndPort)) {
                matched.add(e.literal);
            }
        }
        for (BackendState s : draining) {
            if (s.backend.hostAndPort().equals(hostAndPort)) {
                matched.add(s);
            }
        }
        if (matched.isEmpty() && !known) {
            return null;
        }
        for (BackendState s : matched) {
            s.admin.set(admin);
        }
        return matched;
    }

    private static final class Context implements SelectionContext {
        private final View view;
        private final List<BackendState> tried;
        private final InetSocketAddress client;
        private final String serverName;
        private final String protocol;
        private final ProtocolAttributes attributes;
        boolean backupTier;

        Context(View view, List<BackendState> tried, InetSocketAddress client, String serverName, String protocol,
                ProtocolAttributes attributes) {
            this.view = view;
            this.tried = tried;
            this.client = client;
            this.serverName = serverName;
            this.protocol = protocol;
            this.attributes = attributes;
        }

        @Override
        public String protocol() {
            return protocol;
        }

        @Override
        public ProtocolAttributes attributes() {
            return attributes;
        }

        @Override
        public int size() {
            return view.backends.length;
        }

        @Override
        public boolean isEligible(int index) {
            if (index < 0 || index >= view.backends.length) {
                return false;
            }
            BackendState b = view.backends[index];
            if (b.backend.isBackup() != backupTier || !b.isEnabled() || !b.isAvailable() || !b.hasCapacity()) {
                return false;
            }
            for (int i = 0, n = tried.size(); i < n; i++) {
                if (tried.get(i) == b) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int activeConnections(int index) {
            return view.backends[index].active.get();
        }

        @Override
        public InetSocketAddress clientAddress() {
            return client;
        }

        @Override
        public String serverName() {
            return serverName;
        }
    }
}
