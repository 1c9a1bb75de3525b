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
     * cap or the detector's own {@link RefractiumProtocol#maxBytes()} is reached, the client finished sending, or the
     * client went quiet after the detector asked for it ({@link #lastCallWhenQuiet()}).
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
     * Asks for a {@linkplain #isLastCall() last call} as soon as the client goes quiet: call it during a
     * {@link RefractiumProtocol#detect} call that answers {@link DetectionResult#needMore() NEED_MORE} when the
     * bytes so far already allow a decision, and more bytes would only refine it. If no new byte arrives within the
     * instance's quiet timeout ({@code RefractiumBuilder.quietTimeout}, default 100 ms), the detector is called
     * once more on the same bytes with {@link #isLastCall()} {@code true}, where {@code NEED_MORE} counts as no
     * match; other detectors keep waiting as usual, and a match still waits for higher-priority detectors that are
     * undecided. The request holds for this call only: a later call that does not repeat it waits for more bytes
     * normally, and new bytes restart the quiet time.
     *
     * <p>For a client that may wait for the server before it says more: an HTTP/2 client that sent its preface and
     * SETTINGS and waits for the server's SETTINGS before its first request (gRPC clients commonly do) is HTTP/2
     * already, but its request, when it comes at once, names the host. The default does nothing: contexts that do
     * not support it give the last call at the usual times only.
     */
    default void lastCallWhenQuiet() {
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

    /**
     * Returns how many datagrams the offered bytes hold, for a UDP flow; {@code 0} for a TCP stream. A UDP flow's
     * detectors are offered the flow's first datagrams concatenated in the order they arrived, so a protocol whose
     * first message spans several datagrams (a QUIC Initial carrying a large ClientHello) can be decided;
     * {@link #datagramEnd(int)} tells where each one ends. The default returns {@code 0}.
     *
     * @return the number of datagrams in the offered bytes
     */
    default int datagrams() {
        return 0;
    }

    /**
     * Returns where datagram {@code index} ends in the offered bytes, as an offset from the buffer's reader index:
     * datagram {@code i} spans {@code [datagramEnd(i - 1), datagramEnd(i))}, the first one starting at {@code 0}.
     *
     * @param index the datagram, from {@code 0} to {@link #datagrams()} {@code - 1}
     * @return the offset just past its last byte
     * @throws IndexOutOfBoundsException if there is no such datagram (always, for a TCP stream)
     */
    default int datagramEnd(int index) {
        throw new IndexOutOfBoundsException("no datagram " + index + ": " + datagrams() + " offered");
    }
}
