package io.refractium.internal.connect;

import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * Opens backend channels. The production dialer uses one bootstrap per event loop; tests supply their own to drive
 * the connect stage without sockets.
 */
public interface Dialer {

    /**
     * Opens a channel registered on {@code loop} and connects it.
     *
     * <p>The returned future's listeners run on {@code loop}, whatever happens, and its {@code channel()} is the
     * channel of this attempt, which the caller closes when it gives up on it. When no channel could be created
     * (for example {@code EMFILE}), the future fails with a {@link LocalDialException}, which says nothing about the
     * backend's health.
     *
     * @param loop the client's event loop; the backend channel is registered on it
     * @param address the backend address, resolved or not
     * @param allocator the receive allocator of the new channel (it counts the bytes read)
     * @param connectTimeoutMillis how long the connect may take
     * @return the connect future
     */
    ChannelFuture dial(EventLoop loop, InetSocketAddress address, RecvByteBufAllocator allocator, int connectTimeoutMillis);
}
