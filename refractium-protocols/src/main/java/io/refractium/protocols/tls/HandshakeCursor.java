package io.refractium.protocols.tls;

import io.netty.buffer.ByteBuf;

/**
 * Maps offsets in a handshake message that spans several TLS records to offsets in the buffer, without copying the
 * message and without allocating.
 *
 * <p>A cursor is a {@code long} that stands on one record: bits 47-63 hold the logical offset (within the handshake
 * message) where the record's fragment starts, bits 32-46 the fragment's length, or 0 while it has not been read
 * from the record header, and bits 0-31 the buffer offset of the fragment. A read inside the record the cursor
 * stands on costs a comparison and the read; moving the cursor forward walks the record headers from where it
 * stands, so a parser that reads forward and keeps its cursor close to where it reads pays a constant cost per read.
 * When one record holds the whole message, the usual case, a cursor on it with its length never moves.
 *
 * <p>Every method assumes the records up to the logical offset asked for have been validated (content type,
 * version, a length of 1 to 16384) and that the byte is in the buffer; {@link TlsDetector} checks both first.
 */
final class HandshakeCursor {

    /** The length of a TLS record header: content type, version, length (RFC 8446 §5.1). */
    static final int RECORD_HEADER_LENGTH = 5;

    private static final int START_SHIFT = 47;
    private static final int LENGTH_MASK = (1 << START_SHIFT - Integer.SIZE) - 1;

    private HandshakeCursor() {
    }

    /**
     * Returns a cursor on the first record, whose length is read when it is needed.
     *
     * @param firstFragment the buffer offset of the first record's fragment (just after its header)
     * @return the cursor
     */
    static long first(int firstFragment) {
        return of(0, 0, firstFragment);
    }

    /**
     * Returns a cursor on a record.
     *
     * @param start the logical offset of the record's fragment, at most {@code 2^17 - 1}
     * @param length the length of the fragment from the record header, or 0 to read it when it is needed
     * @param fragment the buffer offset of the fragment (just after the record header)
     * @return the cursor
     */
    static long of(int start, int length, int fragment) {
        return (long) start << START_SHIFT | (long) length << Integer.SIZE | fragment & 0xFFFF_FFFFL;
    }

    /**
     * Returns the logical offset of the fragment of the record a cursor stands on.
     *
     * @param cursor the cursor
     * @return the logical offset
     */
    static int start(long cursor) {
        return (int) (cursor >>> START_SHIFT);
    }

    /**
     * Returns the buffer offset of the fragment of the record a cursor stands on.
     *
     * @param cursor the cursor
     * @return the buffer offset
     */
    static int fragment(long cursor) {
        return (int) cursor;
    }

    /**
     * Returns the logical offset just after the record a cursor stands on, or its start while the record's length
     * has not been read.
     *
     * @param cursor the cursor
     * @return the logical offset where the record ends
     */
    static int end(long cursor) {
        return start(cursor) + ((int) (cursor >>> Integer.SIZE) & LENGTH_MASK);
    }

    /**
     * Returns the buffer offset of a logical offset in the record a cursor stands on.
     *
     * @param cursor the cursor
     * @param logical the offset in the handshake message, in that record
     * @return the buffer offset
     */
    static int index(long cursor, int logical) {
        return (int) cursor + logical - start(cursor);
    }

    /**
     * Moves a cursor forward to the record that holds a logical offset.
     *
     * @param buf the buffer
     * @param cursor a cursor at or before the record that holds {@code logical}
     * @param logical the offset in the handshake message
     * @return a cursor on the record that holds {@code logical}, with its length
     */
    static long seek(ByteBuf buf, long cursor, int logical) {
        if (logical < end(cursor)) {
            return cursor;
        }
        int start = start(cursor);
        int offset = (int) cursor;
        int length = (int) (cursor >>> Integer.SIZE) & LENGTH_MASK;
        if (length == 0) {
            length = buf.getUnsignedShort(offset - 2);
        }
        while (logical >= start + length) {
            start += length;
            offset += length + RECORD_HEADER_LENGTH;
            length = buf.getUnsignedShort(offset - 2);
        }
        return of(start, length, offset);
    }

    /**
     * Returns the byte at a logical offset.
     *
     * @param buf the buffer
     * @param cursor a cursor at or before the record that holds {@code logical}
     * @param logical the offset in the handshake message
     * @return the unsigned byte
     */
    static int u8(ByteBuf buf, long cursor, int logical) {
        long c = seek(buf, cursor, logical);
        return buf.getUnsignedByte(index(c, logical));
    }

    /**
     * Returns the big-endian unsigned 16-bit value at a logical offset; its two bytes may lie in different records.
     *
     * @param buf the buffer
     * @param cursor a cursor at or before the record that holds {@code logical}
     * @param logical the offset in the handshake message
     * @return the value
     */
    static int u16(ByteBuf buf, long cursor, int logical) {
        long c = seek(buf, cursor, logical);
        if (logical + 1 < end(c)) {
            return buf.getUnsignedShort(index(c, logical));
        }
        return buf.getUnsignedByte(index(c, logical)) << 8 | u8(buf, c, logical + 1);
    }

    /**
     * Returns the big-endian 32-bit value at a logical offset; its bytes may lie in different records.
     *
     * @param buf the buffer
     * @param cursor a cursor at or before the record that holds {@code logical}
     * @param logical the offset in the handshake message
     * @return the value
     */
    static int u32(ByteBuf buf, long cursor, int logical) {
        long c = seek(buf, cursor, logical);
        if (logical + 3 < end(c)) {
            return buf.getInt(index(c, logical));
        }
        return u16(buf, c, logical) << 16 | u16(buf, c, logical + 2);
    }
}
