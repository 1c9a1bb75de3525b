package io.refractium.protocols;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * A heap buffer that counts the bytes read from it with any getter (single bytes, 16-, 24-, 32- and 64-bit values,
 * and the searches built on them), so that a test can check how much a detector reads without timing it.
 */
public final class CountingByteBuf extends UnpooledHeapByteBuf {

    private long bytesRead;

    /** Returns a buffer on the bytes (not copied), with its writer index at 0: move it to let bytes in. */
    public CountingByteBuf(byte[] bytes) {
        super(UnpooledByteBufAllocator.DEFAULT, bytes, bytes.length);
        writerIndex(0);
    }

    /** Returns how many bytes the getters have read so far. */
    public long bytesRead() {
        return bytesRead;
    }

    @Override
    protected byte _getByte(int index) {
        bytesRead++;
        return super._getByte(index);
    }

    @Override
    protected short _getShort(int index) {
        bytesRead += 2;
        return super._getShort(index);
    }

    @Override
    protected short _getShortLE(int index) {
        bytesRead += 2;
        return super._getShortLE(index);
    }

    @Override
    protected int _getUnsignedMedium(int index) {
        bytesRead += 3;
        return super._getUnsignedMedium(index);
    }

    @Override
    protected int _getUnsignedMediumLE(int index) {
        bytesRead += 3;
        return super._getUnsignedMediumLE(index);
    }

    @Override
    protected int _getInt(int index) {
        bytesRead += 4;
        return super._getInt(index);
    }

    @Override
    protected int _getIntLE(int index) {
        bytesRead += 4;
        return super._getIntLE(index);
    }

    @Override
    protected long _getLong(int index) {
        bytesRead += 8;
        return super._getLong(index);
    }

    @Override
    protected long _getLongLE(int index) {
        bytesRead += 8;
        return super._getLongLE(index);
    }
}
