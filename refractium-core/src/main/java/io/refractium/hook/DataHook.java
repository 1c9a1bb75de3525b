package io.refractium.hook;

import io.netty.buffer.ByteBuf;

/**
 * Sees every byte of a connection, in order, in both directions, and decides what is passed on: the bytes as they
 * are, other bytes in their place, nothing, or more. Made per connection by a {@link DataHookFactory}; a connection
 * that has a data hook is relayed by copying buffers (never with {@code splice(2)}); one without keeps the splice
 * path when splicing is on ({@code RefractiumBuilder.splice}).
 *
 * <p>What a hook may do with the bytes it is given in {@link #onData}:
 * <ul>
 *   <li>pass them: {@code context.forward(direction, data)};</li>
 *   <li>replace them: {@code data.release()}, then forward other bytes;</li>
 *   <li>drop them: {@code data.release()};</li>
 *   <li>inject: forward extra bytes, in either direction, now or later (for example an answer to the client
 *       instead of passing a request on);</li>
 *   <li>hold them: keep the buffer (or a part of it) and forward it later, at the latest in {@link #onEnd};</li>
 *   <li>close the connection: {@link DataContext#close(String)}.</li>
 * </ul>
 * The hook owns {@code data}: it must forward it or release it, now or later. Bytes the client sent go through the
 * data hooks in the order their factories were added; bytes the backend sent go through them in the reverse order,
 * so the first hook is the one nearest the client. The bytes read during detection are the first bytes the hooks
 * see from the client; a PROXY protocol header sent to the backend is not given to them.
 *
 * <p>All methods are called on the connection's event loop and must not block. {@link DataContext#forward} may be
 * called from any thread. Backpressure is the relay's: the source stops being read while its destination cannot
 * take more, so a hook that passes bytes on never needs to buffer beyond what it holds on purpose.
 *
 * <p>A hook that throws closes its connection (reason {@link CloseReason#ERROR}, logged at WARN); the buffer it
 * was given is released unless it was forwarded first.
 */
public interface DataHook {

    /**
     * Bytes arrived, from the client ({@link Direction#CLIENT_TO_BACKEND}) or from the backend
     * ({@link Direction#BACKEND_TO_CLIENT}), or from the previous data hook in that direction.
     *
     * @param context this hook's view of the connection; forwards to the next hook or to the destination
     * @param direction which way the bytes move
     * @param data the bytes, never empty; owned by the hook from now on
     */
    void onData(DataContext context, Direction direction, ByteBuf data);

    /**
     * The source of {@code direction} finished sending (its FIN). Forward what is still held for that direction now:
     * the FIN is passed on after this call, and bytes forwarded in that direction later are dropped. The other
     * direction goes on. The default does nothing.
     *
     * @param context this hook's view of the connection
     * @param direction the direction whose source finished
     */
    default void onEnd(DataContext context, Direction direction) {
    }

    /**
     * The connection ended; called once, last, whether it ended normally or not. Release what is still held here.
     * The default does nothing.
     *
     * @param context this hook's view of the connection; forwarding now drops the bytes
     */
    default void onClosed(DataContext context) {
    }
}
