package io.refractium.bench.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.quic.QuicDetector;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
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
 * The cost of a QUIC detection decision: deriving the Initial keys from the connection ID, removing header
 * protection, decrypting with AES-128-GCM, reassembling the CRYPTO frames and parsing the ClientHello; on the first
 * flights of a real client (Netty's QUIC codec, quiche with BoringSSL, recorded on loopback, see
 * {@code src/main/resources/quic}) held in pooled direct buffers as the engine holds them.
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -DskipTests package && java -jar refractium-bench/target/benchmarks.jar QuicDetect -f 1 -wi 3 -i 5 -prof gc
 * }</pre>
 * {@code gc.alloc.rate.norm} is the bytes allocated per decision: the keys, the cipher parameters, the JDK's
 * AES-GCM buffers, and the attributes of a match; nothing for a datagram that is not a client Initial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class QuicDetectBenchmark {

    private final QuicDetector quic = new QuicDetector();
    private final DnsDetector dns = new DnsDetector();
    private final List<ByteBuf> buffers = new ArrayList<>();

    private ByteBuf onePacket;
    private DetectionContext onePacketContext;
    private ByteBuf rfc9001;
    private DetectionContext rfc9001Context;
    private ByteBuf postQuantum;
    private DetectionContext postQuantumContext;
    private DetectionContext postQuantumFirstContext;
    private ByteBuf dnsQuery;
    private DetectionContext dnsContext;

    /** Creates the benchmark state; JMH calls it. */
    public QuicDetectBenchmark() {
    }

    /** Fills pooled direct buffers with the recorded datagrams and checks each gives the expected answer. */
    @Setup
    public void setUp() {
        byte[] one = resource("quic-netty-h3");
        onePacket = buffer(one);
        onePacketContext = Contexts.udp(one.length);
        byte[] vector = resource("quic-rfc9001-client-initial");
        rfc9001 = buffer(vector);
        rfc9001Context = Contexts.udp(vector.length);
        byte[] first = resource("quic-netty-pq-1");
        byte[] second = resource("quic-netty-pq-2");
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        postQuantum = buffer(both);
        postQuantumContext = Contexts.udp(first.length, both.length);
        postQuantumFirstContext = Contexts.udp(first.length);
        byte[] query = Samples.dnsQueryOverTcp();
        byte[] udpQuery = new byte[query.length - 2];
        System.arraycopy(query, 2, udpQuery, 0, udpQuery.length);
        dnsQuery = buffer(udpQuery);
        dnsContext = Contexts.udp(udpQuery.length);
        check(quic.detect(onePacket, onePacketContext), DetectionResult.Status.MATCH);
        check(quic.detect(rfc9001, rfc9001Context), DetectionResult.Status.MATCH);
        check(quic.detect(postQuantum, postQuantumContext), DetectionResult.Status.MATCH);
        check(quic.detect(postQuantum.slice(0, first.length), postQuantumFirstContext),
                DetectionResult.Status.NEED_MORE);
        check(quic.detect(dnsQuery, dnsContext), DetectionResult.Status.NO_MATCH);
        check(dns.detect(onePacket, onePacketContext), DetectionResult.Status.NO_MATCH);
    }

    /** Releases the buffers. */
    @TearDown
    public void tearDown() {
        buffers.forEach(ByteBuf::release);
        buffers.clear();
    }

    /**
     * A client Initial in one datagram (1200 bytes, one packet): {@code MATCH} with SNI and ALPN.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult quicOnePacket() {
        return quic.detect(onePacket, onePacketContext);
    }

    /**
     * The client Initial of RFC 9001 Appendix A.2 (one packet, a 245-byte ClientHello).
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult quicRfc9001Vector() {
        return quic.detect(rfc9001, rfc9001Context);
    }

    /**
     * A post-quantum ClientHello (X25519MLKEM768 key share) in two Initial packets, two datagrams: decrypt both,
     * reassemble, parse; {@code MATCH}.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult quicPostQuantumTwoPackets() {
        return quic.detect(postQuantum, postQuantumContext);
    }

    /**
     * The first of those two datagrams alone: decrypted, the hello incomplete, {@code NEED_MORE}.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult quicPostQuantumFirstDatagramNeedsMore() {
        return quic.detect(postQuantum, postQuantumFirstContext);
    }

    /**
     * A DNS query offered to the QUIC detector: rejected on its length and first byte, no cryptography.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult quicRejectsDns() {
        return quic.detect(dnsQuery, dnsContext);
    }

    /**
     * A QUIC Initial offered to the DNS detector: rejected on its header.
     *
     * @return the decision
     */
    @Benchmark
    public DetectionResult dnsRejectsQuic() {
        return dns.detect(onePacket, onePacketContext);
    }

    private ByteBuf buffer(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        b.writeBytes(bytes);
        buffers.add(b);
        return b;
    }

    private static byte[] resource(String name) {
        try (InputStream in = QuicDetectBenchmark.class.getResourceAsStream("/quic/" + name + ".hex")) {
            if (in == null) {
                throw new IllegalStateException("no resource /quic/" + name + ".hex");
            }
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.startsWith("#")) {
                    hex.append(line.strip());
                }
            }
            return HexFormat.of().parseHex(hex);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void check(DetectionResult r, DetectionResult.Status expected) {
        if (r.status() != expected) {
            throw new IllegalStateException("sample gives " + r + " (expected: " + expected + ")");
        }
    }
}
