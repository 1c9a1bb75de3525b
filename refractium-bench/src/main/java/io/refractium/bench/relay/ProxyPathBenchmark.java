package io.refractium.bench.relay;

import io.refractium.Backend;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionReport;
import io.refractium.metrics.MetricsRecorder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * The whole proxy path on loopback, against the direct connection to the same backends: accept, peek, detect,
 * route, backend connect, replay, relay and close, driven by blocking {@link Socket} clients in the benchmark
 * thread. The backends ({@link LoopbackBackends}: an HTTP/1.1 server with a fixed response of about 100 bytes and a
 * bulk server) and the Refractium in front of them run in the same JVM; Refractium routes {@code http} to the HTTP
 * server and everything it cannot detect to the bulk server (its fallback target), with default settings otherwise
 * (epoll when available, one event loop per core).
 *
 * <p>{@code target} selects the path: {@code direct} connects to the backends themselves, {@code refractium-splice}
 * goes through Refractium with {@code splice(true)} (the default: a direction switches to {@code splice(2)} once
 * it reads 16 KiB or more at once; epoll only), {@code refractium-copy} through Refractium with {@code splice(false)}
 * (every byte goes through a buffer), {@code refractium-metrics} as {@code refractium-splice} with a
 * {@link MetricsRecorder} that counts every event in {@link LongAdder}s and reads each detection report (what a
 * recorder costs on the path; the others run with the default {@link MetricsRecorder#none()}).
 * <ul>
 *   <li>{@link #newConnectionRequest}: a new connection per operation, one {@code GET} with
 *       {@code Connection: close}, the whole response read up to the end of stream, then close. Through Refractium
 *       this is accept + peek + detection ({@code http}) + route + backend connect + replay + relay + FIN passed on
 *       both ways. Average time per connection, microseconds.</li>
 *   <li>{@link #keepAliveRequest}: one request and its response on a persistent connection opened once per thread,
 *       so through Refractium only the copy relay of short messages. Average time per request, microseconds.</li>
 *   <li>{@link #bulkDownload}: a new connection that sends a 10-byte preface no detector accepts (so it goes to
 *       the fallback target), reads {@value LoopbackBackends#BULK_BYTES} bytes (8 MiB) back and closes; the server
 *       closes after the client. Operations per second; one operation moves 8 MiB, so MiB/s = 8 x ops/s.</li>
 *   <li>{@link #bulkDownloadUntilClose}: the same, except that the server closes the connection right after the last
 *       byte, and the client reads up to that end of stream and checks that all 8 MiB arrived. The client usually
 *       reads slower than the server writes, so the server's FIN reaches the proxy while bytes sent before it are
 *       still inside (the backend socket's queue, the client's outbound buffer, the splice pipe): this is the case
 *       where the proxy must pass the FIN on only after those bytes.</li>
 *   <li>{@link #bulkUpload}: the other way: the preface and 8 MiB sent, one byte of acknowledgement read up to the
 *       end of stream. Operations per second, 8 MiB each.</li>
 * </ul>
 * The bulk operations include their connection setup (well under 1% of the time of 8 MiB); they are where
 * {@code splice} and {@code copy} differ, the two request benchmarks never read 16 KiB at once and stay on the
 * copy path in both modes.
 *
 * <p>Run from the repository root (16 s per benchmark and {@code target} with these settings, about five minutes for
 * the whole class):
 * <pre>{@code
 * mvn -q -B -pl refractium-bench -am -DskipTests package
 * java -jar refractium-bench/target/benchmarks.jar ProxyPathBenchmark -prof gc
 * }</pre>
 * Add {@code -p target=direct,refractium-copy} to choose paths, or a benchmark name after the class name
 * ({@code ProxyPathBenchmark.bulkDownload}) to choose benchmarks.
 *
 * <p>How to read it: client, proxy and backends share the machine's cores, so absolute figures say more about the
 * machine than about Refractium. Report each Refractium figure as a ratio to {@code direct} from the same run
 * (time ratio for the request benchmarks, throughput ratio for the bulk ones). {@code gc.alloc.rate.norm} counts the
 * bytes allocated per operation by every thread of the JVM (client, backends and proxy), so the difference between a
 * Refractium row and the {@code direct} row is what the proxy allocates per connection or per request. Every
 * socket has a 10-second read timeout and every response is checked, so a stall or a wrong byte count fails the
 * run instead of slowing it.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ProxyPathBenchmark {

    private static final int TIMEOUT_MILLIS = 10_000;
    private static final byte[] CLOSE_REQUEST = ascii("GET /bench HTTP/1.1\r\n"
            + "Host: 127.0.0.1\r\n"
            + "Connection: close\r\n"
            + "\r\n");
    private static final byte[] KEEP_ALIVE_REQUEST = ascii("GET /bench HTTP/1.1\r\n"
            + "Host: 127.0.0.1\r\n"
            + "\r\n");

    /** The path: {@code direct}, {@code refractium-splice}, {@code refractium-copy} or {@code refractium-metrics}. */
    @Param({"direct", "refractium-splice", "refractium-copy", "refractium-metrics"})
    public String target;

    private LoopbackBackends backends;
    private Refractium refractium;
    private InetSocketAddress httpAddress;
    private InetSocketAddress bulkAddress;

    /**
     * Starts the backends and, unless {@code target} is {@code direct}, a Refractium in front of them; then makes
     * one new-connection request, one download and one upload, so that a broken path fails before measuring.
     *
     * @throws Exception when a server cannot start or a path does not answer as expected
     */
    @Setup(Level.Trial)
    public void start() throws Exception {
        backends = new LoopbackBackends();
        switch (target) {
            case "direct":
                httpAddress = backends.httpAddress();
                bulkAddress = backends.bulkAddress();
                break;
            case "refractium-splice":
            case "refractium-copy":
            case "refractium-metrics":
                refractium = Refractium.builder()
                        .listen("127.0.0.1", 0)
                        .discoverProtocols()
                        .route("http", ForwardTarget.of("web", hostAndPort(backends.httpAddress())))
                        .fallback(ForwardTarget.to(hostAndPort(backends.bulkAddress())))
                        .splice(!target.equals("refractium-copy"))
                        .metrics(target.equals("refractium-metrics") ? new CountingRecorder() : MetricsRecorder.none())
                        .shutdownGracePeriod(Duration.ofSeconds(1))
                        .build()
                        .start();
                httpAddress = refractium.localAddress();
                bulkAddress = refractium.localAddress();
                break;
            default:
                backends.close();
                throw new IllegalArgumentException("target: " + target
                        + " (expected: direct, refractium-splice, refractium-copy or refractium-metrics)");
        }
        Scratch scratch = new Scratch();
        newConnectionRequest(scratch);
        bulkDownload(scratch);
        bulkUpload(scratch);
    }

    /** Closes Refractium, waiting for its event loops, then the backends. */
    @TearDown(Level.Trial)
    public void stop() {
        if (refractium != null) {
            refractium.close();
        }
        backends.close();
    }

    /**
     * Connects, sends one {@code GET} with {@code Connection: close}, reads the response to the end of stream and
     * closes.
     *
     * @param scratch the thread's read buffer
     * @return the number of bytes received
     * @throws IOException on a socket error, a timeout or an unexpected response
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int newConnectionRequest(Scratch scratch) throws IOException {
        try (Socket socket = connect(httpAddress)) {
            socket.getOutputStream().write(CLOSE_REQUEST);
            int n = readToEnd(socket.getInputStream(), scratch.buf);
            expect(scratch.buf, n, LoopbackBackends.CLOSE_RESPONSE);
            return n;
        }
    }

    /**
     * Sends one request on the thread's persistent connection and reads its response.
     *
     * @param connection the thread's connection
     * @return the last byte of the response
     * @throws IOException on a socket error, a timeout or an unexpected response
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int keepAliveRequest(KeepAliveConnection connection) throws IOException {
        return connection.exchange();
    }

    /**
     * Connects, sends the download preface, reads exactly 8 MiB and closes; the server closes its side when it sees
     * the client's end of stream.
     *
     * @param scratch the thread's read buffer
     * @return the number of bytes received
     * @throws IOException on a socket error, a timeout or an early end of stream
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long bulkDownload(Scratch scratch) throws IOException {
        try (Socket socket = connect(bulkAddress)) {
            socket.getOutputStream().write(LoopbackBackends.DOWNLOAD_PREFACE);
            InputStream in = socket.getInputStream();
            int total = 0;
            while (total < LoopbackBackends.BULK_BYTES) {
                int n = in.read(scratch.buf, 0, Math.min(scratch.buf.length, LoopbackBackends.BULK_BYTES - total));
                if (n < 0) {
                    throw new IOException("download: end of stream after " + total + " bytes (expected: "
                            + LoopbackBackends.BULK_BYTES + ")");
                }
                total += n;
            }
            return total;
        }
    }

    /**
     * Connects, sends the download-then-close preface and reads to the end of stream, which the server sends right
     * after the last of the 8 MiB; checks the byte count and closes.
     *
     * @param scratch the thread's read buffer
     * @return the number of bytes received
     * @throws IOException on a socket error, a timeout or a wrong byte count
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long bulkDownloadUntilClose(Scratch scratch) throws IOException {
        try (Socket socket = connect(bulkAddress)) {
            socket.getOutputStream().write(LoopbackBackends.DOWNLOAD_THEN_CLOSE_PREFACE);
            InputStream in = socket.getInputStream();
            long total = 0;
            for (int n; (n = in.read(scratch.buf)) >= 0; ) {
                total += n;
            }
            if (total != LoopbackBackends.BULK_BYTES) {
                throw new IOException("download until close: " + total + " bytes before the end of stream (expected: "
                        + LoopbackBackends.BULK_BYTES + ")");
            }
            return total;
        }
    }

    /**
     * Connects, sends the upload preface and 8 MiB, reads the one-byte acknowledgement to the end of stream and
     * closes.
     *
     * @param scratch the thread's write buffer
     * @return the acknowledgement byte
     * @throws IOException on a socket error, a timeout or a wrong acknowledgement
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public int bulkUpload(Scratch scratch) throws IOException {
        try (Socket socket = connect(bulkAddress)) {
            OutputStream out = socket.getOutputStream();
            out.write(LoopbackBackends.UPLOAD_PREFACE);
            for (int sent = 0; sent < LoopbackBackends.BULK_BYTES; sent += scratch.buf.length) {
                out.write(scratch.buf, 0, Math.min(scratch.buf.length, LoopbackBackends.BULK_BYTES - sent));
            }
            int n = readToEnd(socket.getInputStream(), scratch.buf);
            if (n != 1 || scratch.buf[0] != LoopbackBackends.UPLOAD_ACK) {
                throw new IOException("upload: " + n + "-byte answer (expected: the acknowledgement alone)");
            }
            return scratch.buf[0];
        }
    }

    /** A read and write buffer per benchmark thread, so that the client allocates no payload per operation. */
    @State(Scope.Thread)
    public static class Scratch {
        final byte[] buf = new byte[64 * 1024];
    }

    /** One persistent HTTP connection per benchmark thread, opened for the trial. */
    @State(Scope.Thread)
    public static class KeepAliveConnection {
        private final byte[] response = new byte[LoopbackBackends.KEEP_ALIVE_RESPONSE.length];
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        /**
         * Connects to the benchmark's HTTP address and checks one exchange.
         *
         * @param benchmark the benchmark state, which gives the address
         * @throws IOException when the connection or the first exchange fails
         */
        @Setup(Level.Trial)
        public void open(ProxyPathBenchmark benchmark) throws IOException {
            socket = connect(benchmark.httpAddress);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            exchange();
        }

        /**
         * Closes the connection.
         *
         * @throws IOException when closing fails
         */
        @TearDown(Level.Trial)
        public void close() throws IOException {
            socket.close();
        }

        int exchange() throws IOException {
            out.write(KEEP_ALIVE_REQUEST);
            int read = 0;
            while (read < response.length) {
                int n = in.read(response, read, response.length - read);
                if (n < 0) {
                    throw new IOException("keep-alive: end of stream after " + read + " bytes of the response");
                }
                read += n;
            }
            expect(response, read, LoopbackBackends.KEEP_ALIVE_RESPONSE);
            return response[read - 1];
        }
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.connect(address, TIMEOUT_MILLIS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Reads to the end of stream into {@code buf}; fails when more than {@code buf.length} bytes arrive. */
    private static int readToEnd(InputStream in, byte[] buf) throws IOException {
        int read = 0;
        for (int n; (n = in.read(buf, read, buf.length - read)) > 0; ) {
            read += n;
            if (read == buf.length) {
                throw new IOException("more than " + buf.length + " bytes before the end of stream");
            }
        }
        return read;
    }

    private static void expect(byte[] buf, int length, byte[] expected) throws IOException {
        if (!Arrays.equals(buf, 0, length, expected, 0, expected.length)) {
            throw new IOException("unexpected response: "
                    + new String(buf, 0, length, StandardCharsets.ISO_8859_1).replace("\r\n", "\\r\\n"));
        }
    }

    private static String hostAndPort(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A recorder that counts events and bytes, and reads each detection report's verdicts. */
    static final class CountingRecorder implements MetricsRecorder {
        final LongAdder accepted = new LongAdder();
        final LongAdder verdicts = new LongAdder();
        final LongAdder attempts = new LongAdder();
        final LongAdder closed = new LongAdder();
        final LongAdder bytes = new LongAdder();

        @Override
        public void connectionAccepted(InetSocketAddress listener) {
            accepted.increment();
        }

        @Override
        public void detectionDecided(ConnectionInfo connection, DetectionReport report) {
            verdicts.add(report.verdicts().size());
        }

        @Override
        public void connectStarted(ConnectionInfo connection, ForwardTarget target, Backend backend) {
            attempts.increment();
        }

        @Override
        public void connectionClosed(ConnectionInfo connection, ConnectionSummary summary) {
            closed.increment();
            bytes.add(summary.bytesFromClient() + summary.bytesToClient());
        }
    }
}
