package io.refractium.bench.memory;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Echo servers on {@code 127.0.0.1}, one per port, all on one event loop thread (epoll when available, NIO otherwise):
 * the backends of the proxy in {@link ConcurrentConnections}. Several ports, so that the proxy's connections to them
 * never run out of 4-tuples. Each server writes back what it reads and keeps the connection open until the other side
 * closes it. {@link #close()} closes the listeners and every accepted connection and stops the thread.
 */
final class EchoBackends implements AutoCloseable {

    private final IoEventLoopGroup group;
    private final List<Channel> servers = new ArrayList<>();

    /**
     * Binds {@code count} echo servers on {@code 127.0.0.1}, port 0.
     *
     * @param count the number of servers, at least 1
     * @throws InterruptedException when interrupted while binding
     */
    EchoBackends(int count) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childHandler(Echo.INSTANCE);
            for (int i = 0; i < count; i++) {
                servers.add(bootstrap.bind("127.0.0.1", 0).sync().channel());
            }
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Returns the servers' addresses, in the order bound. */
    List<InetSocketAddress> addresses() {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (Channel server : servers) {
            addresses.add((InetSocketAddress) server.localAddress());
        }
        return addresses;
    }

    /** Closes the listeners, then shuts the event loop down, which closes every accepted connection. */
    @Override
    public void close() {
        for (Channel server : servers) {
            server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(30, TimeUnit.SECONDS);
    }

    /** Writes back each buffer it reads (the write releases it). */
    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        static final Echo INSTANCE = new Echo();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg, ctx.voidPromise());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
