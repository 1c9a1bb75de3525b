package io.refractium.hook;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** A {@link DataHook}'s view of its connection: where it forwards bytes to, and how it closes the connection. */
public interface DataContext {

    /** Returns the connection. */
    ConnectionInfo connection();

    /** Returns the allocator of the connection's channels, for the buffers a hook forwards in place of others. */
    ByteBufAllocator alloc();

    /**
     * Passes bytes on in {@code direction}: to the next data hook of that direction, or, after the last one, to the
     * backend ({@link Direction#CLIENT_TO_BACKEND}) or the client ({@link Direction#BACKEND_TO_CLIENT}). Takes
     * ownership of {@code data}. May be called from any thread (off the event loop the bytes are passed on in the
     * order of the calls, on the event loop). Bytes forwarded after the direction ended ({@link DataHook#onEnd}) or
     * after the connection closed are released and dropped; an empty buffer is released.
     *
     * @param direction which way the bytes go
     * @param data the bytes
     */
    void forward(Direction direction, ByteBuf data);

    /**
     * Closes the connection, both sides, at once; what was forwarded and not yet written may be lost. The reason
     * reaches the hooks' {@link Hook#onClosed} ({@link ConnectionSummary#detail()}) with close reason
     * {@link CloseReason#HOOK_CLOSED}. May be called from any thread.
     *
     * @param reason why, in a few words
     */
    void close(String reason);
}
