package io.refractium.bench.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.http2.Http2Detector;
import io.refractium.protocols.ssh.SshDetector;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.spi.DetectionResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one detection decision per built-in detector, on realistic first bytes held in pooled direct buffers
 * as the engine holds them: the whole input at once (a full decision, {@code MATCH} with its attributes), a
 * {@code NEED_MORE} on half a ClientHello (and its {@code MATCH} on the last call), and first-byte rejections (a detector on another protocol's bytes).
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -DskipTests package && java -jar refractium-bench/target/benchmarks.jar DetectorBenchmark -prof gc
 * }</pre>
 * {@code gc.alloc.rate.norm} is the bytes allocated per decision: only the attributes of a match, nothing on the
 * {@code NEED_MORE} and {@code NO_MATCH} paths. The TLS detector keeps its recent matches and answers a hello with
 * the same host name, ALPN list, version and ECH flag as one of them with that match, allocating nothing: the TLS
 * benchmarks that repeat one hello measure that case, the usual one for a proxy in front of a few services, and
 * {@code tlsPostQuantumHelloNewServerName} the other, a host name not seen lately, which builds a new match. For a
 * quick look add {@code -f 1 -wi 2 -i 3 -w 1s -r 1s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DetectorBenchmark {

    /** The host name of the ClientHello whose first 4 letters change on every call. */
    private static final String NEW_NAME = "aaaa.example";

    private final TlsDetector tls = new TlsDetector();
    private final HttpDetector http = new HttpDetector();
    private final Http2Detector http2 = new Http2Detector();
    private final SshDetector ssh = new SshDetector();
    private final DnsDetector dns = new DnsDetector();

    private final List<ByteBuf> buffers = new ArrayList<>();
    private ByteBuf clientHello;
    private ByteBuf clientHelloNewName;
    private int newNameIndex;
    private int newNames;
    private ByteBuf clientHelloInRecords;
    private ByteBuf halfClientHello;
    private ByteBuf httpRequest;
    private ByteBuf httpDotSegmentsRequest;
    private ByteBuf http2Preface;
    private ByteBuf h2cGet;
    private ByteBuf h2cGrpc;
    private ByteBuf sshBanner;
    private ByteBuf dnsQuery;

    /** Creates the benchmark state; JMH calls it. */
    public DetectorBenchmark() {
    }

    /** Fills pooled direct buffers with the samples. */
    @Setup
    public void setUp() {
        byte[] handshake = Samples.postQuantumClientHello();
        byte[] single = Samples.records(handshake, 16384);
        clientHello = buffer(single);
        byte[] named = Samples.records(Samples.postQuantumClientHello(NEW_NAME), 16384);
        clientHelloNewName = buffer(named);
        newNameIndex = indexOf(named, Samples.ascii(NEW_NAME));
        clientHelloInRecords = buffer(Samples.records(handshake, 100));
        halfClientHello = buffer(Arrays.copyOf(single, single.length / 2));
        httpRequest = buffer(Samples.ascii(Samples.BROWSER_REQUEST));
        httpDotSegmentsRequest = buffer(Samples.ascii(Samples.BROWSER_REQUEST.replace("/search?",
                "/static/./img/%7Euser/../a%2Fb/search?")));
        http2Preface = buffer(Samples.ascii(Samples.HTTP2_PREFACE_AND_SETTINGS));
        h2cGet = buffer(Samples.h2cCurlGet());
        h2cGrpc = buffer(Samples.h2cCurlGrpc());
        sshBanner = buffer(Samples.ascii(Samples.OPENSSH_BANNER));
        dnsQuery = buffer(Samples.dnsQueryOverTcp());
        check(tls.detect(clientHello, Contexts.TCP), DetectionResult.Status.MATCH);
        check(tls.detect(clientHelloInRecords, Contexts.TCP), DetectionResult.Status.MATCH);
        check(tlsPostQuantumHelloNewServerName(), DetectionResult.Status.MATCH);
        check(tls.detect(halfClientHello, Contexts.TCP), DetectionResult.Status.NEED_MORE);
        check(tls.detect(halfClientHello, Contexts.TCP_LAST_CALL), DetectionResult.Status.MATCH);
        check(http.detect(httpDotSegmentsRequest, Contexts.TCP), DetectionResult.Status.MATCH);
        check(http.detect(httpRequest, Contexts.TCP), DetectionResult.Status.MATCH);
        check(http2.detect(http2Preface, Contexts.TCP), DetectionResult.Status.NEED_MORE);
        check(http2.detect(h2cGet, Contexts.TCP), DetectionResult.Status.MATCH);
        check(http2.detect(h2cGrpc, Contexts.TCP), DetectionResult.Status.MATCH);
        check(ssh.detect(sshBanner, Contexts.TCP), DetectionResult.Status.MATCH);
        check(dns.detect(dnsQuery, Contexts.TCP), DetectionResult.Status.MATCH);
        check(tls.detect(httpRequest, Contexts.TCP), DetectionResult.Status.NO_MATCH);
        check(http.detect(clientHello, Contexts.TCP), DetectionResult.Status.NO_MATCH);
        check(dns.detect(httpRequest, Contexts.TCP), DetectionResult.Status.NO_MATCH);
    }

    /** Releases the buffers. */
    @TearDown
    public void tearDown() {
        buffers.forEach(ByteBuf::release);
        buffers.clear();
    }

    private ByteBuf buffer(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        b.writeBytes(bytes);
        buffers.add(b);
        return b;
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("not found");
    }

    private static void check(DetectionResult r, DetectionResult.Status expected) {
        if (r.status() != expected) {
            throw new IllegalStateException("sample gives " + r + " (expected: " + expected + ")");
        }
    }

    /**
     * TLS: a 1.8 KB post-quantum ClientHello in one record, with a GREASE ECH extension as Chrome sends
     * ({@code tls.ech} reported).
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsPostQuantumHello() {
        return tls.detect(clientHello, Contexts.TCP);
    }

    /**
     * TLS: the 1.8 KB post-quantum ClientHello in one record with a host name the detector has not seen recently: each
     * call writes the next of 65536 names ({@code aaaa.example} to {@code pppp.example}) into the buffer first, so
     * the detector builds a new match every time, as for a client of a service it has not matched lately.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsPostQuantumHelloNewServerName() {
        int n = newNames++;
        clientHelloNewName.setInt(newNameIndex, ('a' + (n >>> 12 & 15)) << 24 | ('a' + (n >>> 8 & 15)) << 16
                | ('a' + (n >>> 4 & 15)) << 8 | 'a' + (n & 15));
        return tls.detect(clientHelloNewName, Contexts.TCP);
    }

    /**
     * TLS: the same ClientHello split into records of 100 bytes.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsPostQuantumHelloInRecords() {
        return tls.detect(clientHelloInRecords, Contexts.TCP);
    }

    /**
     * TLS: the first half of the ClientHello, {@code NEED_MORE}.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsHalfHelloNeedsMore() {
        return tls.detect(halfClientHello, Contexts.TCP);
    }

    /**
     * HTTP/1.1: a browser's request with the usual headers.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult httpBrowserRequest() {
        return http.detect(httpRequest, Contexts.TCP);
    }

    /**
     * HTTP/1.1: the browser's request with a path to normalise (dot segments, {@code %7E}, {@code %2F}).
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult httpRequestWithDotSegments() {
        return http.detect(httpDotSegmentsRequest, Contexts.TCP);
    }

    /**
     * TLS: the first half of the ClientHello on the last call (the peek cap cut it), {@code MATCH} with the SNI and
     * ALPN before the cut.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsHalfHelloLastCall() {
        return tls.detect(halfClientHello, Contexts.TCP_LAST_CALL);
    }

    /**
     * HTTP/2: the connection preface and SETTINGS of a client that has not sent its request yet, {@code NEED_MORE}.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult http2PrefaceNeedsMore() {
        return http2.detect(http2Preface, Contexts.TCP);
    }

    /**
     * HTTP/2 with prior knowledge: curl's first request (preface, SETTINGS, WINDOW_UPDATE, HEADERS with a
     * Huffman-coded HPACK block), {@code MATCH} with host, method and path.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult h2cCurlHeaders() {
        return http2.detect(h2cGet, Contexts.TCP);
    }

    /**
     * HTTP/2 with prior knowledge: a gRPC-like POST from curl, {@code MATCH} with host, method, path and the gRPC
     * flag.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult h2cGrpcHeaders() {
        return http2.detect(h2cGrpc, Contexts.TCP);
    }

    /**
     * SSH: OpenSSH's banner.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult sshBanner() {
        return ssh.detect(sshBanner, Contexts.TCP);
    }

    /**
     * DNS: an A query with EDNS over TCP.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult dnsQuery() {
        return dns.detect(dnsQuery, Contexts.TCP);
    }

    /**
     * First-byte rejection: the TLS detector on an HTTP request.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult tlsRejectsHttp() {
        return tls.detect(httpRequest, Contexts.TCP);
    }

    /**
     * First-byte rejection: the HTTP detector on a ClientHello.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult httpRejectsTls() {
        return http.detect(clientHello, Contexts.TCP);
    }

    /**
     * Rejection in the header: the DNS detector on an HTTP request.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult dnsRejectsHttp() {
        return dns.detect(httpRequest, Contexts.TCP);
    }
}
