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
 *
 * <p>Calls that follow each other on growing bytes run twice: with a context that keeps what the detector saves with
 * {@link DetectionContext#saveProgress(long)} from one call to the next ({@link Memo}, as the engine does), and with
 * one that does not; both must give the same answers.
 */
public final class DetectorChecks {

    /** A TCP connection still sending. */
    public static final DetectionContext TCP = context(Transport.TCP, false);
    /** A TCP connection whose client has finished sending. */
    public static final DetectionContext TCP_COMPLETE = context(Transport.TCP, true);
    /** The first datagram of a UDP flow. */
    public static final DetectionContext UDP = context(Transport.UDP, true);
    /** A TCP connection still sending whose detection ends now (deadline or cap): {@code isLastCall()}. */
    public static final DetectionContext TCP_LAST_CALL = context(Transport.TCP, false, true);

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
        return context(transport, inputComplete, inputComplete);
    }

    /** Returns a context on a loopback connection, saying whether this is the detector's last call. */
    public static DetectionContext context(Transport transport, boolean inputComplete, boolean lastCall) {
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
            public boolean isLastCall() {
                return lastCall;
            }

            @Override
            public String toString() {
                return transport + (inputComplete ? " complete" : "") + (lastCall ? " last call" : "");
            }
        };
    }

    /**
     * Returns a context on a UDP flow whose offered bytes are datagrams ending at {@code datagramEnds} (offsets from
     * the reader index, increasing), saying whether more datagrams may come.
     */
    public static DetectionContext udp(int[] datagramEnds, boolean inputComplete) {
        DetectionContext base = context(Transport.UDP, inputComplete);
        int[] ends = datagramEnds.clone();
        return new DetectionContext() {
            @Override
            public Transport transport() {
                return Transport.UDP;
            }

            @Override
            public SocketAddress remoteAddress() {
                return base.remoteAddress();
            }

            @Override
            public SocketAddress localAddress() {
                return base.localAddress();
            }

            @Override
            public boolean isInputComplete() {
                return inputComplete;
            }

            @Override
            public boolean isLastCall() {
                return inputComplete;
            }

            @Override
            public int datagrams() {
                return ends.length;
            }

            @Override
            public int datagramEnd(int index) {
                if (index < 0 || index >= ends.length) {
                    throw new IndexOutOfBoundsException("no datagram " + index + ": " + ends.length + " offered");
                }
                return ends[index];
            }

            @Override
            public String toString() {
                return "UDP " + Arrays.toString(ends) + (inputComplete ? " complete" : "");
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
            DetectionResult r = context instanceof Memo memo ? memo.detect(p, buf) : p.detect(buf, context);
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
     * then the same answer (with the same attributes) for every longer one. It runs twice, without and with the
     * detector's progress kept from one call to the next.
     *
     * @return the answer at the decisive byte
     */
    public static DetectionResult assertDecidesAt(RefractiumProtocol p, byte[] bytes, int decisive, Status expected,
                                                  DetectionContext context) {
        DetectionResult decided = assertDecidesAt(p, bytes, decisive, expected, context, 0);
        DetectionResult withProgress = assertDecidesAt(p, bytes, decisive, expected, new Memo(context), 1);
        assertThat(withProgress.attributes()).as("attributes with progress kept").isEqualTo(decided.attributes());
        return decided;
    }

    private static DetectionResult assertDecidesAt(RefractiumProtocol p, byte[] bytes, int decisive, Status expected,
                                                   DetectionContext context, int shift) {
        assertThat(decisive).as("decisive length").isBetween(1, bytes.length);
        DetectionResult decided = null;
        Kind[] kinds = Kind.values();
        for (int n = 0; n <= bytes.length; n++) {
            Kind kind = kinds[(n + shift) % kinds.length];
            int junk = (n + shift) % 3 == 0 ? 0 : 1 + (n + shift) % 7;
            DetectionResult r = detect(p, bytes, 0, n, context, kind, junk);
            if (n < decisive) {
                assertThat(r.status()).as("answer after %d of %d bytes (decisive: %d), %s", n, bytes.length, decisive,
                        context).isEqualTo(Status.NEED_MORE);
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
     * cumulation would (a composite buffer that grows by one chunk per read), keeping the detector's progress from
     * one call to the next as the engine does: {@code NEED_MORE} until the bytes reach {@code decisive}, then the
     * expected answer with the given attributes; and after each chunk, the same answer from the beginning (without
     * the progress).
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
                Memo memo = new Memo(context);
                for (int offset = 0; offset < bytes.length; ) {
                    int n = Math.min(1 + random.nextInt(maxChunk), bytes.length - offset);
                    cumulation.addComponent(true, kinds[random.nextInt(kinds.length)].buffer(bytes, offset, n, 0));
                    offset += n;
                    DetectionResult r = memo.detect(p, cumulation);
                    DetectionResult fromStart = p.detect(cumulation, context);
                    assertThat(cumulation.readerIndex()).as("reader index").isEqualTo(junk);
                    assertThat(cumulation.writerIndex()).as("writer index").isEqualTo(junk + offset);
                    String where = "iteration " + it + " (seed " + seed + "), " + offset + " of " + bytes.length
                            + " bytes";
                    assertThat(fromStart.status()).as(where + ", from the beginning").isEqualTo(r.status());
                    assertThat(fromStart.attributes()).as(where + ", from the beginning").isEqualTo(r.attributes());
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

    /**
     * Feeds the bytes as reads that end at {@code ends} (increasing, the last one {@code bytes.length}), on one buffer
     * that grows as the engine's cumulation does, keeping the detector's progress from one call to the next; checks
     * after each read that the answer is the one the detector gives from the beginning on the same bytes, and stops
     * at the first answer other than {@code NEED_MORE}.
     *
     * @return the last answer
     */
    public static DetectionResult assertSameWithProgress(RefractiumProtocol p, byte[] bytes, int[] ends,
                                                         DetectionContext context) {
        ByteBuf buf = Kind.UNPOOLED_HEAP.buffer(bytes, 0, bytes.length, 3);
        try {
            Memo memo = new Memo(context);
            DetectionResult r = DetectionResult.needMore();
            for (int i = 0; i < ends.length && r.status() == Status.NEED_MORE; i++) {
                buf.writerIndex(3 + ends[i]);
                r = memo.detect(p, buf);
                DetectionResult fromStart = p.detect(buf, context);
                String where = "after " + ends[i] + " of " + bytes.length + " bytes (read " + i + ")";
                assertThat(fromStart.status()).as(where + ", from the beginning").isEqualTo(r.status());
                assertThat(fromStart.attributes()).as(where + ", from the beginning").isEqualTo(r.attributes());
                assertThat(buf.readerIndex()).as("reader index").isEqualTo(3);
            }
            return r;
        } finally {
            buf.release();
        }
    }

    /**
     * Feeds the bytes as reads that end at {@code ends}, on one buffer that grows as the engine's cumulation does,
     * keeping the detector's progress from one call to the next, until the first answer other than
     * {@code NEED_MORE}; unlike {@link #assertSameWithProgress} it does not also run the detector from the beginning
     * after each read, which costs the square of the reads.
     *
     * @return the last answer
     */
    public static DetectionResult detectWithProgress(RefractiumProtocol p, byte[] bytes, int[] ends,
                                                     DetectionContext context) {
        ByteBuf buf = Kind.UNPOOLED_DIRECT.buffer(bytes, 0, bytes.length, 5);
        try {
            Memo memo = new Memo(context);
            DetectionResult r = DetectionResult.needMore();
            for (int i = 0; i < ends.length && r.status() == Status.NEED_MORE; i++) {
                buf.writerIndex(5 + ends[i]);
                r = memo.detect(p, buf);
            }
            assertThat(buf.readerIndex()).as("reader index").isEqualTo(5);
            return r;
        } finally {
            buf.release();
        }
    }

    /**
     * Returns how many bytes the detector reads from the buffer in all, over reads that end at {@code ends}, on one
     * buffer that grows as the engine's cumulation does, keeping its progress from one call to the next (or not,
     * when {@code keepProgress} is {@code false}); until the first answer other than {@code NEED_MORE}.
     */
    public static long bytesRead(RefractiumProtocol p, byte[] bytes, int[] ends, DetectionContext context,
                                 boolean keepProgress) {
        CountingByteBuf buf = new CountingByteBuf(bytes);
        try {
            Memo memo = new Memo(context);
            DetectionResult r = DetectionResult.needMore();
            for (int i = 0; i < ends.length && r.status() == Status.NEED_MORE; i++) {
                buf.writerIndex(ends[i]);
                r = keepProgress ? memo.detect(p, buf) : p.detect(buf, context);
            }
            return buf.bytesRead();
        } finally {
            buf.release();
        }
    }

    /**
     * Changes a few bytes of each sample at random (seeded: replaced, incremented, zeroed, deleted or inserted), feeds
     * the result in reads of random sizes and checks with {@link #assertSameWithProgress} that keeping the progress
     * changes no answer, whatever rule the changed bytes break.
     */
    public static void assertProgressChangesNothingOnMutations(RefractiumProtocol p, byte[][] samples,
                                                               DetectionContext context, long seed, int iterations) {
        Random random = new Random(seed);
        for (int it = 0; it < iterations; it++) {
            byte[] bytes = samples[random.nextInt(samples.length)];
            if (it % 8 != 0) {
                bytes = mutate(bytes, random);
            }
            int maxRead = random.nextBoolean() ? 1 : 1 + random.nextInt(64);
            int[] ends = new int[bytes.length];
            int count = 0;
            for (int n = 0; n < bytes.length; ) {
                n = Math.min(bytes.length, n + 1 + random.nextInt(maxRead));
                ends[count++] = n;
            }
            assertSameWithProgress(p, bytes, Arrays.copyOf(ends, count), context);
        }
    }

    private static byte[] mutate(byte[] bytes, Random random) {
        byte[] b = bytes.clone();
        for (int i = random.nextInt(3); i >= 0; i--) {
            // half of the changes in the first 128 bytes, where most of the structure is
            int at = random.nextInt(random.nextBoolean() ? Math.min(b.length, 128) : b.length);
            switch (random.nextInt(5)) {
                case 0 -> b[at] = (byte) random.nextInt(256);
                case 1 -> b[at]++;
                case 2 -> b[at] = 0;
                case 3 -> {
                    if (b.length > 1) {
                        byte[] shorter = new byte[b.length - 1];
                        System.arraycopy(b, 0, shorter, 0, at);
                        System.arraycopy(b, at + 1, shorter, at, b.length - at - 1);
                        b = shorter;
                    }
                }
                default -> {
                    byte[] longer = new byte[b.length + 1];
                    System.arraycopy(b, 0, longer, 0, at);
                    longer[at] = (byte) random.nextInt(256);
                    System.arraycopy(b, at, longer, at + 1, b.length - at);
                    b = longer;
                }
            }
        }
        return b;
    }

    /** Returns the ends of reads of one byte each: 1, 2, ..., {@code length}. */
    public static int[] everyByte(int length) {
        int[] ends = new int[length];
        for (int i = 0; i < length; i++) {
            ends[i] = i + 1;
        }
        return ends;
    }

    /** Returns the ends of reads of {@code chunk} bytes each (the last one shorter), up to {@code length}. */
    public static int[] chunksOf(int chunk, int length) {
        int[] ends = new int[(length + chunk - 1) / chunk];
        for (int i = 0; i < ends.length; i++) {
            ends[i] = Math.min((i + 1) * chunk, length);
        }
        return ends;
    }

    /**
     * A context that keeps what the detector saves with {@link DetectionContext#saveProgress(long)} and gives it back
     * on the next call, as the engine does, and forgets it once the detector has decided; everything else comes from
     * another context.
     */
    public static final class Memo implements DetectionContext {
        private final DetectionContext context;
        private long progress;

        /** Returns a context with no progress saved yet, otherwise like {@code context}. */
        public Memo(DetectionContext context) {
            this.context = context;
        }

        /** Runs the detector on the buffer with this context, and forgets the progress when it decides. */
        public DetectionResult detect(RefractiumProtocol p, ByteBuf buf) {
            DetectionResult r = p.detect(buf, this);
            if (r.status() != Status.NEED_MORE) {
                progress = 0;
            }
            return r;
        }

        @Override
        public Transport transport() {
            return context.transport();
        }

        @Override
        public SocketAddress remoteAddress() {
            return context.remoteAddress();
        }

        @Override
        public SocketAddress localAddress() {
            return context.localAddress();
        }

        @Override
        public boolean isInputComplete() {
            return context.isInputComplete();
        }

        @Override
        public boolean isLastCall() {
            return context.isLastCall();
        }

        @Override
        public int datagrams() {
            return context.datagrams();
        }

        @Override
        public int datagramEnd(int index) {
            return context.datagramEnd(index);
        }

        @Override
        public long progress() {
            return progress;
        }

        @Override
        public void saveProgress(long progress) {
            this.progress = progress;
        }

        @Override
        public String toString() {
            return context + " with progress";
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
