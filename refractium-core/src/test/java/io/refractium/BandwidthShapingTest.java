package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bandwidth caps on real loopback connections, on NIO and epoll: bytes arrive exactly under shaping, a FIN follows
 * the shaped bytes, a per-address cap is shared by the connections of one address only, a shaped connection is never
 * spliced while an unshaped one still is, and every shaper and traffic counter is gone once the connections close.
 * The achieved rates are measured by {@code io.refractium.bench.relay.ShapingRateBench}, not here: the times below
 * are only loose lower bounds showing that a cap applies. A traffic counter gives up to about a second's worth of
 * credit at first (and whatever of the current second went unused), so each bound allows for that.
 */
@Timeout(120)
class BandwidthShapingTest {

    private static final int CONNECTIONS = 20;
    private static final int SIZE = 512 * 1024;
    private static final int CHUNK = 16 * 1024;
    private static final long MIB = 1024 * 1024;

    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "shaping-client");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    /**
     * Twenty connections at once, each sending 512 KiB of random bytes to an echo backend while reading the echo
     * (10 MiB each way in all), under every kind of cap at once: per connection (2 MiB/s), per address (4 MiB/s, the
     * one that binds), per route and per target. What each client sent, what the backend received and what the client got back have the same SHA-256.
     */
    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void everyByteArrivesUnderShaping(boolean nativeTransport) throws Exception {
        assumeEpoll(nativeTransport);
        Map<Integer, String> backendReceived = new ConcurrentHashMap<>();
        BandwidthLimits limits = BandwidthLimits.builder()
                .perConnection(2 * MIB, 2 * MIB)
                .perIp(4 * MIB, 4 * MIB)
                .perRoute(16 * MIB, 16 * MIB)
                .perTarget(24 * MIB, 24 * MIB)
                .build();
        try (TestServer backend = TestServer.start(echo(backendReceived))) {
            Refractium r = start(nativeTransport, limits, ForwardTarget.of("echo", backend.hostAndPort()));
            try (r) {
                long started = System.nanoTime();
                List<Future<String[]>> clients = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    int index = i;
                    clients.add(pool.submit(() -> echoClient(r.localAddress(), index)));
                }
                List<String> failures = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    String[] sentAndReceived = clients.get(i).get(60, TimeUnit.SECONDS);
                    int index = i;
                    Await.until("the backend saw connection " + i + " end", () -> backendReceived.containsKey(index),
                            Duration.ofSeconds(10));
                    if (!sentAndReceived[0].equals(sentAndReceived[1])
                            || !sentAndReceived[0].equals(backendReceived.get(i))) {
                        failures.add("connection " + i + ": sent " + sentAndReceived[0] + ", backend received "
                                + backendReceived.get(i) + ", client received " + sentAndReceived[1]);
                    }
                }
                long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                assertThat(failures).as("connections that lost, added or reordered bytes").isEmpty();
                // 10 MiB each way under a 4 MiB/s address cap: 2.5 s, at least 1.5 s after a second's credit.
                assertThat(elapsedMillis).as("time to move 10 MiB each way under a 4 MiB/s cap").isGreaterThan(1000);
                assertThat(r.splicedConnections()).as("shaped connections never splice").isZero();
                assertAllReleased(r);
            }
        }
    }

    /**
     * The client sends 256 KiB and its FIN under a 128 KiB/s upload cap; the backend counts everything up to the
     * FIN, then answers through a download cap and closes. A FIN passed on before the shaped bytes would cut the
     * count short.
     */
    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void aFinFollowsTheShapedBytesUpstream(boolean nativeTransport) throws Exception {
        assumeEpoll(nativeTransport);
        int body = 256 * 1024;
        try (TestServer backend = TestServer.start(s -> {
            byte[] all = s.getInputStream().readAllBytes();
            OutputStream out = s.getOutputStream();
            out.write(("received " + all.length + " bytes ending in "
                    + new String(all, all.length - 4, 4, StandardCharsets.US_ASCII) + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        })) {
            BandwidthLimits limits = BandwidthLimits.builder().perConnection(128 * 1024, 64 * 1024).build();
            Refractium r = start(nativeTransport, limits, ForwardTarget.of("b", backend.hostAndPort()));
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(30_000);
                long started = System.nanoTime();
                OutputStream out = c.getOutputStream();
                out.write("BW".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(100); // detected and relaying before the rest arrives
                byte[] bytes = new byte[body];
                java.util.Arrays.fill(bytes, (byte) 'x');
                out.write(bytes);
                out.write("done".getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                assertThat(TestServer.readLine(c.getInputStream()))
                        .isEqualTo("received " + (2 + body + 4) + " bytes ending in done");
                assertThat(c.getInputStream().read()).isEqualTo(-1);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                        .as("256 KiB under a 128 KiB/s cap: 2 s, at least 1 s after a second's credit")
                        .isGreaterThan(500);
                assertThat(r.splicedConnections()).isZero();
            }
            assertAllReleased(r);
        }
    }

    /**
     * The backend sends 256 KiB and its FIN under a 128 KiB/s download cap, then still reads what the client sends
     * afterwards: the client gets every byte, then the end of the stream, and its answer still reaches the backend.
     */
    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void aFinFollowsTheShapedBytesDownstream(boolean nativeTransport) throws Exception {
        assumeEpoll(nativeTransport);
        int body = 256 * 1024;
        Map<String, String> backendGot = new ConcurrentHashMap<>();
        try (TestServer backend = TestServer.start(s -> {
            InputStream in = s.getInputStream();
            byte[] hello = in.readNBytes(2);
            OutputStream out = s.getOutputStream();
            byte[] bytes = new byte[body];
            java.util.Arrays.fill(bytes, (byte) 'y');
            out.write(bytes);
            out.flush();
            s.shutdownOutput();
            backendGot.put("after FIN", new String(hello, StandardCharsets.US_ASCII)
                    + new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        })) {
            BandwidthLimits limits = BandwidthLimits.builder().perConnection(64 * 1024, 128 * 1024).build();
            Refractium r = start(nativeTransport, limits, ForwardTarget.of("b", backend.hostAndPort()));
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(30_000);
                long started = System.nanoTime();
                c.getOutputStream().write("BW".getBytes(StandardCharsets.US_ASCII));
                byte[] got = c.getInputStream().readAllBytes();
                assertThat(got.length).isEqualTo(body);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                        .as("256 KiB under a 128 KiB/s cap: 2 s, at least 1 s after a second's credit")
                        .isGreaterThan(500);
                c.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                Await.until("the backend read the client's answer", () -> backendGot.containsKey("after FIN"),
                        Duration.ofSeconds(10));
                assertThat(backendGot.get("after FIN")).isEqualTo("BWbye");
            }
            assertAllReleased(r);
        }
    }

    /**
     * Two connections from 127.0.0.2 share one upload cap of 256 KiB/s, so 2 × 512 KiB take about 4 s (at least 3 s
     * after a second's credit); a connection from 127.0.0.3 at the same time has a shaper of its own.
     */
    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void aPerAddressCapIsSharedByThatAddressOnly(boolean nativeTransport) throws Exception {
        assumeEpoll(nativeTransport);
        assumeBindable("127.0.0.2");
        assumeBindable("127.0.0.3");
        Map<Integer, String> backendReceived = new ConcurrentHashMap<>();
        BandwidthLimits limits = BandwidthLimits.builder().perIp(256 * 1024, 0).build();
        try (TestServer backend = TestServer.start(sink(backendReceived))) {
            Refractium r = start(nativeTransport, limits, ForwardTarget.of("sink", backend.hostAndPort()));
            try (r) {
                int size = 512 * 1024;
                long started = System.nanoTime();
                List<Future<Long>> clients = new ArrayList<>();
                String[] from = {"127.0.0.2", "127.0.0.2", "127.0.0.3"};
                java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(3);
                java.util.concurrent.CountDownLatch counted = new java.util.concurrent.CountDownLatch(1);
                for (int i = 0; i < from.length; i++) {
                    int index = i;
                    clients.add(pool.submit(() -> sinkClient(r.localAddress(), from[index], index, size, connected,
                            counted)));
                }
                assertThat(connected.await(10, TimeUnit.SECONDS)).isTrue();
                // All three are relaying: one shared upload shaper per address, none for download.
                Await.until("three connections relaying", () -> r.activeConnections() == 3);
                Await.until("two address shapers", () -> r.shaping().sharedShapers() == 2);
                long setupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                started = System.nanoTime();
                counted.countDown();
                long[] done = new long[3];
                for (int i = 0; i < 3; i++) {
                    done[i] = TimeUnit.NANOSECONDS.toMillis(clients.get(i).get(60, TimeUnit.SECONDS) - started);
                }
                for (int i = 0; i < 3; i++) {
                    int index = i;
                    Await.until("the backend saw connection " + i + " end", () -> backendReceived.containsKey(index),
                            Duration.ofSeconds(30));
                    assertThat(backendReceived.get(i)).isEqualTo("8+" + size);
                }
                long pair = Math.max(done[0], done[1]);
                // 1 MiB through one 256 KiB/s cap.
                assertThat(pair).as("two connections of 127.0.0.2 under one 256 KiB/s cap").isGreaterThan(2000);
                System.out.printf("BandwidthShapingTest per-address (native=%s): set up in %d ms, then 127.0.0.2 pair "
                        + "%d ms, 127.0.0.3 alone %d ms%n", nativeTransport, setupMillis, pair, done[2]);
            }
            assertAllReleased(r);
        }
    }

    /** With a cap on one target only, connections to the other target still splice; those to the capped one never. */
    @Test
    @EnabledOnOs(OS.LINUX)
    void anUnshapedConnectionStillSplices() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        Map<Integer, String> received = new ConcurrentHashMap<>();
        try (TestServer shapedBackend = TestServer.start(sink(received));
             TestServer freeBackend = TestServer.start(sink(received))) {
            BandwidthLimits limits = BandwidthLimits.builder().perTarget("shaped", 4 * MIB, 4 * MIB).build();
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).nativeTransport(true).splice(true)
                    .protocol(new PrefixProtocol("bw", "BW"))
                    .protocol(new PrefixProtocol("free", "FR"))
                    .route("bw", ForwardTarget.of("shaped", shapedBackend.hostAndPort()))
                    .route("free", ForwardTarget.of("free", freeBackend.hostAndPort()))
                    .bandwidth(limits)
                    .build().start();
            try (r) {
                int size = 2 * 1024 * 1024;
                bulk(r.localAddress(), "BW", 0, size);
                Await.until("the shaped backend got it all", () -> ("8+" + size).equals(received.get(0)),
                        Duration.ofSeconds(30));
                assertThat(r.splicedConnections()).as("after the shaped connection").isZero();
                bulk(r.localAddress(), "FR", 1, size);
                Await.until("the free backend got it all", () -> ("8+" + size).equals(received.get(1)),
                        Duration.ofSeconds(30));
                assertThat(r.splicedConnections()).as("after the unshaped connection").isEqualTo(1);
            }
            assertAllReleased(r);
        }
    }

    @Test
    void aCapForAnUnknownTargetFailsTheBuild() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                        .protocol(new PrefixProtocol("bw", "BW"))
                        .route("bw", ForwardTarget.of("known", "127.0.0.1:1"))
                        .bandwidth(BandwidthLimits.builder().perTarget("typo", 65536, 0).build())
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bandwidth perTarget \"typo\": no such target (expected one of [known])");
    }

    private static Refractium start(boolean nativeTransport, BandwidthLimits limits, ForwardTarget target) {
        return Refractium.builder().listen("127.0.0.1", 0).nativeTransport(nativeTransport).splice(true)
                .protocol(new PrefixProtocol("bw", "BW"))
                .route("bw", target)
                .bandwidth(limits)
                .build().start();
    }

    private static void assumeEpoll(boolean nativeTransport) {
        if (nativeTransport) {
            assumeTrue(Epoll.isAvailable(), "epoll is not available");
        }
    }

    private static void assumeBindable(String address) {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
        } catch (IOException e) {
            assumeTrue(false, "cannot bind to " + address + ": " + e);
        }
    }

    /** Once every connection closed, no shared shaper is held and no traffic counter (nor its timer) runs. */
    private static void assertAllReleased(Refractium r) {
        Await.until("connections closed", () -> r.activeConnections() == 0, Duration.ofSeconds(20));
        Await.until("shared shapers released (" + r.shaping().sharedShapers() + " left)",
                () -> r.shaping().sharedShapers() == 0, Duration.ofSeconds(10));
        Await.until("traffic counters stopped (" + r.shaping().runningCounters() + " left)",
                () -> r.shaping().runningCounters() == 0, Duration.ofSeconds(10));
    }

    /**
     * One echo client: "BW", its index (4 bytes), then random bytes, SIZE in all, written on another thread while
     * it reads the echo; half-closes after sending and reads to the end. Returns the digests sent and received.
     */
    private String[] echoClient(InetSocketAddress proxy, int index) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(proxy, 5000);
            c.setSoTimeout(60_000);
            Future<String> sent = pool.submit(() -> {
                MessageDigest md = sha256();
                OutputStream out = c.getOutputStream();
                Random random = new Random(index * 31L + 7);
                byte[] chunk = new byte[CHUNK];
                for (int off = 0; off < SIZE; off += CHUNK) {
                    random.nextBytes(chunk);
                    if (off == 0) {
                        chunk[0] = 'B';
                        chunk[1] = 'W';
                        chunk[2] = (byte) (index >>> 24);
                        chunk[3] = (byte) (index >>> 16);
                        chunk[4] = (byte) (index >>> 8);
                        chunk[5] = (byte) index;
                    }
                    out.write(chunk);
                    md.update(chunk);
                }
                out.flush();
                c.shutdownOutput();
                return HexFormat.of().formatHex(md.digest());
            });
            MessageDigest md = sha256();
            InputStream in = c.getInputStream();
            byte[] buf = new byte[CHUNK];
            long total = 0;
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
                total += n;
            }
            String sentDigest = sent.get(60, TimeUnit.SECONDS);
            String received = HexFormat.of().formatHex(md.digest());
            return new String[] {sentDigest, total == SIZE ? received : total + " bytes " + received};
        }
    }

    /** An echo backend recording, by connection index, the SHA-256 of what it received or the error it saw. */
    private static TestServer.Handler echo(Map<Integer, String> received) {
        return s -> {
            MessageDigest md = sha256();
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] head = in.readNBytes(6);
            md.update(head);
            out.write(head);
            int index = ((head[2] & 0xff) << 24) | ((head[3] & 0xff) << 16) | ((head[4] & 0xff) << 8) | (head[5] & 0xff);
            byte[] buf = new byte[CHUNK];
            long total = head.length;
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    md.update(buf, 0, n);
                    total += n;
                    out.write(buf, 0, n);
                }
                out.flush();
            } catch (IOException e) {
                received.put(index, "backend error after " + total + " bytes: " + e);
                throw e;
            }
            received.put(index, total == SIZE ? HexFormat.of().formatHex(md.digest()) : total + " bytes");
        };
    }

    /** A backend that reads a header (2-byte prefix, 4-byte index, 2 bytes) and then counts bytes to the end. */
    private static TestServer.Handler sink(Map<Integer, String> received) {
        return s -> {
            InputStream in = s.getInputStream();
            byte[] head = in.readNBytes(8);
            int index = ((head[2] & 0xff) << 24) | ((head[3] & 0xff) << 16) | ((head[4] & 0xff) << 8) | (head[5] & 0xff);
            long total = 0;
            byte[] buf = new byte[CHUNK];
            int n;
            while ((n = in.read(buf)) >= 0) {
                total += n;
            }
            received.put(index, head.length + "+" + total);
        };
    }

    /**
     * A client bound to a source address: sends its 8-byte header, waits until told, sends {@code size} bytes and
     * its FIN, waits for the end of the stream; returns {@link System#nanoTime()} at the end.
     */
    private static long sinkClient(InetSocketAddress proxy, String source, int index, int size,
                                   java.util.concurrent.CountDownLatch connected,
                                   java.util.concurrent.CountDownLatch go) throws Exception {
        try (Socket c = new Socket()) {
            c.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
            c.connect(proxy, 5000);
            c.setSoTimeout(60_000);
            OutputStream out = c.getOutputStream();
            out.write(header("BW", index));
            out.flush();
            connected.countDown();
            assertThat(go.await(20, TimeUnit.SECONDS)).isTrue();
            byte[] chunk = new byte[CHUNK];
            for (int off = 0; off < size; off += CHUNK) {
                out.write(chunk);
            }
            c.shutdownOutput();
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            return System.nanoTime();
        }
    }

    /** Sends a header and {@code size} bytes with a FIN, and waits for the end of the stream. */
    private static void bulk(InetSocketAddress proxy, String prefix, int index, int size) throws IOException {
        try (Socket c = new Socket()) {
            c.connect(proxy, 5000);
            c.setSoTimeout(60_000);
            OutputStream out = c.getOutputStream();
            out.write(header(prefix, index));
            byte[] chunk = new byte[64 * 1024];
            for (int off = 0; off < size; off += chunk.length) {
                out.write(chunk);
            }
            c.shutdownOutput();
            assertThat(c.getInputStream().read()).isEqualTo(-1);
        }
    }

    private static byte[] header(String prefix, int index) {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        return new byte[] {p[0], p[1], (byte) (index >>> 24), (byte) (index >>> 16), (byte) (index >>> 8),
            (byte) index, 0, 0};
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
