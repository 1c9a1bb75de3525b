package io.refractium.internal.health;

import io.netty.channel.EventLoopGroup;
import io.refractium.Backend;
import io.refractium.BackendStatus;
import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.TargetStatus;
import io.refractium.balance.LoadBalancer;
import io.refractium.balance.SelectionContext;
import io.refractium.hook.HealthChange;
import io.refractium.internal.transport.Transports;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link ForwardTarget} at run time: its load-balancing selector, the state of each backend and its active
 * health checks. Shared by every connection routed to the target; kept across routing-table swaps while the
 * target is unchanged, and when it changes, backends that stay keep their state. Thread-safe.
 */
public final class TargetRuntime {

    final ForwardTarget target;
    final BackendState[] backends;
    private final LoadBalancer.Selector selector;
    private final boolean hasBackups;
    private final List<HealthChecker> checkers = new ArrayList<>();
    private EventLoopGroup group;

    /**
     * Creates the runtime of a target.
     *
     * @param target the target
     * @param previous the runtime of the target with the same name in the previous table, or {@code null}
     * @param listener receives health changes
     */
    public TargetRuntime(ForwardTarget target, TargetRuntime previous, Consumer<HealthChange> listener) {
        this.target = target;
        List<Backend> list = target.backends();
        this.backends = new BackendState[list.size()];
        boolean backups = false;
        for (int i = 0; i < backends.length; i++) {
            Backend b = list.get(i);
            backends[i] = new BackendState(target, b, previous == null ? null : previous.state(b.hostAndPort()), listener);
            backups |= b.isBackup();
        }
        this.hasBackups = backups;
        this.selector = target.loadBalancer().newSelector(list);
    }

    /** Returns the target. */
    public ForwardTarget target() {
        return target;
    }

    /** Returns how many backends the target has. */
    public int size() {
        return backends.length;
    }

    /** Returns the state of the backend at an index. */
    public BackendState backend(int index) {
        return backends[index];
    }

    private BackendState state(String hostAndPort) {
        for (BackendState s : backends) {
            if (s.backend.hostAndPort().equals(hostAndPort)) {
                return s;
            }
        }
        return null;
    }

    /** Starts the active checks, if the target has any. Idempotent per runtime; synchronized with {@link #stop()}. */
    public synchronized void start(EventLoopGroup group, Transports transports, AtomicInteger liveCheckers) {
        if (this.group != null) {
            return;
        }
        this.group = group;
        HealthCheck check = target.healthCheck();
        if (check.kind() == HealthCheck.Kind.NONE) {
            return;
        }
        for (BackendState s : backends) {
            HealthChecker c = new HealthChecker(s, check, group.next(), transports, liveCheckers);
            checkers.add(c);
            c.start();
        }
    }

    /** Stops the active checks for good. */
    public synchronized void stop() {
        for (HealthChecker c : checkers) {
            c.stop();
        }
        checkers.clear();
    }

    /**
     * Picks a backend for a connection and takes a connection slot on it.
     *
     * @param tried a bit set of backend indexes this connection already tried, one bit per backend
     * @param client the client's address
     * @param serverName the SNI or Host, or {@code null}
     * @return the chosen backend's index, or {@code -1} when none is eligible
     */
    public int acquire(long[] tried, InetSocketAddress client, String serverName) {
        Context ctx = new Context(tried, client, serverName);
        for (int attempt = 0; attempt < 3; attempt++) {
            ctx.backupTier = false;
            int i = selector.select(ctx);
            if (i < 0 && hasBackups) {
                ctx.backupTier = true;
                i = selector.select(ctx);
            }
            if (i < 0 || i >= backends.length || !ctx.isEligible(i)) {
                return -1;
            }
            if (backends[i].tryAcquire()) {
                return i;
            }
        }
        return -1;
    }

    public void release(int index) {
        backends[index].release();
    }

    /** Reports a connect failure of real traffic (passive health). */
    public void connectFailed(int index, Throwable cause) {
        BackendState s = backends[index];
        Duration cooldown = s.connectFailed(cause);
        EventLoopGroup g = group;
        if (cooldown != null && g != null && !g.isShuttingDown()) {
            long until = s.ejectedUntil();
            g.next().schedule(() -> s.cooldownOver(until), cooldown.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Reports a successful connect of real traffic. */
    public void connectSucceeded(int index) {
        backends[index].connectSucceeded();
    }

    public TargetStatus status() {
        List<BackendStatus> list = new ArrayList<>(backends.length);
        for (BackendState s : backends) {
            list.add(new BackendStatus(s.backend, s.health(), s.active.get(), s.connectFailures.get(), s.lastChange()));
        }
        return new TargetStatus(target, List.copyOf(list));
    }

    private final class Context implements SelectionContext {
        private final long[] tried;
        private final InetSocketAddress client;
        private final String serverName;
        boolean backupTier;

        Context(long[] tried, InetSocketAddress client, String serverName) {
            this.tried = tried;
            this.client = client;
            this.serverName = serverName;
        }

        @Override
        public int size() {
            return backends.length;
        }

        @Override
        public boolean isEligible(int index) {
            if (index < 0 || index >= backends.length) {
                return false;
            }
            BackendState b = backends[index];
            return b.backend.isBackup() == backupTier && b.isAvailable() && b.hasCapacity()
                    && (tried[index >>> 6] & (1L << index)) == 0;
        }

        @Override
        public int activeConnections(int index) {
            return backends[index].active.get();
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
