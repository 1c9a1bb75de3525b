package io.refractium;

import java.util.Objects;

/**
 * A snapshot of one backend's state, as {@link Refractium#targets()} reports it.
 *
 * @param backend the backend
 * @param health whether its health lets it take traffic, and if not, why
 * @param activeConnections client connections open to it now (health checks not counted)
 * @param connectFailures connect failures and timeouts of real traffic since it joined the table
 * @param lastChange the reason of its last health change, or {@code "initial"}
 * @param admin what an operator set: {@link Admin#ENABLED} unless {@linkplain Refractium#drain drained} or
 *        {@linkplain Refractium#disable disabled}
 */
public record BackendStatus(Backend backend, Health health, int activeConnections, long connectFailures,
                            String lastChange, Admin admin) {

    /** A backend's health. */
    public enum Health {
        /** Takes traffic. */
        UP,
        /** Marked down by its active health check. */
        DOWN,
        /** Ejected for a cooldown after consecutive connect failures of real traffic (passive health). */
        EJECTED
    }

    /** What an operator set for a backend, independent of its health. */
    public enum Admin {
        /** Takes new connections when its health allows (the default). */
        ENABLED,
        /** Takes no new connection; its open connections go on until they finish ({@link Refractium#drain}). */
        DRAINING,
        /** Takes no new connection; its open connections were closed ({@link Refractium#disable}). */
        DISABLED
    }

    /** Checks the values. */
    public BackendStatus {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(admin, "admin");
    }

    /**
     * A snapshot of an {@linkplain Admin#ENABLED enabled} backend.
     *
     * @param backend the backend
     * @param health its health
     * @param activeConnections client connections open to it now
     * @param connectFailures connect failures of real traffic
     * @param lastChange the reason of its last health change
     */
    public BackendStatus(Backend backend, Health health, int activeConnections, long connectFailures,
                         String lastChange) {
        this(backend, health, activeConnections, connectFailures, lastChange, Admin.ENABLED);
    }

    /** Returns whether the backend's health lets it take traffic; see {@link #takesNewConnections()} for drains. */
    public boolean isUp() {
        return health == Health.UP;
    }

    /** Returns whether the backend takes new connections: its health is up and it is enabled. */
    public boolean takesNewConnections() {
        return health == Health.UP && admin == Admin.ENABLED;
    }

    /** Returns whether the backend was drained and its last connection has finished. */
    public boolean isDrained() {
        return admin != Admin.ENABLED && activeConnections == 0;
    }
}
