package io.refractium.hook;

import io.refractium.ForwardTarget;
import java.net.InetSocketAddress;

/**
 * Observes each connection's path and may refuse or reroute it. Register with
 * {@code RefractiumBuilder.hook(...)}; hooks run in registration order.
 *
 * <p>Every method has a no-op default. Events come in documented pairs for each connection:
 * {@link #onAccepted} then exactly one of {@link #onDetected} / {@link #onDetectionFailed} (unless refused or closed
 * first); {@link #onRouteChosen} once a target is known; for each backend tried, {@link #onBackendConnected} or
 * {@link #onBackendFailed}; and always, last, {@link #onClosed}.
 *
 * <p>Methods are called on the connection's event loop: they must not block. A hook that throws is logged at WARN
 * and treated as if it had returned the default; the connection goes on.
 */
public interface Hook {

    /**
     * A client connected. Return {@link Admission#REFUSE} to close it at once.
     *
     * @param connection the connection
     * @return whether to go on; default {@link Admission#ACCEPT}
     */
    default Admission onAccepted(ConnectionInfo connection) {
        return Admission.ACCEPT;
    }

    /**
     * A detector matched.
     *
     * @param connection the connection, with its protocol and attributes set
     * @param detection the protocol, attributes, bytes read and time taken
     */
    default void onDetected(ConnectionInfo connection, Detection detection) {
    }

    /**
     * Detection ended without a protocol; the connection goes to the fallback or silent-client target, if any.
     *
     * @param connection the connection
     * @param reason why detection failed
     * @param peekedBytes how many bytes the client had sent
     */
    default void onDetectionFailed(ConnectionInfo connection, DetectionFailure reason, int peekedBytes) {
    }

    /**
     * A target was chosen: by a route ({@link ConnectionInfo#route()} set), or the fallback or silent-client
     * target. Return a decision to proceed, refuse, or reroute to another target.
     *
     * @param connection the connection
     * @param target the chosen target
     * @return the decision; default {@link RouteDecision#proceed()}
     */
    default RouteDecision onRouteChosen(ConnectionInfo connection, ForwardTarget target) {
        return RouteDecision.proceed();
    }

    /**
     * The connection to a backend was established; the peeked bytes are replayed next.
     *
     * @param connection the connection
     * @param backend the backend's address
     */
    default void onBackendConnected(ConnectionInfo connection, InetSocketAddress backend) {
    }

    /**
     * Connecting to a backend failed or timed out; the next backend may be tried.
     *
     * @param connection the connection
     * @param backend the backend's address
     * @param cause the failure
     */
    default void onBackendFailed(ConnectionInfo connection, InetSocketAddress backend, Throwable cause) {
    }

    /**
     * A backend's health changed: marked down or up by its active check, ejected after connect failures of real
     * traffic, or restored. Not tied to a connection; called on an event loop thread.
     *
     * @param change the target, the backend, the old and new health and the reason
     */
    default void onHealthChanged(HealthChange change) {
    }

    /**
     * The connection ended; called once for every accepted connection.
     *
     * @param connection the connection
     * @param summary bytes each way, duration, reason, backend
     */
    default void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
    }

    /**
     * A connection was refused by admission ({@code RefractiumBuilder.limits}) or because peek memory was full, and
     * was closed at once. No other event is called for such a connection: it never gets an id, {@link #onAccepted}
     * or {@link #onClosed}. Called on the event loop that accepted it.
     *
     * @param client the client's address
     * @param listener the address of the listener it connected to
     * @param refusal the reason and the limit that was hit
     */
    default void onRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
    }
}
