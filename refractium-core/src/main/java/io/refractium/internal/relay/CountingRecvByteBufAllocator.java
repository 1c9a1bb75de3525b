package io.refractium.internal.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * An adaptive receive allocator that counts every byte read from its channel, whether the bytes go through the
 * pipeline or are moved by {@code splice(2)} (epoll reports spliced bytes to the same handle). One instance per
 * channel; read {@link #bytesRead()} on the channel's event loop.
 */
public final class CountingRecvByteBufAllocator implements RecvByteBufAllocator {

    /**
     * Reads start at 16 KiB and grow up to 1 MiB while they fill their buffer (a bulk transfer): fewer system calls
     * per byte, which on the machines measured cost more than the copies (see BENCHMARKS.md). A buffer lives only
     * until its bytes are written to the peer, so idle connections hold none.
     */
    private static final AdaptiveRecvByteBufAllocator DELEGATE =
            new AdaptiveRecvByteBufAllocator(512, 16 * 1024, 1024 * 1024);

    /** How much one splice from the socket may move: more than a pipe holds, so each splice fills the pipe. */
    private static final int SPLICE_GUESS = 1024 * 1024;

    private long bytesRead;
    private boolean splicing;

    public long bytesRead() {
        return bytesRead;
    }

    /**
     * The channel's input now goes through {@code splice(2)}: its reads no longer allocate buffers, and the read
     * size guess (which bounds each splice) becomes large, so one wake-up moves a whole pipe.
     */
    public void splicing() {
        splicing = true;
    }

    /** Counts bytes read from the channel outside the allocator's handle. */
    public void add(int bytes) {
        bytesRead += bytes;
    }

    @Override
    public Handle newHandle() {
        return new CountingHandle((ExtendedHandle) DELEGATE.newHandle());
    }

    private final class CountingHandle implements ExtendedHandle {
        private final ExtendedHandle delegate;

        CountingHandle(ExtendedHandle delegate) {
            this.delegate = delegate;
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes > 0) {
                bytesRead += bytes;
            }
            delegate.lastBytesRead(bytes);
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return delegate.allocate(alloc);
        }

        @Override
        public int guess() {
            return splicing ? SPLICE_GUESS : delegate.guess();
        }

        @Override
        public void reset(ChannelConfig config) {
            delegate.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            delegate.incMessagesRead(numMessages);
        }

        @Override
        public int lastBytesRead() {
            return delegate.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            delegate.attemptedBytesRead(bytes);
        }

        @Override
        public int attemptedBytesRead() {
            return delegate.attemptedBytesRead();
        }

        @Override
        public boolean continueReading() {
            return delegate.continueReading();
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return delegate.continueReading(maybeMoreDataSupplier);
        }

        @Override
        public void readComplete() {
            delegate.readComplete();
        }
    }
}
