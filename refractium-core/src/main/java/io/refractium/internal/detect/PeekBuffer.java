package io.refractium.internal.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * The bytes read from a client before its backend is connected: owned here until {@link #take() taken} for the
 * replay or {@link #release() released}. Memory held is proportional to the bytes received (a read buffer much
 * larger than its content is copied into one of the right size instead of being kept) and charged to the
 * instance's {@link PeekBudget}. Not thread-safe: used on the connection's event loop.
 */
public final class PeekBuffer {

    /** A read buffer with more unused room than this (and than its content) is copied, not kept. */
    private static final int MAX_SLACK = 1024;

    private final PeekBudget budget;
    private ByteBuf buf;
    private int charged;

    /**
     * Creates an empty peek buffer.
     *
     * @param budget the budget its memory is charged to
     */
    public PeekBuffer(PeekBudget budget) {
        this.budget = budget;
    }

    /**
     * Appends bytes read from the client.
     *
     * @param alloc the channel's allocator
     * @param in the bytes; ownership passes to this buffer
     */
    public void append(ByteBufAllocator alloc, ByteBuf in) {
        if (buf == null) {
            int readable = in.readableBytes();
            int slack = in.capacity() - readable;
            if (slack > MAX_SLACK && slack > readable) {
                ByteBuf copy = alloc.ioBuffer(Math.max(readable, 64));
                try {
                    copy.writeBytes(in);
                } finally {
                    in.release();
                }
                buf = copy;
            } else {
                buf = in;
            }
        } else {
            buf = ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, buf, in);
        }
        recharge();
    }

    private void recharge() {
        int now = buf == null ? 0 : buf.capacity();
        if (now != charged) {
            budget.add(now - charged);
            charged = now;
        }
    }

    /** Returns the bytes received so far (owned by this object), or {@code null} before the first read. */
    public ByteBuf buffer() {
        return buf;
    }

    /** Returns how many bytes are held. */
    public int readableBytes() {
        return buf == null ? 0 : buf.readableBytes();
    }

    /** Hands the bytes over to the caller, who then owns them; returns {@code null} when nothing was read. */
    public ByteBuf take() {
        ByteBuf b = buf;
        buf = null;
        recharge();
        return b;
    }

    /** Releases what is held; idempotent. */
    public void release() {
        ByteBuf b = take();
        if (b != null) {
            b.release();
        }
    }
}
