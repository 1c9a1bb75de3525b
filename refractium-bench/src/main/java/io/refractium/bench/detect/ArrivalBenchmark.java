package io.refractium.bench.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The total cost of detecting a connection's first bytes over their whole arrival: the detector is called after each
 * read on the bytes received so far, as the engine calls it, until it decides. The normal cases arrive in one read;
 * the worst cases one byte (or one one-byte TLS record) per read, so the detector is called once per byte. One
 * operation is the whole arrival.
 *
 * <p>{@code progress=kept} runs the detectors with a context that keeps what they save with
 * {@link DetectionContext#saveProgress(long)} from one call to the next, as the engine does: each call resumes where
 * the previous one stopped, and the total cost is linear in the bytes. {@code progress=none} gives them a context
 * that keeps nothing, as before the engine kept it: each call starts again from the beginning, and the total cost is
 * quadratic in the bytes (the one-read cases cost the same either way).
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -DskipTests package && java -jar refractium-bench/target/benchmarks.jar ArrivalBenchmark -prof gc
 * }</pre>
 * {@code gc.alloc.rate.norm} is the bytes allocated per arrival: only the attributes of the match, none for the TLS
 * arrivals, whose hello the detector matched on an earlier operation and answers with that match. For a quick look
 * add {@code -f 1 -wi 3 -i 5 -w 1s -r 1s}; the {@code progress=none} worst cases take up to a second per operation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ArrivalBenchmark {

    /** How the bytes arrive, and whose bytes they are. */
    public enum Arrival {
        /** A ClientHello with an X25519 key share (about 600 bytes) in one read. */
        TLS_HELLO_ONE_READ,
        /** A ClientHello with a post-quantum key share (about 1.8 KB) in one read. */
        TLS_POST_QUANTUM_ONE_READ,
        /** The post-quantum ClientHello, in one record, one byte per read. */
        TLS_POST_QUANTUM_BYTE_PER_READ,
        /** A ClientHello with 1000 server_name entries (about 4 KB) in one-byte records, one record per read. */
        TLS_THOUSAND_NAMES_RECORD_PER_READ,
        /** A browser's HTTP request in one read. */
        HTTP_REQUEST_ONE_READ,
        /** A request with 16 KiB of header lines before its Host header, one byte per read. */
        HTTP_16K_HEADER_BYTE_PER_READ,
        /** A DNS query with EDNS over TCP in one read. */
        DNS_QUERY_ONE_READ,
        /** A 64 KiB DNS query over TCP, its OPT record full of empty options, one byte per read. */
        DNS_64K_QUERY_BYTE_PER_READ
    }

    /** The arrival. */
    @Param
    public Arrival arrival;

    /** Whether the context keeps the detector's progress between calls: {@code kept} or {@code none}. */
    @Param({"kept", "none"})
    public String progress;

    private RefractiumProtocol detector;
    private ByteBuf buf;
    private int start;
    private int[] ends;
    private Context context;

    /** Creates the benchmark state; JMH calls it. */
    public ArrivalBenchmark() {
    }

    /** Fills a pooled direct buffer with the bytes of the arrival, and checks that they match. */
    @Setup
    public void setUp() {
        byte[] bytes;
        switch (arrival) {
            case TLS_HELLO_ONE_READ -> {
                detector = new TlsDetector();
                bytes = Samples.records(Samples.x25519ClientHello(), 16384);
                ends = new int[] {bytes.length};
            }
            case TLS_POST_QUANTUM_ONE_READ -> {
                detector = new TlsDetector();
                bytes = Samples.records(Samples.postQuantumClientHello(), 16384);
                ends = new int[] {bytes.length};
            }
            case TLS_POST_QUANTUM_BYTE_PER_READ -> {
                detector = new TlsDetector();
                bytes = Samples.records(Samples.postQuantumClientHello(), 16384);
                ends = chunks(bytes.length, 1);
            }
            case TLS_THOUSAND_NAMES_RECORD_PER_READ -> {
                detector = new TlsDetector();
                bytes = Samples.records(Samples.thousandServerNamesClientHello(), 1);
                ends = chunks(bytes.length, 5 + 1);
            }
            case HTTP_REQUEST_ONE_READ -> {
                detector = new HttpDetector();
                bytes = Samples.ascii(Samples.BROWSER_REQUEST);
                ends = new int[] {bytes.length};
            }
            case HTTP_16K_HEADER_BYTE_PER_READ -> {
                detector = new HttpDetector();
                bytes = Samples.sixteenKibHeaderRequest();
                ends = chunks(bytes.length, 1);
            }
            case DNS_QUERY_ONE_READ -> {
                detector = new DnsDetector();
                bytes = Samples.dnsQueryOverTcp();
                ends = new int[] {bytes.length};
            }
            case DNS_64K_QUERY_BYTE_PER_READ -> {
                detector = new DnsDetector();
                bytes = Samples.longestDnsQueryOverTcp();
                ends = chunks(bytes.length, 1);
            }
            default -> throw new IllegalStateException("arrival: " + arrival);
        }
        context = new Context("kept".equals(progress));
        buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        buf.writeBytes(bytes);
        start = buf.readerIndex();
        DetectionResult r = arrive();
        // The HTTP detector decides at the end of the Host line, before the empty line that ends the request.
        if (r.status() != DetectionResult.Status.MATCH || context.calls < ends.length - 2) {
            throw new IllegalStateException(arrival + " gives " + r + " after " + context.calls + " of " + ends.length
                    + " reads (expected: MATCH at the last read or just before)");
        }
    }

    /** Releases the buffer. */
    @TearDown
    public void tearDown() {
        buf.release();
    }

    /**
     * The whole arrival: the detector after each read, until it decides.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult arrive() {
        context.reset();
        DetectionResult r = DetectionResult.needMore();
        for (int i = 0; i < ends.length && r.status() == DetectionResult.Status.NEED_MORE; i++) {
            buf.writerIndex(start + ends[i]);
            r = detector.detect(buf, context);
            context.decided(r);
        }
        return r;
    }

    /** Returns the ends of reads of {@code chunk} bytes each, up to {@code length}. */
    private static int[] chunks(int length, int chunk) {
        int[] ends = new int[(length + chunk - 1) / chunk];
        for (int i = 0; i < ends.length; i++) {
            ends[i] = Math.min((i + 1) * chunk, length);
        }
        return ends;
    }

    /** A TCP connection still sending, that keeps the detector's progress as the engine does, or keeps none. */
    private static final class Context extends Contexts.Fixed {
        private final boolean keep;
        private long saved;
        private int calls;

        Context(boolean keep) {
            super(Transport.TCP, false);
            this.keep = keep;
        }

        void reset() {
            saved = 0;
            calls = 0;
        }

        void decided(DetectionResult r) {
            calls++;
            if (r.status() != DetectionResult.Status.NEED_MORE) {
                saved = 0;
            }
        }

        @Override
        public long progress() {
            return saved;
        }

        @Override
        public void saveProgress(long progress) {
            if (keep) {
                saved = progress;
            }
        }
    }
}
