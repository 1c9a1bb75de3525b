package io.refractium;

/**
 * The I/O transport of the event loops Refractium creates ({@link RefractiumBuilder#transport(IoTransport)}).
 */
public enum IoTransport {
    /**
     * The best native transport available, else NIO: io_uring where the kernel allows it, else epoll, else NIO. With
     * {@code splice(2)} turned on ({@link RefractiumBuilder#splice(boolean)}) epoll comes first, the only transport
     * that splices. io_uring is ahead of epoll on keep-alive traffic and new connections and level on bulk transfers
     * (see BENCHMARKS.md).
     */
    NATIVE,
    /**
     * Linux epoll (netty-transport-native-epoll); the only transport that relays with {@code splice(2)}, and the one
     * that reports at once the reset of a peer whose reading the relay has paused for backpressure (io_uring within a
     * second, NIO at the idle timeout).
     */
    EPOLL,
    /**
     * Linux io_uring (netty-transport-native-io_uring), on kernels that allow it; no {@code splice(2)}. Netty's
     * multishot {@code POLL_ADD} loses the wake-up of a peer that sends its last bytes and resets at once, which left
     * such connections open; Refractium therefore sets the system property
     * {@code io.netty.iouring.pollAddMultishotEnabled} to {@code false} when it is not set, before Netty's io_uring
     * classes load. An application that loads them first (its own io_uring event loops, say) should start the JVM with
     * {@code -Dio.netty.iouring.pollAddMultishotEnabled=false}; Refractium logs a warning when it finds multishot
     * polling on.
     */
    IO_URING,
    /** The JDK's NIO selectors, on any platform. */
    NIO
}
