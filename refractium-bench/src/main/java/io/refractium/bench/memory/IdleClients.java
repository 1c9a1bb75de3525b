package io.refractium.bench.memory;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Client connections to the proxy that each send {@link #GREETING}, wait for it to come back from the echo backend
 * (which proves the proxy detected nothing, chose the fallback target, connected and relayed), and then stay open and
 * silent. All on one event loop thread (epoll when available, NIO otherwise); each connection is bound to one of the
 * given source addresses in turn, so that client ports do not run out before 100 000 connections.
 *
 * <p>Not thread-safe: {@link #openUntil} and {@link #close()} are called from one thread.
 */
final class IdleClients implements AutoCloseable {

    /**
     * The bytes each client sends. No built-in detector accepts them (the {@code ':'} after a token ends HTTP, the
     * first byte starts no TLS record, SSH banner or binary protocol, the fifth byte is no DNS opcode), so the proxy
     * sends them to its fallback target as soon as they are read.
     */
    static final byte[] GREETING = "XFER:IDLE\n".getBytes(StandardCharsets.US_ASCII);

    private static final AttributeKey<Promise<Channel>> ECHOED = AttributeKey.valueOf(IdleClients.class, "echoed");
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final long ECHO_TIMEOUT_MILLIS = 10_000;

    private final IoEventLoopGroup group;
    private final Bootstrap bootstrap;
    private final InetSocketAddress proxy;
    private final List<InetAddress> sources;
    private final Queue<Channel> open = new ConcurrentLinkedQueue<>();
    private final AtomicInteger closedAfterEcho = new AtomicInteger();
    private int next;

    /**
     * Prepares clients of {@code proxy}, bound in turn to each of {@code sources}.
     *
     * @param proxy the proxy's listening address
     * @param sources the local addresses to bind to, at least one
     */
    IdleClients(InetSocketAddress proxy, List<InetAddress> sources) {
        this.proxy = proxy;
        this.sources = List.copyOf(sources);
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(ChannelOption.SO_LINGER, 0)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Greeter());
                    }
                });
        if (epoll) {
            // The port is chosen at connect time, per 4-tuple, rather than at bind time, per address.
            bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
    }

    /** Returns the number of connections established and echoed so far and still open on this side. */
    int established() {
        return open.size();
    }

    /** Returns the number of connections that were closed by the other side after their echo. */
    int closedAfterEcho() {
        return closedAfterEcho.get();
    }

    /**
     * Opens connections until {@code target} are established and echoed, with at most {@code window} in progress at
     * once.
     *
     * @param target the number of open connections wanted
     * @param window the most connections being opened at once
     * @param timeoutMillis the time allowed for the whole step
     * @throws IOException when a connection fails or the step takes longer than allowed
     * @throws InterruptedException when interrupted
     */
    void openUntil(int target, int window, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Semaphore permits = new Semaphore(window);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int attempts = target - open.size();
        for (int i = 0; i < attempts && failure.get() == null; i++) {
            if (!permits.tryAcquire(remaining(deadline), TimeUnit.NANOSECONDS)) {
                break;
            }
            InetAddress source = sources.get(next++ % sources.size());
            Promise<Channel> echoed = ImmediateEventExecutor.INSTANCE.newPromise();
            ChannelFuture registered = bootstrap.register();
            Channel ch = registered.channel();
            ch.attr(ECHOED).set(echoed);
            registered.addListener(r -> {
                if (!r.isSuccess()) {
                    echoed.tryFailure(r.cause());
                    return;
                }
                ch.connect(proxy, new InetSocketAddress(source, 0)).addListener(f -> {
                    if (!f.isSuccess()) {
                        echoed.tryFailure(f.cause());
                    }
                });
            });
            echoed.addListener((Future<Channel> f) -> {
                if (f.isSuccess()) {
                    open.add(ch);
                } else {
                    failure.compareAndSet(null, f.cause());
                    ch.close();
                }
                permits.release();
            });
        }
        boolean drained = permits.tryAcquire(window, remaining(deadline), TimeUnit.NANOSECONDS);
        if (failure.get() != null) {
            throw new IOException("connection " + (open.size() + 1) + " through the proxy failed: "
                    + failure.get(), failure.get());
        }
        if (!drained || open.size() < target) {
            throw new IOException(open.size() + " connections open after " + timeoutMillis + " ms (expected: "
                    + target + ")");
        }
    }

    /** Closes every connection (with a reset: no TIME_WAIT is left) and stops the event loop. */
    @Override
    public void close() {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Channel ch; (ch = open.poll()) != null; ) {
            closing.add(ch.close());
        }
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(30, TimeUnit.SECONDS);
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /** Sends the greeting when connected and completes the channel's promise once the echo has come back whole. */
    private final class Greeter extends ChannelInboundHandlerAdapter {
        private int matched;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Promise<Channel> echoed = ctx.channel().attr(ECHOED).get();
            Future<?> timeout = ctx.executor().schedule(() -> {
                if (echoed.tryFailure(new IOException("no echo within " + ECHO_TIMEOUT_MILLIS + " ms"))) {
                    ctx.close();
                }
            }, ECHO_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            echoed.addListener(f -> timeout.cancel(false));
            ctx.writeAndFlush(Unpooled.wrappedBuffer(GREETING));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                Promise<Channel> echoed = ctx.channel().attr(ECHOED).get();
                while (in.isReadable()) {
                    if (matched == GREETING.length || in.readByte() != GREETING[matched]) {
                        echoed.tryFailure(new IOException("unexpected bytes from the proxy after " + matched
                                + " bytes of the echo"));
                        ctx.close();
                        return;
                    }
                    matched++;
                }
                if (matched == GREETING.length) {
                    echoed.trySuccess(ctx.channel());
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Promise<Channel> echoed = ctx.channel().attr(ECHOED).get();
            if (echoed.isSuccess()) {
                if (open.remove(ctx.channel())) {
                    closedAfterEcho.incrementAndGet();
                }
            } else {
                echoed.tryFailure(new IOException("closed by the proxy after " + matched + " bytes of the echo"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.channel().attr(ECHOED).get().tryFailure(cause);
            ctx.close();
        }
    }
}
