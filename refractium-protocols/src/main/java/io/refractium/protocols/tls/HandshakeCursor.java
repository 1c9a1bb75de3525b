package io.refractium.protocols.tls;

import io.netty.buffer.ByteBuf;

/**
 * Maps offsets in a handshake message that spans several TLS records to offsets in the buffer, without copying the
 * message and without allocating.
 *
 * <p>A cursor is a {@code long}: the high 32 bits hold the logical offset (within the handshake message) where a
 * record's fragment starts, the low 32 bits the buffer offset of that fragment. The fragment's length is read from
 * the record header just before it. Moving a cursor forward walks the record headers from where it stands, so a
 * parser that reads forward and keeps its cursor close to where it reads pays a constant cost per read.
 *
 * <p>When one record holds the whole message, the usual case, {@link #whole(int)} gives a cursor with its top bit set
 * that never moves: every read is a plain read at the fragment's offset plus the logical offset, with no record
 * header to look at.
 *
 * <p>Every method assumes the records up to the logical offset asked for have been validated (content type,
 * version, a length of 1 to 16384) and that the byte is in the buffer; {@link TlsDetector} checks both first.
 */
final class HandshakeCursor {

    /** The length of a TLS record header: content type, version, length (RFC 8446 §5.1). */
    static final int RECORD_HEADER_LENGTH = 5;

    /** The flag of a cursor on a record that holds the whole message. */
    private static final long WHOLE = 1L << 63;

    private HandshakeCursor() {
    }

    /**
     * Returns a cursor on a record that holds the whole handshake message: reads through it skip the record walk.
     *
     * @param fragment the buffer offset of the record's fragment (just after its header)
     * @return the cursor
     */
    static long whole(int fragment) {
        return WHOLE | fragment & 0xFFFF_FFFFL;
    }

    /**
     * Returns whether a cursor came from {@link #whole(int)}.
     *
     * @param cursor the cursor
     * @return whether one record holds the whole message
     */
    static boolean isWhole(long cursor) {
        return cursor < 0;
    }

    /**
     * Returns a cursor on the first record.
     *
     * @param firstFragment the buffer offset of the first record's fragment (just after its header)
     * @return the cursor
     */
    static long first(int firstFragment) {
        return firstFragment & 0xFFFF_FFFFL;
    }

    /**
     * Moves a cursor forward to the record that holds a logical offset.
     *
     * @param buf the buffer
     * @param cursor a cursor at or before the record that holds {@code logical}
     * @param logical the offset in the handshake message
     * @return a cursor on the record that holds {@code logical}
     */
    static long seek(ByteBuf buf, long cursor, int logical) {
        if (cursor < 0) {
            return cursor;
        }
        int start = (int) (cursor >>> 32);
        int offset = (int) cursor;
        int length = buf.getUnsignedShort(offset - 2);
        if (logical < start + length) {
            return cursor;
        }
        do {
            start += length;
            offset += length + RECORD_HEADER_LENGTH;
            length = buf.getUnsignedShort(offset - 2);
        } while (logical >= start + length);
        return (long) start << 32 | offset & 0xFFFF_FFFFL;
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
        if (cursor < 0) {
            return buf.getUnsignedByte((int) cursor + logical);
        }
        long c = seek(buf, cursor, logical);
        return buf.getUnsignedByte((int) c + logical - (int) (c >>> 32));
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
        if (cursor < 0) {
            return buf.getUnsignedShort((int) cursor + logical);
        }
        long c = seek(buf, cursor, logical);
        int index = (int) c + logical - (int) (c >>> 32);
        if (logical + 1 < (int) (c >>> 32) + buf.getUnsignedShort((int) c - 2)) {
            return buf.getUnsignedShort(index);
        }
        return buf.getUnsignedByte(index) << 8 | u8(buf, c, logical + 1);
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
        if (cursor < 0) {
            return buf.getInt((int) cursor + logical);
        }
        long c = seek(buf, cursor, logical);
        return u16(buf, c, logical) << 16 | u16(buf, c, logical + 2);
    }
}
