package io.refractium.internal.transport;

import io.netty.channel.ChannelFactory;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** The socket channel classes and event loop factory of one transport: native epoll or NIO. */
public record Transports(boolean epoll, Class<? extends ServerChannel> serverChannel,
                  Class<? extends SocketChannel> socketChannel) {

    private static final Transports EPOLL = new Transports(true, EpollServerSocketChannel.class, EpollSocketChannel.class);
    private static final Transports NIO = new Transports(false, NioServerSocketChannel.class, NioSocketChannel.class);

    /** Returns epoll when preferred and available, NIO otherwise. */
    public static Transports choose(boolean preferNative) {
        return preferNative && isEpollAvailable() ? EPOLL : NIO;
    }

    /** Returns the transport that matches a caller-supplied group. */
    public static Transports of(IoEventLoopGroup group) {
        return isEpollAvailable() && group.isIoType(EpollIoHandler.class) ? EPOLL : NIO;
    }

    public static boolean isEpollAvailable() {
        try {
            return Epoll.isAvailable();
        } catch (LinkageError e) {
            return false;
        }
    }

    /**
     * Returns a factory of datagram channels of this transport whose socket has the address family of
     * {@code address} (an IPv6 socket for an IPv6 address, IPv4 otherwise).
     *
     * @param address the address the channel binds or connects to
     * @return the channel factory
     */
    public ChannelFactory<DatagramChannel> datagramChannel(InetSocketAddress address) {
        SocketProtocolFamily family = address.getAddress() instanceof Inet6Address
                ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
        return epoll ? () -> new EpollDatagramChannel(family) : () -> new NioDatagramChannel(family);
    }

    /**
     * Creates an event loop group of this transport. Epoll handlers are wrapped by {@link EpollInterestKeeper}, which
     * works around a Netty bug that drops half-closed sockets from the epoll set (and then their queued bytes).
     */
    public IoEventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = epoll
                ? EpollInterestKeeper.wrap(EpollIoHandler.newFactory())
                : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
    }
}
