package io.refractium.internal.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The TCP listening sockets of one instance. With epoll and the instance's own event loops, each address gets one
 * listener per event loop sharing the port through {@code SO_REUSEPORT}; each listener is registered on its own
 * loop and its accepted channels stay on that loop (no hand-off between threads). Otherwise one listener per
 * address hands accepted channels to the worker group.
 */
public final class Listeners {

    private final Transports transports;
    private final IoEventLoopGroup bossGroup;
    private final IoEventLoopGroup workerGroup;
    private final boolean reusePort;
    private final int loops;
    private final WriteBufferWaterMark waterMark;
    private final Consumer<SocketChannel> acceptor;
    /** The listening channels of each bound address (its real port), in bind order; guarded by {@code this}. */
    private final Map<InetSocketAddress, List<Channel>> channels = new LinkedHashMap<>();

    /**
     * Creates the listener set; nothing is bound yet.
     *
     * @param transports the transport
     * @param bossGroup the group that accepts
     * @param workerGroup the group that runs connections
     * @param reusePort whether to bind one listener per event loop with {@code SO_REUSEPORT}
     * @param loops how many event loops the group has
     * @param waterMark write buffer water marks of accepted channels
     * @param acceptor called on the channel's event loop for each accepted channel, before it is active
     */
    public Listeners(Transports transports, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, boolean reusePort,
                     int loops, WriteBufferWaterMark waterMark, Consumer<SocketChannel> acceptor) {
        this.transports = transports;
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
        this.reusePort = reusePort && (transports.epoll() || transports.ioUring()) && loops > 1;
        this.loops = loops;
        this.waterMark = waterMark;
        this.acceptor = acceptor;
    }

    /**
     * Binds one address.
     *
     * @return the bound address, with the real port
     * @throws UncheckedIOException naming the address when the bind fails
     */
    public synchronized InetSocketAddress bind(InetSocketAddress address) {
        int count = reusePort ? loops : 1;
        if (count > 1 && address.getPort() != 0) {
            // SO_REUSEPORT would let this instance silently share a port another process already listens on.
            ensureFree(address);
        }
        InetSocketAddress actual = null;
        List<Channel> bound = new ArrayList<>(count);
        java.util.Iterator<io.netty.util.concurrent.EventExecutor> loopsInOrder = workerGroup.iterator();
        for (int i = 0; i < count; i++) {
            InetSocketAddress bindTo = actual == null ? address : actual;
            ServerBootstrap sb = new ServerBootstrap()
                    .channelFactory(transports.serverChannel(bindTo))
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            acceptor.accept(ch);
                        }
                    });
            if (count > 1) {
                // Listener i lives on loop i and so do the channels it accepts: a group of that one loop.
                io.netty.channel.EventLoop loop = (io.netty.channel.EventLoop) loopsInOrder.next();
                sb.group(loop, loop);
                sb.option(transports.ioUring() ? IoUringChannelOption.SO_REUSEPORT : EpollChannelOption.SO_REUSEPORT, true);
            } else {
                sb.group(bossGroup, workerGroup);
            }
            if (transports.epoll()) {
                sb.childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
            }
            ChannelFuture f = sb.bind(bindTo).awaitUninterruptibly();
            if (!f.isSuccess()) {
                for (Channel c : bound) {
                    c.close().awaitUninterruptibly();
                }
                Throwable cause = f.cause();
                String msg = "listen " + bindTo + ": bind failed: " + cause.getMessage();
                throw new UncheckedIOException(msg, cause instanceof IOException
                        ? (IOException) cause : new BindException(cause.toString()));
            }
            bound.add(f.channel());
            actual = (InetSocketAddress) f.channel().localAddress();
        }
        channels.put(actual, bound);
        return actual;
    }

    private static void ensureFree(InetSocketAddress address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(address, 1);
        } catch (IOException e) {
            throw new UncheckedIOException("listen " + address + ": bind failed: " + e.getMessage(), e);
        }
    }

    /**
     * Closes the listening sockets of one bound address and waits for them; connections they accepted stay open.
     *
     * @param bound the address as {@link #bind} returned it
     * @return whether that address was bound
     */
    public synchronized boolean unbind(InetSocketAddress bound) {
        List<Channel> list = channels.remove(bound);
        if (list == null) {
            return false;
        }
        for (Channel c : list) {
            c.close().awaitUninterruptibly();
        }
        return true;
    }

    /** Closes every listening socket and waits for it; accepted connections stay open. */
    public synchronized void close() {
        for (List<Channel> list : channels.values()) {
            for (Channel c : list) {
                c.close().awaitUninterruptibly();
            }
        }
        channels.clear();
    }
}
