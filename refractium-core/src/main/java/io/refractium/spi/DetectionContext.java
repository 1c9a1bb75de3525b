package io.refractium.spi;

import java.net.SocketAddress;

/**
 * What a detector may know about the connection besides its bytes. Implemented by the engine; valid only during
 * the {@link RefractiumProtocol#detect} call it is passed to.
 */
public interface DetectionContext {

    /** Returns the transport the bytes arrived on. */
    Transport transport();

    /** Returns the client's address. */
    SocketAddress remoteAddress();

    /** Returns the local (listening) address the client connected to. */
    SocketAddress localAddress();

    /**
     * Returns whether the client has finished sending (TCP half-close, or the single datagram of a UDP flow): no
     * more bytes will come, so {@link DetectionResult#needMore()} will be read as no match.
     */
    boolean isInputComplete();
}
