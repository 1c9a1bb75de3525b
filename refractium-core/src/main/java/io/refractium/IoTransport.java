package io.refractium;

/**
 * The I/O transport of the event loops Refractium creates ({@link RefractiumBuilder#transport(IoTransport)}).
 */
public enum IoTransport {
    /**
     * The best native transport available, else NIO: epoll on Linux with its native library. Epoll is the native
     * default because it notices at once a client that resets while the relay has stopped reading it, and because
     * io_uring has a known fault (below); io_uring is ahead on keep-alive traffic and level on bulk transfers (see
     * BENCHMARKS.md).
     */
    NATIVE,
    /** Linux epoll (netty-transport-native-epoll); the only transport that relays with {@code splice(2)}. */
    EPOLL,
    /**
     * Linux io_uring (netty-transport-native-io_uring), on kernels that allow it; no {@code splice(2)}. Known fault,
     * not fixed yet: under sustained new-connection load (thousands of short connections per second) some relayed
     * connections are left open, and the process can run out of file descriptors; epoll does not have it.
     */
    IO_URING,
    /** The JDK's NIO selectors, on any platform. */
    NIO
}
