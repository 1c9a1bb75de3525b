package io.refractium.internal.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.refractium.internal.connect.Dialer;
import io.refractium.internal.connect.LocalDialException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The production {@link Dialer}: one {@link Bootstrap} per event loop (no per-connection bootstrap, reflection or
 * option maps), channels registered on the client's loop so that {@code spliceTo} can join them. Addresses come
 * resolved (IP literals, or the addresses a target's runtime resolved through DNS): nothing blocks on a lookup.
 */
public final class BootstrapDialer implements Dialer {

    private final Transports transports;
    private final WriteBufferWaterMark waterMark;
    private final ChannelFactory<? extends Channel> channelFactory;
    /** Per event loop, for IPv4 and for IPv6 backends: sockets of the backend's address family. */
    private final Map<EventLoop, Bootstrap> bootstraps4 = new ConcurrentHashMap<>();
    private final Map<EventLoop, Bootstrap> bootstraps6 = new ConcurrentHashMap<>();

    /**
     * Creates the dialer.
     *
     * @param transports the transport of the engine's event loops
     * @param waterMark the write buffer water marks of backend channels
     */
    public BootstrapDialer(Transports transports, WriteBufferWaterMark waterMark) {
        this(transports, waterMark, null);
    }

    /**
     * Creates the dialer with its own channel factory; a seam for tests that make socket creation fail as
     * {@code EMFILE} does.
     *
     * @param transports the transport of the engine's event loops
     * @param waterMark the write buffer water marks of backend channels
     * @param channelFactory creates backend channels, or {@code null} for the transport's socket channel
     */
    public BootstrapDialer(Transports transports, WriteBufferWaterMark waterMark,
                           ChannelFactory<? extends Channel> channelFactory) {
        this.transports = transports;
        this.waterMark = waterMark;
        this.channelFactory = channelFactory;
    }

    @Override
    public ChannelFuture dial(EventLoop loop, InetSocketAddress address, RecvByteBufAllocator allocator,
                              int connectTimeoutMillis) {
        Map<EventLoop, Bootstrap> byLoop = address.getAddress() instanceof Inet6Address ? bootstraps6 : bootstraps4;
        ChannelFuture registered = byLoop.computeIfAbsent(loop, l -> newBootstrap(l, address)).register();
        Channel ch = registered.channel();
        if (registered.isDone() && !registered.isSuccess()) {
            // No socket (EMFILE, ENFILE, ...): the channel is a placeholder whose future would notify off the loop.
            ChannelPromise failed = new DefaultChannelPromise(ch, loop);
            failed.setFailure(new LocalDialException("no socket for a backend connection: " + registered.cause(),
                    registered.cause()));
            return failed;
        }
        ch.config().setRecvByteBufAllocator(allocator);
        ch.config().setConnectTimeoutMillis(Math.max(1, connectTimeoutMillis));
        ChannelPromise connected = ch.newPromise();
        registered.addListener((ChannelFutureListener) r -> {
            if (!r.isSuccess()) {
                connected.tryFailure(new LocalDialException("registering a backend channel failed", r.cause()));
            } else if (address.isUnresolved()) {
                // Names are resolved by the target's runtime through DNS, never here on the event loop.
                connected.tryFailure(new LocalDialException("unresolved backend address " + address, null));
            } else {
                ch.connect(address, connected);
            }
        });
        return connected;
    }

    private Bootstrap newBootstrap(EventLoop loop, InetSocketAddress address) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                .handler(NoopInitializer.INSTANCE);
        if (channelFactory != null) {
            b.channelFactory(channelFactory);
        } else {
            b.channelFactory(transports.socketChannel(address));
        }
        if (transports.epoll()) {
            b.option(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        }
        return b;
    }

    /** The backend pipeline starts empty; the relay adds its handler once the connection is up. */
    @ChannelHandler.Sharable
    private static final class NoopInitializer extends ChannelInitializer<Channel> {
        static final NoopInitializer INSTANCE = new NoopInitializer();

        @Override
        protected void initChannel(Channel ch) {
            // nothing to add
        }
    }
}
