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
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.refractium.IoTransport;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.channels.spi.SelectorProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket channel classes and event loop factory of one transport: native epoll, native io_uring, or NIO.
 *
 * @param kind which transport
 * @param socketChannel the connection channel class
 */
public record Transports(IoTransport kind, Class<? extends SocketChannel> socketChannel) {

    /**
     * The system property that turns off Netty's multishot {@code POLL_ADD} for io_uring channels. With it on (Netty
     * 4.2.18's default), a channel can miss the wake-up of a peer that sends its last bytes and resets at once: the
     * multishot poll's completion arrives while a receive is still in flight, is dropped, and the poll stays armed for
     * an event that already happened; the connection stays open and its descriptor with it. A one-shot poll is armed
     * again after every read and sees the socket's state then, so nothing is missed.
     */
    public static final String IO_URING_MULTISHOT_POLL = "io.netty.iouring.pollAddMultishotEnabled";

    private static final Logger log = LoggerFactory.getLogger(Transports.class);

    static {
        // Netty reads the property once, when its io_uring classes load; everything here that loads them runs after
        // this. An explicit setting is left alone (and warned about when io_uring is chosen).
        if (System.getProperty(IO_URING_MULTISHOT_POLL) == null) {
            System.setProperty(IO_URING_MULTISHOT_POLL, "false");
        }
    }

    private static final Transports EPOLL = new Transports(IoTransport.EPOLL, EpollSocketChannel.class);
    private static final Transports NIO = new Transports(IoTransport.NIO, NioSocketChannel.class);

    /** Returns the best native transport when preferred and available (see {@link #choose(IoTransport)}), else NIO. */
    public static Transports choose(boolean preferNative) {
        return choose(preferNative ? IoTransport.NATIVE : IoTransport.NIO);
    }

    /**
     * Returns the transport asked for, without {@code splice(2)}: see {@link #choose(IoTransport, boolean)}.
     *
     * @throws IllegalStateException if epoll or io_uring was asked for and is not available here
     */
    public static Transports choose(IoTransport kind) {
        return choose(kind, false);
    }

    /**
     * Returns the transport asked for. {@link IoTransport#NATIVE} is io_uring where it can run, else epoll, else NIO;
     * with {@code splice} on, epoll comes first, since only epoll relays with {@code splice(2)}.
     *
     * @param kind the transport asked for
     * @param splice whether relayed bytes may move with {@code splice(2)}
     * @throws IllegalStateException if epoll or io_uring was asked for and is not available here
     */
    public static Transports choose(IoTransport kind, boolean splice) {
        switch (kind) {
            case NATIVE:
                if (splice && isEpollAvailable()) {
                    return EPOLL;
                }
                if (isIoUringAvailable()) {
                    return IoUringHolder.IO_URING;
                }
                return isEpollAvailable() ? EPOLL : NIO;
            case EPOLL:
                if (!isEpollAvailable()) {
                    throw new IllegalStateException("transport: EPOLL (not available here: "
                            + cause(Epoll.unavailabilityCause()) + ")");
                }
                return EPOLL;
            case IO_URING:
                if (!isIoUringAvailable()) {
                    throw new IllegalStateException("transport: IO_URING (not available here: "
                            + ioUringUnavailability() + ")");
                }
                return IoUringHolder.IO_URING;
            default:
                return NIO;
        }
    }

    /** Holds the io_uring transport apart, so its classes load only when it is asked for. */
    private static final class IoUringHolder {
        static final Transports IO_URING = new Transports(IoTransport.IO_URING, IoUringSocketChannel.class);

        static {
            if (IoUring.isPollAddMultishotEnabled()) {
                log.warn("io_uring runs with Netty's multishot POLL_ADD (-D{}=true, or Netty's io_uring classes were "
                        + "loaded before Refractium's): a peer that sends and resets at once can leave its connection "
                        + "open; start the JVM with -D{}=false", IO_URING_MULTISHOT_POLL, IO_URING_MULTISHOT_POLL);
            }
        }
    }

