package io.refractium.hook;

import java.nio.ByteBuffer;

/**
 * Receives read-only copies of a connection's bytes, off the event loop: for recording, metering or analysis that
 * must not slow the connection down. Register with {@code RefractiumBuilder.tap(...)}.
 *
 * <p>Each tap has one thread of its own and a queue bounded in bytes. The event loop copies the bytes it reads from
 * the client and from the backend, as they arrived (before any {@link DataHook} changes them), and queues the copy;
 * when the queue is full, the copy is not made and the bytes are counted as dropped for the tap and for the
 * connection: {@link #onClosed} reports them, {@code Refractium.taps()} totals them, and the first drop (then every
 * power of two) is logged at WARN. A tapped connection is relayed by copying buffers, never with {@code splice(2)}.
 *
 * <p>{@link #onData} and {@link #onClosed} run on the tap's thread, in order for each connection; a method that
 * throws is logged at WARN and the tap goes on with the next event.
 */
public interface Tap {

    /**
     * Whether to tap this connection; called once per connection, on its event loop, when its backend has
     * connected. A connection no tap wants (and without a data hook) keeps the {@code splice(2)} path when splicing is
     * on. The default
     * taps every connection.
     *
     * @param connection the connection, with its protocol, route and target known
     * @return whether to tap it
     */
    default boolean wants(ConnectionInfo connection) {
        return true;
    }

    /**
     * A copy of bytes the connection carried.
     *
     * @param connectionId the connection's id ({@link ConnectionInfo#id()})
     * @param direction which way the bytes moved
     * @param data a read-only copy, never empty
     */
    void onData(long connectionId, Direction direction, ByteBuffer data);

    /**
     * The connection ended; called once, after its last {@link #onData}. The default does nothing.
     *
     * @param connectionId the connection's id
     * @param summary bytes each way, duration, reason, backend
     * @param droppedBytes how many of the connection's bytes this tap did not get because its queue was full
     */
    default void onClosed(long connectionId, ConnectionSummary summary, long droppedBytes) {
    }
}
