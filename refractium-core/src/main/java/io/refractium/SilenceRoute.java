package io.refractium;

import java.time.Duration;
import java.util.Objects;

/**
 * Where clients that send nothing go (server-speaks-first protocols such as SSH, SMTP or MySQL, whose clients
 * wait for the server's greeting), and how long to wait for their first byte: for one listener port, or the
 * table-wide default for every listener that has none of its own.
 *
 * <p>Silence is decided per listener: a connection waits for silence only when its listener has a silence route
 * (its own or the default), and only for that route's deadline; a listener without one waits for the detection
 * deadline, after which a client that sent nothing goes to the fallback target (or is closed). Immutable.
 *
 * @param listenerPort the local port the route applies to, or {@code -1} for the default of every other listener
 * @param target where silent clients go
 * @param timeout how long to wait for a first byte, or {@code null} for the instance's
 *        {@link RefractiumBuilder#silenceTimeout(Duration) silenceTimeout}
 */
public record SilenceRoute(int listenerPort, ForwardTarget target, Duration timeout) {

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException naming the value when the port is not {@code -1} or 1-65535, or the timeout
     *         is not positive
     */
    public SilenceRoute {
        Objects.requireNonNull(target, "target");
        if (listenerPort != -1 && (listenerPort < 1 || listenerPort > 65535)) {
            throw new IllegalArgumentException("onSilence listener: " + listenerPort
                    + " (expected: a port 1-65535)");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("onSilence timeout: " + timeout + " (expected: > 0)");
        }
    }

    /** Returns whether this is the default for listeners without a silence route of their own. */
    public boolean isDefault() {
        return listenerPort < 0;
    }

    /**
     * Returns the deadline, this route's own or the given default.
     *
     * @param instanceDefault the instance's silence timeout
     * @return the deadline
     */
    public Duration timeoutOr(Duration instanceDefault) {
        return timeout != null ? timeout : instanceDefault;
    }

    @Override
    public String toString() {
        return (listenerPort < 0 ? "*" : ":" + listenerPort) + " -> " + target.name()
                + (timeout == null ? "" : " after " + timeout);
    }
}
