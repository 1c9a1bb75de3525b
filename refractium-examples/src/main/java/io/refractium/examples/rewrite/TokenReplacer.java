package io.refractium.examples.rewrite;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Arrays;

/**
 * Replaces every occurrence of one byte string by another in a stream that arrives in pieces, with the result a
 * replacement over the whole stream would give (left to right, occurrences not overlapping). An occurrence may be
 * split across pieces: the bytes at the end of a piece that could begin one are held until the next piece shows
 * whether they do. Not thread-safe: one per direction of a connection.
 */
public final class TokenReplacer {

    private final byte[] from;
    private final byte[] to;
    /** The bytes held back from the last piece: a proper prefix of {@code from}. */
    private byte[] held = new byte[0];

    /**
     * Creates a replacer.
     *
     * @param from what to replace, not empty
     * @param to what to put in its place, possibly empty
     */
    public TokenReplacer(byte[] from, byte[] to) {
        if (from.length == 0) {
            throw new IllegalArgumentException("from: empty (expected: at least one byte)");
        }
        this.from = from.clone();
        this.to = to.clone();
    }

    /**
     * Replaces in the next piece of the stream. Consumes and releases {@code piece}.
     *
     * @param alloc allocates the result
     * @param piece the next bytes of the stream
     * @return the bytes that can be passed on now (possibly empty); bytes that may begin an occurrence are held
     */
    public ByteBuf next(ByteBufAllocator alloc, ByteBuf piece) {
        byte[] in;
        try {
            // One bulk copy: cheaper than per-byte access on a pooled direct buffer.
            in = new byte[held.length + piece.readableBytes()];
            System.arraycopy(held, 0, in, 0, held.length);
            piece.getBytes(piece.readerIndex(), in, held.length, piece.readableBytes());
        } finally {
            piece.release();
        }
        ByteBuf out = alloc.buffer(in.length + 16);
        int i = 0;
        int copiedTo = 0;
        while (i < in.length) {
            int left = in.length - i;
            if (left < from.length && Arrays.equals(in, i, in.length, from, 0, left)) {
                break;
            }
            if (left >= from.length && Arrays.equals(in, i, i + from.length, from, 0, from.length)) {
                out.writeBytes(in, copiedTo, i - copiedTo);
                out.writeBytes(to);
                i += from.length;
                copiedTo = i;
            } else {
                i++;
            }
        }
        out.writeBytes(in, copiedTo, i - copiedTo);
        held = Arrays.copyOfRange(in, i, in.length);
        return out;
    }

    /**
     * Ends the stream: returns the bytes held back (they did not begin an occurrence after all).
     *
     * @param alloc allocates the result
     * @return the held bytes, possibly none
     */
    public ByteBuf end(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(held.length).writeBytes(held);
        held = new byte[0];
        return out;
    }

    /**
     * Replaces in a whole array at once; what {@link #next} and {@link #end} give over any split of it.
     *
     * @param in the bytes
     * @param from what to replace
     * @param to what to put in its place
     * @return the result
     */
    public static byte[] replaceAll(byte[] in, byte[] from, byte[] to) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(in.length);
        int i = 0;
        while (i < in.length) {
            if (in.length - i >= from.length && Arrays.equals(in, i, i + from.length, from, 0, from.length)) {
                out.writeBytes(to);
                i += from.length;
            } else {
                out.write(in[i++]);
            }
        }
        return out.toByteArray();
    }
}
