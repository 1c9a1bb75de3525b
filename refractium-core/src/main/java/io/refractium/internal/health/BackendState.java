package io.refractium.internal.health;

import io.netty.util.NetUtil;
import io.refractium.Backend;
import io.refractium.BackendStatus.Admin;
import io.refractium.BackendStatus.Health;
import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.hook.HealthChange;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The live state of one backend of a target: open client connections, the active check's verdict and the passive
 * ejection. Reads are lock-free (volatile); transitions are synchronized and reported once through the listener.
 * State carries over to a new {@link TargetRuntime} when the routing table changes but the backend stays.
 */
public final class BackendState {

    private static final int MAX_COOLDOWN_DOUBLINGS = 5;

    final Backend backend;
    /** The resolved address to connect to: the IP literal, or one address a named backend resolved to. */
    final InetSocketAddress connectAddress;
    final AtomicInteger active;
    final AtomicLong connectFailures;
    /** What an operator set; shared with the states this one carries over, like {@link #active}. */
    final AtomicReference<Admin> admin;
    private final ForwardTarget target;
    private final Consumer<HealthChange> listener;

    private volatile boolean checkUp;
    private volatile long ejectedUntil;
    private volatile String lastChange = "initial";
    private int checkSuccesses;
    private int checkFailures;
    private int consecutiveConnectFailures;
    private int ejections;

    BackendState(ForwardTarget target, Backend backend, BackendState previous, Consumer<HealthChange> listener) {
        this(target, backend, previous, listener, connectAddress(backend));
    }

    /**
     * Creates the state of a backend.
     *
     * @param connectAddress the resolved address to connect to (one address of a named backend)
     */
    BackendState(ForwardTarget target, Backend backend, BackendState previous, Consumer<HealthChange> listener,
                 InetSocketAddress connectAddress) {
        this.target = target;
        this.backend = backend;
        this.connectAddress = connectAddress;
        this.listener = listener;
        HealthCheck check = target.healthCheck();
        if (previous != null) {
            this.active = previous.active;
            this.connectFailures = previous.connectFailures;
            this.admin = previous.admin;
            synchronized (previous) {
                this.checkUp = check.kind() == HealthCheck.Kind.NONE || previous.checkUp;
                this.ejectedUntil = previous.ejectedUntil;
                this.lastChange = previous.lastChange;
                this.checkSuccesses = previous.checkSuccesses;
                this.checkFailures = previous.checkFailures;
                this.consecutiveConnectFailures = previous.consecutiveConnectFailures;
                this.ejections = previous.ejections;
            }
        } else {
            this.active = new AtomicInteger();
            this.connectFailures = new AtomicLong();
            this.admin = new AtomicReference<>(Admin.ENABLED);
            this.checkUp = check.kind() == HealthCheck.Kind.NONE || check.startsUp();
        }
    }

    /** Returns the configured backend. */
    public Backend backend() {
        return backend;
    }

    /** Returns the resolved address to connect to. */
    public InetSocketAddress connectAddress() {
        return connectAddress;
    }

