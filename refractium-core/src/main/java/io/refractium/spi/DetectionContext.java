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

    /**
     * Returns whether this is the detector's last call for the connection: the detection deadline passed, the peek
     * cap or the detector's own {@link RefractiumProtocol#maxBytes()} is reached, or the client finished sending.
     * An answer of {@link DetectionResult#needMore() NEED_MORE} now counts as no match, so a detector that can
     * decide on what it has should: a TLS ClientHello cut by the cap still carries the SNI and ALPN before the cut,
     * HTTP headers without a Host line yet are still HTTP. Every detector still undecided gets exactly one such
     * call. The default is {@code false} for contexts that do not know.
     *
     * @return whether no more bytes will be offered to this detector
     */
    default boolean isLastCall() {
        return false;
    }

    /**
     * Returns what this detector saved with {@link #saveProgress(long)} during an earlier call for the same
     * connection, or {@code 0} on the first call.
     *
     * <p>Detectors are stateless, so without it each call re-reads the bytes from the start; a client that sends a
     * long header one byte per segment would then cost time quadratic in its length. A detector that saves how far
     * it got (for example the offset, relative to the reader index, of the first line or record it has not
     * finished) can resume there, so the total cost stays linear in the bytes received. The bytes before the saved
     * point are guaranteed unchanged between calls: the engine only appends. The default returns {@code 0}, which
     * every detector must accept (it means: start from the beginning).
     *
     * @return the saved progress, or {@code 0}
     */
    default long progress() {
        return 0;
    }

    /**
     * Saves this detector's progress for the next call on the same connection (see {@link #progress()}). Only the
     * last value saved is kept; it is discarded when the detector answers {@code MATCH} or {@code NO_MATCH}. The
     * default does nothing.
     *
     * @param progress an opaque value for the detector, {@code 0} meaning "from the beginning"
     */
    default void saveProgress(long progress) {
    }
}
