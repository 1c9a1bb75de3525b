package io.refractium.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.Random;

/**
 * Runs a detector the way the engine does, on buffers of every kind, and checks the contract: the buffer's indexes
 * stay where they were, the detector never reads past the writer index, and it answers {@code NEED_MORE} until a
 * decisive byte and the same answer from then on. Every buffer is released.
 */
public final class DetectorChecks {

    /** A TCP connection still sending. */
    public static final DetectionContext TCP = context(Transport.TCP, false);
    /** A TCP connection whose client has finished sending. */
    public static final DetectionContext TCP_COMPLETE = context(Transport.TCP, true);
    /** The first datagram of a UDP flow. */
    public static final DetectionContext UDP = context(Transport.UDP, true);

    /** The buffers the tests run on. */
    public enum Kind {
        UNPOOLED_HEAP(UnpooledByteBufAllocator.DEFAULT, false),
        UNPOOLED_DIRECT(UnpooledByteBufAllocator.DEFAULT, true),
        POOLED_HEAP(PooledByteBufAllocator.DEFAULT, false),
        POOLED_DIRECT(PooledByteBufAllocator.DEFAULT, true);

        private final ByteBufAllocator alloc;
        private final boolean direct;

        Kind(ByteBufAllocator alloc, boolean direct) {
            this.alloc = alloc;
            this.direct = direct;
        }

        /**
         * Returns a buffer holding {@code junk} bytes, then the bytes, with its reader index after the junk and a
         * capacity of exactly what it holds, so that reading past the writer index fails.
         */
        public ByteBuf buffer(byte[] bytes, int offset, int length, int junk) {
            int capacity = junk + length;
            ByteBuf b = direct ? alloc.directBuffer(capacity, capacity) : alloc.heapBuffer(capacity, capacity);
            for (int i = 0; i < junk; i++) {
                b.writeByte(0xa5 ^ i);
            }
            b.writeBytes(bytes, offset, length);
            b.readerIndex(junk);
            return b;
        }
    }

    private DetectorChecks() {
    }

    /** Returns a context on a loopback connection. */
    public static DetectionContext context(Transport transport, boolean inputComplete) {
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
        InetSocketAddress local = new InetSocketAddress("127.0.0.1", 443);
        return new DetectionContext() {
            @Override
            public Transport transport() {
                return transport;
            }

            @Override
            public SocketAddress remoteAddress() {
                return remote;
            }

            @Override
            public SocketAddress localAddress() {
                return local;
            }

            @Override
            public boolean isInputComplete() {
                return inputComplete;
            }

            @Override
            public String toString() {
                return transport + (inputComplete ? " complete" : "");
            }
        };
    }

    /** Runs the detector on the bytes over TCP, in an unpooled heap buffer. */
    public static DetectionResult detect(RefractiumProtocol p, byte[] bytes) {
        return detect(p, bytes, TCP);
    }

    /** Runs the detector on the bytes, in an unpooled heap buffer. */
    public static DetectionResult detect(RefractiumProtocol p, byte[] bytes, DetectionContext context) {
        return detect(p, bytes, 0, bytes.length, context, Kind.UNPOOLED_HEAP, 0);
    }

    /**
     * Runs the detector on a slice of the bytes in a buffer of the kind, behind {@code junk} bytes skipped by the
     * reader index, checks that it left the indexes alone, and releases the buffer.
     */
    public static DetectionResult detect(RefractiumProtocol p, byte[] bytes, int offset, int length,
                                         DetectionContext context, Kind kind, int junk) {
        ByteBuf buf = kind.buffer(bytes, offset, length, junk);
        try {
            DetectionResult r = p.detect(buf, context);
            assertThat(r).as("result").isNotNull();
            assertThat(buf.readerIndex()).as("reader index").isEqualTo(junk);
            assertThat(buf.writerIndex()).as("writer index").isEqualTo(junk + length);
            assertThat(buf.refCnt()).as("reference count").isEqualTo(1);
            return r;
        } finally {
            buf.release();
        }
    }