    private static InetSocketAddress connectAddress(Backend backend) {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(backend.host());
        if (ip == null) {
            return backend.address();
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(backend.host(), ip), backend.port());
        } catch (UnknownHostException e) {
            return backend.address();
        }
    }

    /** This address left its name's DNS answer: it takes no new connection, those it has drain. */
    void removed(String reason) {
        synchronized (this) {
            lastChange = reason + "; draining";
        }
    }

    /** Returns what an operator set. */
    public Admin admin() {
        return admin.get();
    }

    /** Returns whether this state and the other are the same backend of the same target, across table swaps. */
    public boolean isSameBackend(BackendState other) {
        return other != null && other.active == active;
    }

    /** Returns whether an operator lets the backend take new connections. */
    boolean isEnabled() {
        return admin.get() == Admin.ENABLED;
    }

    /** Returns whether the backend may take a new connection as far as health goes. */
    boolean isAvailable() {
        if (!checkUp) {
            return false;
        }
        long until = ejectedUntil;
        return until == 0 || System.nanoTime() - until >= 0;
    }

    Health health() {
        if (!checkUp) {
            return Health.DOWN;
        }
        long until = ejectedUntil;
        return until != 0 && System.nanoTime() - until < 0 ? Health.EJECTED : Health.UP;
    }

    String lastChange() {
        return lastChange;
    }

    /** Returns whether the backend can take one more connection under its cap. */
    boolean hasCapacity() {
        int cap = backend.maxConnections();
        return cap == 0 || active.get() < cap;
    }

    /** Takes one connection slot; returns false when the cap was reached in the meantime. */
    boolean tryAcquire() {
        int cap = backend.maxConnections();
        if (cap == 0) {
            active.incrementAndGet();
            return true;
        }
        for (;;) {
            int n = active.get();
            if (n >= cap) {
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        active.decrementAndGet();
    }

    // ---------------------------------------------------------------- passive health

    /**
     * A connection of real traffic could not be established.
     *
     * @return the cooldown when this failure ejected the backend, else {@code null}
     */
    Duration connectFailed(Throwable cause) {
        connectFailures.incrementAndGet();
        int threshold = target.ejectAfter();
        HealthChange change = null;
        Duration cooldown = null;
        synchronized (this) {
            consecutiveConnectFailures++;
            if (threshold > 0 && consecutiveConnectFailures >= threshold && health() == Health.UP) {
                cooldown = target.ejectionCooldown().multipliedBy(1L << Math.min(ejections, MAX_COOLDOWN_DOUBLINGS));
                ejections++;
                consecutiveConnectFailures = 0;
                ejectedUntil = nonZero(System.nanoTime() + cooldown.toNanos());
                change = change(Health.UP, threshold + " consecutive connect failures (last: " + describe(cause)
                        + "); ejected for " + format(cooldown));
            }
        }
        report(change);
        return cooldown;
    }

    /** A connection of real traffic was established. */
    void connectSucceeded() {
        HealthChange change = null;
        synchronized (this) {
            consecutiveConnectFailures = 0;
            if (ejectedUntil != 0 || ejections != 0) {
                Health before = health();
                ejectedUntil = 0;
                ejections = 0;
                if (before != health()) {
                    change = change(before, "a connection succeeded");
                }
            }
        }
        report(change);
    }

    /** The ejection that ended at {@code until} is over, unless something changed it since. */
    void cooldownOver(long until) {
        HealthChange change = null;
        synchronized (this) {
            if (ejectedUntil == until) {
                ejectedUntil = 0;
                if (checkUp) {
                    lastChange = "ejection cooldown over";
                    change = new HealthChange(target, backend, Health.EJECTED, Health.UP, lastChange);
                }
            }
        }
        report(change);
    }

    long ejectedUntil() {
        return ejectedUntil;
    }

    // ---------------------------------------------------------------- active health

    /** Records one active check's result. */
    void checked(boolean ok, String detail) {
        HealthCheck check = target.healthCheck();
        HealthChange change = null;
        synchronized (this) {
            Health before = health();
            if (ok) {
                checkFailures = 0;
                checkSuccesses++;
                if (!checkUp && checkSuccesses >= check.rise()) {
                    checkUp = true;
                }
                if (ejectedUntil != 0) {
                    ejectedUntil = 0;
                    ejections = 0;
                }
                if (before != health()) {
                    change = change(before, "check passed " + consecutiveText(checkSuccesses));
                }
            } else {
                checkSuccesses = 0;
                checkFailures++;
                if (checkUp && checkFailures >= check.fall()) {
                    checkUp = false;
                    change = change(before, "check failed " + consecutiveText(checkFailures) + " (last: " + detail + ")");
                }
            }
        }
        report(change);
    }

    private HealthChange change(Health before, String reason) {
        lastChange = reason;
        return new HealthChange(target, backend, before, health(), reason);
    }

    private void report(HealthChange change) {
        if (change != null) {
            listener.accept(change);
        }
    }

    private static String consecutiveText(int n) {
        return n == 1 ? "once" : n + " times in a row";
    }

    private static long nonZero(long nanos) {
        return nanos == 0 ? 1 : nanos;
    }

    public static String describe(Throwable cause) {
        String m = cause.getMessage();
        return m == null ? cause.getClass().getSimpleName() : m;
    }

    private static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? TimeUnit.MILLISECONDS.toSeconds(ms) + "s" : ms + "ms";
    }
}
