package io.refractium.metrics;

import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.RoutingTable;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.HealthChange;
import io.refractium.hook.RefusalReason;
import java.net.InetSocketAddress;

/**
 * Receives the events of every connection's path, to count and time them: connections accepted and refused,
 * detection outcomes with each detector's verdict and the time to decision, connect attempts and failures,
 * connections that switched to {@code splice(2)}, limits reached, and each connection's end with its bytes and
 * duration. Values that are states rather than events (open connections, each backend's health and open
 * connections) are not pushed: a recorder reads them from the instance it is {@linkplain #bind bound} to
 * ({@link Refractium#activeConnections()}, {@link Refractium#targets()}) when it is asked for them.
 *
 * <p>Every method has a no-op default. Set a recorder with
 * {@link io.refractium.RefractiumBuilder#metrics(MetricsRecorder)}; the default is {@link #none()}, for which the
 * engine skips every per-connection call, so that an instance without metrics pays nothing for them: no report is
 * built, no clock is read, no method is called per connection. The
 * {@code refractium-micrometer} module provides a recorder for any Micrometer {@code MeterRegistry}.
 *
 * <p>Threading: the per-connection methods are called on the connection's event loop, several event loops at once;
 * an implementation must be thread-safe, must not block, and should not allocate more than it must. The arguments
 * are the engine's own objects: read them during the call, do not keep them ({@link ConnectionInfo} is a live view
 * of a connection that changes after the call). Exceptions thrown by a recorder are not caught: they would break
 * the path of the connection being reported. Don't throw.
 */
public interface MetricsRecorder {

    /**
     * Returns the recorder that records nothing (the default).
     *
     * @return the no-op recorder, one instance
     */
    static MetricsRecorder none() {
        return NoopMetricsRecorder.INSTANCE;
    }

    /**
     * The instance this recorder serves was built: a recorder that reports states (open connections, backends'
     * health) reads them from it from now on. Called once per instance, on the thread that builds it; a recorder
     * given to several instances is bound to each.
     *
     * @param refractium the instance, not started yet
     */
    default void bind(Refractium refractium) {
    }

    /**
     * The instance this recorder serves closed: stop reading from it. Called once, on the thread that closed it.
     *
     * @param refractium the instance
     */
    default void unbind(Refractium refractium) {
    }

    /**
     * The instance's routing table was replaced ({@link Refractium#updateRoutes}); its targets may have changed.
     * Called on the thread that replaced it.
     *
     * @param table the table in use from now on
     */
    default void routesUpdated(RoutingTable table) {
    }

    /**
     * A connection was accepted and admitted.
     *
     * @param listener the local address it connected to
     */
    default void connectionAccepted(InetSocketAddress listener) {
    }

    /**
     * A connection was refused at accept, before any detection: by an {@link io.refractium.AdmissionLimits} limit,
     * or by a full peek memory.
     *
     * @param listener the local address it connected to
     * @param reason why
     */
    default void connectionRefused(InetSocketAddress listener, RefusalReason reason) {
    }

    /**
     * Detection of a connection ended: a protocol matched (and a route took it, or none did), or detection failed
     * (silence, no match, peek cap, deadline, the client left). The report holds the outcome (for a connection
     * meant for the fallback, why: {@link DetectionReport#isFallback()}), each detector's last verdict and the time
     * from accept to decision. Not called with the default recorder, so the report is built only for a real one.
     *
     * @param connection the connection
     * @param report how detection decided
     */
    default void detectionDecided(ConnectionInfo connection, DetectionReport report) {
    }

    /**
     * A connect attempt to a backend of the connection's target starts.
     *
     * @param connection the connection
     * @param target its target
     * @param backend the backend tried (an address of a backend named by host name is one backend)
     */
    default void connectStarted(ConnectionInfo connection, ForwardTarget target, Backend backend) {
    }

    /**
     * A connect attempt succeeded.
     *
     * @param connection the connection
     * @param target its target
     * @param backend the backend
     * @param elapsedNanos the time the attempt took
     */
    default void connectSucceeded(ConnectionInfo connection, ForwardTarget target, Backend backend,
                                  long elapsedNanos) {
    }

    /**
     * A connect attempt failed (refused, reset, timed out, or a local error creating the socket).
     *
     * @param connection the connection
     * @param target its target
     * @param backend the backend
     * @param cause why
     */
    default void connectFailed(ConnectionInfo connection, ForwardTarget target, Backend backend, Throwable cause) {
    }

    /**
     * A direction of the connection switched to {@code splice(2)}; called at most once per connection.
     *
     * @param connection the connection
     */
    default void spliced(ConnectionInfo connection) {
    }

    /**
     * A connection reached a limit that changed its course, other than the admission limits (which
     * {@link #connectionRefused} reports): {@value #LIMIT_MAX_PEEK_BYTES} (detection stopped at the peek cap) or
     * {@value #LIMIT_BACKEND_MAX_CONNECTIONS} (no backend of the target could take it because those eligible were
     * at their connection cap). Other names may be added.
     *
     * @param connection the connection
     * @param limit the limit's setting name
     */
    default void limitReached(ConnectionInfo connection, String limit) {
    }

    /**
     * A backend's health changed (active check, passive ejection, cooldown over). Called on the thread that
     * noticed, an event loop or a health check's.
     *
     * @param change the change
     */
    default void healthChanged(HealthChange change) {
    }

    /**
     * A connection ended, with its bytes each way, duration and reason; called once per accepted connection, on its
     * event loop.
     *
     * @param connection the connection ({@link ConnectionInfo#protocol()} and {@link ConnectionInfo#target()}
     *        {@code null} when not reached)
     * @param summary bytes, duration, reason, backend
     */
    default void connectionClosed(ConnectionInfo connection, ConnectionSummary summary) {
    }

    /** The name {@link #limitReached} gives the peek cap ({@code RefractiumBuilder.maxPeekBytes}). */
    String LIMIT_MAX_PEEK_BYTES = "maxPeekBytes";

    /** The name {@link #limitReached} gives a backend's connection cap ({@code Backend.withMaxConnections}). */
    String LIMIT_BACKEND_MAX_CONNECTIONS = "backend.maxConnections";
}