    /**
     * Feeds the bytes one more byte at a time, as the engine does after each read, on every kind of buffer, with
     * and without junk before the reader index: {@code NEED_MORE} for every prefix shorter than {@code decisive},
     * then the same answer (with the same attributes) for every longer one.
     *
     * @return the answer at the decisive byte
     */
    public static DetectionResult assertDecidesAt(RefractiumProtocol p, byte[] bytes, int decisive, Status expected,
                                                  DetectionContext context) {
        assertThat(decisive).as("decisive length").isBetween(1, bytes.length);
        DetectionResult decided = null;
        Kind[] kinds = Kind.values();
        for (int n = 0; n <= bytes.length; n++) {
            Kind kind = kinds[n % kinds.length];
            int junk = n % 3 == 0 ? 0 : 1 + n % 7;
            DetectionResult r = detect(p, bytes, 0, n, context, kind, junk);
            if (n < decisive) {
                assertThat(r.status()).as("answer after %d of %d bytes (decisive: %d)", n, bytes.length, decisive)
                        .isEqualTo(Status.NEED_MORE);
            } else if (n == decisive) {
                assertThat(r.status()).as("answer at the decisive byte %d", n).isEqualTo(expected);
                decided = r;
            } else {
                assertThat(r.status()).as("answer after %d bytes (decided at %d)", n, decisive).isEqualTo(expected);
                assertThat(r.attributes()).as("attributes after %d bytes", n).isEqualTo(decided.attributes());
            }
        }
        return decided;
    }

    /**
     * Cuts the bytes into random chunks (seeded), each in a buffer of a random kind, and feeds them as the engine's
     * cumulation would (a composite buffer that grows by one chunk per read): {@code NEED_MORE} until the bytes
     * reach {@code decisive}, then the expected answer with the given attributes.
     */
    public static void assertRandomSplits(RefractiumProtocol p, byte[] bytes, int decisive, DetectionResult expected,
                                          DetectionContext context, long seed, int iterations) {
        Random random = new Random(seed);
        Kind[] kinds = Kind.values();
        for (int it = 0; it < iterations; it++) {
            int maxChunk = 1 + random.nextInt(Math.max(1, bytes.length / 2));
            CompositeByteBuf cumulation = Unpooled.compositeBuffer(Integer.MAX_VALUE);
            try {
                int junk = random.nextInt(4);
                if (junk > 0) {
                    cumulation.addComponent(true, Unpooled.wrappedBuffer(new byte[junk]));
                    cumulation.readerIndex(junk);
                }
                for (int offset = 0; offset < bytes.length; ) {
                    int n = Math.min(1 + random.nextInt(maxChunk), bytes.length - offset);
                    cumulation.addComponent(true, kinds[random.nextInt(kinds.length)].buffer(bytes, offset, n, 0));
                    offset += n;
                    DetectionResult r = p.detect(cumulation, context);
                    assertThat(cumulation.readerIndex()).as("reader index").isEqualTo(junk);
                    assertThat(cumulation.writerIndex()).as("writer index").isEqualTo(junk + offset);
                    String where = "iteration " + it + " (seed " + seed + "), " + offset + " of " + bytes.length
                            + " bytes";
                    if (offset < decisive) {
                        assertThat(r.status()).as(where).isEqualTo(Status.NEED_MORE);
                    } else {
                        assertThat(r.status()).as(where).isEqualTo(expected.status());
                        assertThat(r.attributes()).as(where).isEqualTo(expected.attributes());
                    }
                }
            } finally {
                cumulation.release();
            }
        }
    }

    /** Runs the detector on every kind of buffer, behind junk bytes, and checks it answers the same each time. */
    public static DetectionResult assertSameOnEveryBuffer(RefractiumProtocol p, byte[] bytes, DetectionContext context) {
        DetectionResult first = null;
        for (Kind kind : Kind.values()) {
            for (int junk : new int[] {0, 1, 13}) {
                DetectionResult r = detect(p, bytes, 0, bytes.length, context, kind, junk);
                if (first == null) {
                    first = r;
                } else {
                    assertThat(r.status()).as("%s behind %d junk bytes", kind, junk).isEqualTo(first.status());
                    assertThat(r.attributes()).as("%s behind %d junk bytes", kind, junk).isEqualTo(first.attributes());
                }
            }
        }
        return first;
    }

    /**
     * Runs the detector on random buffers (seeded) of random lengths up to {@code maxLength}, behind an optional
     * fixed prefix, and checks it never matches.
     */
    public static void assertNeverMatchesRandom(RefractiumProtocol p, DetectionContext context, byte[] prefix,
                                                long seed, int buffers, int maxLength) {
        Random random = new Random(seed);
        Kind[] kinds = Kind.values();
        for (int i = 0; i < buffers; i++) {
            byte[] bytes = Arrays.copyOf(prefix, prefix.length + 1 + random.nextInt(maxLength));
            byte[] tail = new byte[bytes.length - prefix.length];
            random.nextBytes(tail);
            System.arraycopy(tail, 0, bytes, prefix.length, tail.length);
            DetectionResult r = detect(p, bytes, 0, bytes.length, context, kinds[i % kinds.length], i % 2);
            assertThat(r.status()).as("random buffer %d (seed %d) of %d bytes", i, seed, bytes.length)
                    .isNotEqualTo(Status.MATCH);
        }
    }
}
