package io.refractium.hook;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The end of a connection: bytes each way, how long it lasted, why it ended and which backend served it.
 *
 * @param bytesFromClient bytes received from the client, peeked bytes included
 * @param bytesToClient bytes received from the backend for the client
 * @param duration the time from accept to close
 * @param reason why the connection ended
 * @param backend the backend it was connected to, or {@code null} when none was
 * @param detail why, in words, when known, else {@code null}: for {@link CloseReason#REFUSED} the refusing hook's
 *        reason ({@link RouteDecision#refusal()}, or which hook refused admission) or the hook failure that the
 *        fail-closed policy turned into a refusal
 */
public record ConnectionSummary(long bytesFromClient, long bytesToClient, Duration duration, CloseReason reason,
                                InetSocketAddress backend, String detail) {

    /**
     * A summary without a detail.
     *
     * @param bytesFromClient bytes received from the client, peeked bytes included
     * @param bytesToClient bytes received from the backend for the client
     * @param duration the time from accept to close
     * @param reason why the connection ended
     * @param backend the backend it was connected to, or {@code null} when none was
     */
    public ConnectionSummary(long bytesFromClient, long bytesToClient, Duration duration, CloseReason reason,
                             InetSocketAddress backend) {
        this(bytesFromClient, bytesToClient, duration, reason, backend, null);
    }
}
