package io.refractium;

/**
 * A snapshot of one backend's state, as {@link Refractium#targets()} reports it.
 *
 * @param backend the backend
 * @param health whether it takes traffic, and if not, why
 * @param activeConnections client connections open to it now (health checks not counted)
 * @param connectFailures connect failures and timeouts of real traffic since it joined the table
 * @param lastChange the reason of its last health change, or {@code "initial"}
 */
public record BackendStatus(Backend backend, Health health, int activeConnections, long connectFailures,
                            String lastChange) {

    /** A backend's health. */
    public enum Health {
        /** Takes traffic. */
        UP,
        /** Marked down by its active health check. */
        DOWN,
        /** Ejected for a cooldown after consecutive connect failures of real traffic (passive health). */
        EJECTED
    }

    /** Returns whether the backend takes traffic. */
    public boolean isUp() {
        return health == Health.UP;
    }
}
