package io.refractium.internal.udp;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The connection ids of QUIC packets, read by the version-independent invariants (RFC 8999 §5): a long header
 * (first bit set) carries a version, then the destination connection id and the source connection id, each after
 * a length byte; a short header carries the destination connection id right after the first byte, with a length
 * the endpoints agreed on and the packet does not say. Nothing here decrypts anything.
 */
final class QuicIds {

    /** The longest connection id QUIC v1 allows (RFC 9000 §17.2); RFC 8999 allows 255, which nobody uses. */
    static final int MAX_LENGTH = 20;

    private QuicIds() {
    }

    /** A connection id, compared by content. */
    static final class Id {
        private final byte[] bytes;
        private final int hash;

        Id(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        int length() {
            return bytes.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Id && Arrays.equals(bytes, ((Id) o).bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** Returns whether the datagram starts with a long header. */
    static boolean isLong(ByteBuf d) {
        return d.readableBytes() > 0 && (d.getByte(d.readerIndex()) & 0x80) != 0;
    }

    /**
     * Returns the source connection id of a long-header packet that is not a version negotiation (the id the
     * sender wants to be addressed by), or {@code null}.
     */
    static Id sourceId(ByteBuf d) {
        int i = d.readerIndex();
        int end = d.writerIndex();
        if (end - i < 7 || !isLong(d) || d.getInt(i + 1) == 0) {
            return null;
        }
        int dcidLength = d.getUnsignedByte(i + 5);
        int at = i + 6 + dcidLength;
        if (dcidLength > MAX_LENGTH || at >= end) {
            return null;
        }
        int scidLength = d.getUnsignedByte(at);
        if (scidLength == 0 || scidLength > MAX_LENGTH || at + 1 + scidLength > end) {
            return null;
        }
        return id(d, at + 1, scidLength);
    }

    /** Returns the destination connection id of a long-header packet, or {@code null}. */
    static Id longDestinationId(ByteBuf d) {
        int i = d.readerIndex();
        if (d.writerIndex() - i < 6 || !isLong(d)) {
            return null;
        }
        int length = d.getUnsignedByte(i + 5);
        if (length == 0 || length > MAX_LENGTH || i + 6 + length > d.writerIndex()) {
            return null;
        }
        return id(d, i + 6, length);
    }

    /** Returns the first {@code length} bytes after a short header's first byte, or {@code null}. */
    static Id shortDestinationId(ByteBuf d, int length) {
        int i = d.readerIndex();
        if (isLong(d) || d.writerIndex() - i < 1 + length) {
            return null;
        }
        return id(d, i + 1, length);
    }

    private static Id id(ByteBuf d, int at, int length) {
        byte[] b = new byte[length];
        d.getBytes(at, b);
        return new Id(b);
    }
}
