package io.refractium.bench.udp;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.protocols.dns.DnsDetector;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * UDP forwarding through Refractium against the direct path to the same backend, in datagrams per second. A
 * blocking client socket in the benchmark thread sends a window of {@value #WINDOW} DNS queries ({@code size} bytes
 * each, padded with EDNS(0) Padding), then reads the {@value #WINDOW} echoed replies; a UDP echo server in another thread of the same JVM answers
 * them. Through Refractium the client's address is one flow, detected once ({@code dns}) and then forwarded by its
 * connected backend socket: this measures the steady forwarding path, both ways (one operation is one datagram out
 * and its reply back).
 *
 * <p>{@code target}: {@code direct} sends to the echo server itself; {@code refractium} goes through a UDP listener
 * with default settings (epoll when available); {@code refractium-nio} through one on NIO.
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -pl refractium-bench -am -DskipTests package
 * java -jar refractium-bench/target/benchmarks.jar UdpForwardingBenchmark
 * }</pre>
 *
 * <p>How to read it: client, proxy and echo server share the machine's cores; report the Refractium figure as a
 * ratio to {@code direct} from the same run. A reply that does not come within 200 ms counts in the {@code lost}
 * counter instead of failing the run (UDP may drop under load); a run with many losses measures the drops.
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class UdpForwardingBenchmark {

    /** Datagrams in flight per round. */
    static final int WINDOW = 16;

    /** The path: {@code direct}, {@code refractium} or {@code refractium-nio}. */
    @Param({"direct", "refractium", "refractium-nio"})
    public String target;

    /** The size of each datagram, in bytes. */
    @Param({"64", "1200"})
    public int size;

    private DatagramSocket echo;
    private Thread echoThread;
    private Refractium refractium;
    private DatagramSocket client;
    private InetSocketAddress to;
    private byte[] query;
    private final byte[] reply = new byte[65_536];

    /** Losses of the measured iterations. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Losses {
        /** Replies that did not come within the timeout. */
        public long lost;
    }

    /**
     * Starts the echo server, Refractium in front of it unless {@code target} is {@code direct}, and the client, and
     * checks one round trip.
     *
     * @throws IOException when a socket cannot be opened or the path does not answer
     */
    @Setup(Level.Trial)
    public void start() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        echo = new DatagramSocket(new InetSocketAddress(loopback, 0));
        echo.setReceiveBufferSize(4 << 20);
        echo.setSendBufferSize(4 << 20);
        echoThread = new Thread(this::serve, "udp-echo");
        echoThread.setDaemon(true);
        echoThread.start();
        InetSocketAddress backend = (InetSocketAddress) echo.getLocalSocketAddress();
        if (target.equals("direct")) {
            to = backend;
        } else {
            refractium = Refractium.builder()
                    .listenUdp("127.0.0.1", 0)
                    .nativeTransport(!target.equals("refractium-nio"))
                    .protocol(new DnsDetector())
                    .route("dns", ForwardTarget.of("echo", "127.0.0.1:" + backend.getPort()))
                    .shutdownGracePeriod(Duration.ZERO)
                    .build().start();
            to = refractium.udpLocalAddresses().get(0);
        }
        client = new DatagramSocket(new InetSocketAddress(loopback, 0));
        client.setReceiveBufferSize(4 << 20);
        client.setSendBufferSize(4 << 20);
        client.setSoTimeout(200);
        query = dnsQuery(size);
        client.setSoTimeout(5000);
        client.send(new DatagramPacket(query, query.length, to));
        DatagramPacket p = new DatagramPacket(reply, reply.length);
        client.receive(p);
        if (p.getLength() != query.length) {
            throw new IOException("the path answered " + p.getLength() + " bytes, expected " + query.length);
        }
        client.setSoTimeout(200);
    }

    /**
     * A DNS query of exactly {@code size} bytes (at least 45): one question for {@code bench.example}, type A, and an
     * EDNS(0) OPT record whose Padding option (RFC 7830) fills the rest.
     */
    static byte[] dnsQuery(int size) {
        byte[] q = new byte[Math.max(size, 45)];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(q);
        b.putShort((short) 0x1234).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0)
                .putShort((short) 0).putShort((short) 1);
        b.put((byte) 5).put("bench".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .put((byte) 7).put("example".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0);
        b.putShort((short) 1).putShort((short) 1);
        int padding = q.length - b.position() - 11 - 4;
        b.put((byte) 0).putShort((short) 41).putShort((short) 4096).putInt(0).putShort((short) (4 + padding));
        b.putShort((short) 12).putShort((short) padding); // the padding bytes stay zero
        return q;
    }

    private void serve() {
        byte[] buf = new byte[65_536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (!echo.isClosed()) {
            try {
                p.setLength(buf.length);
                echo.receive(p);
                echo.send(p);
            } catch (IOException e) {
                return;
            }
        }
    }

    /**
     * Sends a window of datagrams and reads their replies.
     *
     * @param losses counts replies that did not come
     * @throws IOException when a socket fails
     */
    @Benchmark
    @OperationsPerInvocation(WINDOW)
    public void datagramRoundTrips(Losses losses) throws IOException {
        DatagramPacket out = new DatagramPacket(query, query.length, to);
        for (int i = 0; i < WINDOW; i++) {
            client.send(out);
        }
        DatagramPacket in = new DatagramPacket(reply, reply.length);
        for (int i = 0; i < WINDOW; i++) {
            in.setLength(reply.length);
            try {
                client.receive(in);
            } catch (SocketTimeoutException e) {
                losses.lost += WINDOW - i;
                return;
            }
        }
    }

    /** Closes the client, Refractium and the echo server. */
    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        client.close();
        if (refractium != null) {
            refractium.close();
        }
        echo.close();
        echoThread.join(2000);
    }
}
