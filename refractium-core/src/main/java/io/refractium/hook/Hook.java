package io.refractium.hook;

import io.refractium.ForwardTarget;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Observes each connection's path and may refuse or reroute it. Register one instance for every connection with
 * {@code RefractiumBuilder.hook(...)}, or a {@link HookFactory} that makes one per connection with
 * {@code RefractiumBuilder.hookFactory(...)}. For each connection the hooks added with {@code hook(...)} run first,
 * in the order added, then those of the factories, in the order the factories were added.
 *
 * <p>Every method has a no-op default. Events come in documented pairs for each connection:
 * {@link #onAccepted} then exactly one of {@link #onDetected} / {@link #onDetectionFailed} (unless refused or closed
 * first); {@link #onRouteChosen} once a target is known; for each backend tried, {@link #onBackendConnected} or
 * {@link #onBackendFailed}; and always, last, {@link #onClosed}. Pairing holds per hook: a hook that was asked
 * {@link #onAccepted} gets {@link #onClosed}, even when a later hook refused the connection; a hook that was never
 * asked (an earlier hook refused first) gets no event of that connection at all. A connection refused before the
 * hooks are asked {@link #onAccepted} (by the admission limits, a full peek memory, or the PROXY protocol header
 * stage) is reported once, to {@link #onRefused}, and gets no other event.
 *
 * <p>Methods are called on the connection's event loop: they must not block. The two verdict points,
 * {@link #onAccepted} and {@link #onRouteChosen}, may instead answer later: override {@link #onAcceptedAsync} or
 * {@link #onRouteChosenAsync} and return a {@link CompletionStage} (an authentication or reputation lookup). The
 * connection then waits, without blocking its event loop, up to the hook decision timeout
 * ({@code RefractiumBuilder.hookDecisionTimeout}); the stage may complete on any thread, and the connection goes on
 * on its own event loop. The bytes the client sends meanwhile are kept (and count against the peek memory limit);
 * reading pauses when they reach the peek cap. While the route decision is pending detection is over, so the
 * detection deadline no longer runs; while the admission is pending detection has not started, and its deadlines
 * start once the connection is admitted. Hooks that override neither asynchronous method cost nothing extra.
 *
 * <p>A UDP flow ({@code RefractiumBuilder.listenUdp}: the datagrams of one client address and port) is a connection
 * to hooks, with the same pairs: {@link #onAccepted} on its first datagram; {@link #onDetected} or
 * {@link #onDetectionFailed}; {@link #onRouteChosen}; {@link #onBackendConnected} once the flow's datagram socket is
 * connected to the backend (UDP has no handshake: a backend that is not there shows up later, as
 * {@link #onBackendFailed} with a {@link java.net.PortUnreachableException}, when the ICMP error arrives, and the
 * flow then ends); and {@link #onClosed} when the flow leaves its listener's table, with the bytes of its datagrams
 * each way: {@link CloseReason#IDLE_TIMEOUT} when it idled out or was evicted from a full table (the summary's
 * detail says which), {@link CloseReason#SHUTDOWN} on close, or the reason it was kept without a backend
 * ({@link CloseReason#DETECTION_FAILED}, {@link CloseReason#NO_ROUTE}, {@link CloseReason#REFUSED},
 * {@link CloseReason#BACKEND_UNAVAILABLE}): such a flow stays in the table, its datagrams dropped, until it idles
 * out. A datagram that would start a flow over the UDP caps gets {@link #onRefused}. The flow's
 * {@link ConnectionInfo#clientAddress()} changes when a QUIC client moves to another address and the flow follows
 * it by connection id.
 *
 * <p>A hook that throws at a verdict point, or whose stage completes exceptionally or not in time, is handled by
 * the hook failure policy ({@link HookFailurePolicy}, by default {@link HookFailurePolicy#FAIL_CLOSED}: the
 * connection is refused). A hook that throws elsewhere is logged at WARN and ignored; the connection goes on.
 */
public interface Hook {

    /**
     * A client connected. Return {@link Admission#REFUSE} to close it at once.
     *
     * <p>On a listener that receives the PROXY protocol, asked only once the header stage is over: the header was
     * read (or, on an optional listener, found absent), {@link ConnectionInfo#clientAddress()} is the real client's
     * and {@link ConnectionInfo#proxyHeader()} is set, and the per-address admission limits passed for that address.
     * A connection refused at the header stage gets {@link #onRefused} instead; one whose client leaves before the
     * header is complete gets no event at all.
     *
     * @param connection the connection
     * @return whether to go on; default {@link Admission#ACCEPT}
     */
    default Admission onAccepted(ConnectionInfo connection) {
        return Admission.ACCEPT;
    }

    /**
     * A client connected; the asynchronous form of {@link #onAccepted}. Override it instead of
     * {@link #onAccepted} to answer later; the hooks after this one are asked only once the stage has completed
     * with {@link Admission#ACCEPT}. The stage may complete on any thread. The default returns a completed stage
     * with {@link #onAccepted}'s answer (the engine calls {@link #onAccepted} directly when this method is not
     * overridden, without allocating a stage).
     *
     * @param connection the connection
     * @return the answer; completing with {@code null}, exceptionally, or not within the hook decision timeout is
     *         a hook failure ({@link HookFailurePolicy})
     */
    default CompletionStage<Admission> onAcceptedAsync(ConnectionInfo connection) {
        return CompletableFuture.completedFuture(onAccepted(connection));
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
     * A target was chosen; the asynchronous form of {@link #onRouteChosen}. Override it instead of
     * {@link #onRouteChosen} to answer later; the hooks after this one are asked only once the stage has completed
     * with {@link RouteDecision#proceed()}. The stage may complete on any thread. The default returns a completed
     * stage with {@link #onRouteChosen}'s answer (the engine calls {@link #onRouteChosen} directly when this method
     * is not overridden, without allocating a stage).
     *
     * @param connection the connection
     * @param target the chosen target
     * @return the decision; completing exceptionally or not within the hook decision timeout is a hook failure
     *         ({@link HookFailurePolicy}); completing with {@code null} means proceed
     */
    default CompletionStage<RouteDecision> onRouteChosenAsync(ConnectionInfo connection, ForwardTarget target) {
        return CompletableFuture.completedFuture(onRouteChosen(connection, target));
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
     * The connection ended; called once, last, for every connection this hook was asked {@link #onAccepted}
     * about. A refusal's reason is in {@link ConnectionSummary#detail()}.
     *
     * @param connection the connection
     * @param summary bytes each way, duration, reason, backend
     */
    default void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
    }

    /**
     * A connection was refused before any hook was asked {@link #onAccepted}, and was closed at once (with a reset
     * when {@code AdmissionLimits.rejectWithRst} is set); the reason is also counted in
     * {@code Refractium.refusals()}. It is called:
     * <ul>
     * <li>at accept, by the admission limits ({@code RefractiumBuilder.limits}) or because peek memory was full;</li>
     * <li>on a listener that receives the PROXY protocol, at the header stage: a header from an untrusted source,
     *     a missing required header, a malformed one, or none complete by the detection deadline (the
     *     {@code PROXY_HEADER_*} reasons, with {@code client} the socket's peer address); and, for a connection
     *     from a trusted source, the per-address limits (lists, rate, per-address cap), which are checked only once
     *     the header has named the real client, and then against that address.</li>
     * </ul>
     * No other event is called for such a connection: no {@link #onAccepted} and no {@link #onClosed} (one refused
     * at the header stage has an id in the logs, but no hook hears of it otherwise). Only the hooks added with
     * {@code RefractiumBuilder.hook} get it: a {@link HookFactory} makes no hook for a refused connection. Called on
     * the connection's event loop.
     *
     * @param client the client's address: the real one when a trusted PROXY header gave it, else the socket's peer
     * @param listener the address of the listener it connected to
     * @param refusal the reason and the limit that was hit
     */
    default void onRefused(InetSocketAddress client, InetSocketAddress listener, Refusal refusal) {
    }
}