    /** Returns the transport that matches a caller-supplied group. */
    public static Transports of(IoEventLoopGroup group) {
        if (isEpollAvailable() && group.isIoType(EpollIoHandler.class)) {
            return EPOLL;
        }
        if (isIoUringAvailable() && group.isIoType(IoUringIoHandler.class)) {
            return IoUringHolder.IO_URING;
        }
        return NIO;
    }

    public static boolean isEpollAvailable() {
        try {
            return Epoll.isAvailable();
        } catch (LinkageError e) {
            return false;
        }
    }

    /** Returns whether the io_uring transport can run here (its native library loads and the kernel allows it). */
    public static boolean isIoUringAvailable() {
        try {
            return IoUring.isAvailable();
        } catch (LinkageError e) {
            return false;
        }
    }

    private static String ioUringUnavailability() {
        try {
            return cause(IoUring.unavailabilityCause());
        } catch (LinkageError e) {
            return e.toString();
        }
    }

    private static String cause(Throwable t) {
        return t == null ? "unknown" : t.toString();
    }

    /** Returns whether this is the epoll transport (the one with {@code splice(2)}). */
    public boolean epoll() {
        return kind == IoTransport.EPOLL;
    }

    /** Returns the datagram channel class of this transport. */
    public Class<? extends DatagramChannel> datagramChannel() {
        return switch (kind) {
            case EPOLL -> EpollDatagramChannel.class;
            case IO_URING -> IoUringDatagramChannel.class;
            default -> NioDatagramChannel.class;
        };
    }

    /** Returns whether this is the io_uring transport. */
    public boolean ioUring() {
        return kind == IoTransport.IO_URING;
    }

    /**
     * Returns a factory of listening channels of this transport whose socket has the address family of
     * {@code address}. An IPv4 address gets an IPv4 socket rather than a dual-stack IPv6 one: it accepts the same
     * clients, and their sockets skip the IPv4-mapped address handling.
     *
     * @param address the address the channel binds
     * @return the channel factory
     */
    public ChannelFactory<ServerChannel> serverChannel(InetSocketAddress address) {
        SocketProtocolFamily family = family(address);
        return switch (kind) {
            case EPOLL -> () -> new EpollServerSocketChannel(family);
            // Netty's io_uring channels choose their family themselves.
            case IO_URING -> IoUringServerSocketChannel::new;
            default -> () -> new NioServerSocketChannel(SelectorProvider.provider(), family);
        };
    }

    /**
     * Returns a factory of connection channels of this transport whose socket has the address family of
     * {@code address}: an IPv4 backend gets an IPv4 socket, which spares the {@code IPV6_V6ONLY} option a dual-stack
     * socket needs and the IPv4-mapped address handling. Unlike {@link #socketChannel()}, it makes channels without
     * reflection.
     *
     * @param address the address the channel connects to
     * @return the channel factory
     */
    public ChannelFactory<SocketChannel> socketChannel(InetSocketAddress address) {
        SocketProtocolFamily family = family(address);
        return switch (kind) {
            case EPOLL -> () -> new EpollSocketChannel(family);
            case IO_URING -> IoUringSocketChannel::new;
            default -> () -> new NioSocketChannel(SelectorProvider.provider(), family);
        };
    }

    private static SocketProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET;
    }

    /**
     * Returns a factory of datagram channels of this transport whose socket has the address family of
     * {@code address} (an IPv6 socket for an IPv6 address, IPv4 otherwise).
     *
     * @param address the address the channel binds or connects to
     * @return the channel factory
     */
    public ChannelFactory<DatagramChannel> datagramChannel(InetSocketAddress address) {
        SocketProtocolFamily family = family(address);
        return switch (kind) {
            case EPOLL -> () -> new EpollDatagramChannel(family);
            case IO_URING -> () -> new IoUringDatagramChannel(family);
            default -> () -> new NioDatagramChannel(family);
        };
    }

    /**
     * Creates an event loop group of this transport. Epoll handlers are wrapped by {@link EpollInterestKeeper}, which
     * works around a Netty bug that drops half-closed sockets from the epoll set (and then their queued bytes).
     */
    public IoEventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = switch (kind) {
            case EPOLL -> EpollInterestKeeper.wrap(EpollIoHandler.newFactory());
            case IO_URING -> IoUringIoHandler.newFactory();
            default -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
    }
}
