package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.internal.transport.Transports;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The relay when a peer misbehaves: a backend that resets during a spliced upload, a client that leaves while its
 * backend stopped reading, and resets passed on as resets both ways (the drain after a spliced FIN is in
 * {@code internal.relay.SpliceDrainTest}, where buffer sizes can be fixed). On real loopback sockets; every wait is
 * bounded.
 */
@Timeout(120)
class RelayEdgeCaseTest {

    enum Mode {
        NIO(IoTransport.NIO, false), EPOLL_COPY(IoTransport.EPOLL, false), EPOLL_SPLICE(IoTransport.EPOLL, true),
        IO_URING(IoTransport.IO_URING, false);

        final IoTransport transport;
        final boolean splice;

        Mode(IoTransport transport, boolean splice) {
            this.transport = transport;
            this.splice = splice;
        }
    }

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final BlockingQueue<ConnectionSummary> closed = new LinkedBlockingQueue<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() throws Exception {
        release.countDown();
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private static void assumeMode(Mode mode) {
        assumeTrue(mode.transport != IoTransport.EPOLL || Epoll.isAvailable(), "epoll is not available");
        assumeTrue(mode.transport != IoTransport.IO_URING || Transports.isIoUringAvailable(), "io_uring is not available");
    }

    private <T extends AutoCloseable> T keep(T resource) {
        resources.add(resource);
        return resource;
    }

    private RefractiumBuilder builder(Mode mode) {
        return Refractium.builder().listen("127.0.0.1", 0).transport(mode.transport).splice(mode.splice)
                .hook(new Hook() {
                    @Override
                    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                        closed.add(s);
                    }
                });
    }

    private Socket connect(Refractium r) throws IOException {
        Socket c = keep(new Socket());
        c.connect(r.localAddress(), 2000);
        c.setSoTimeout(10_000);
        return c;
    }

    // ------------------------------------------------------------------ backend reset during a spliced upload

    // ------------------------------------------------------------------ the backend finishes first

    /**
     * The backend answers and sends its FIN first; the client sees the answer and the end, keeps sending (a bulk
     * upload, spliced where splice is on), then sends its own FIN. Every byte reaches the backend, the backend sees
     * the end, and the connection ends as completed: the relay's shortcut for a side that already has its FIN (closed
     * at its input's end) loses nothing.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aClientKeepsSendingAfterTheBackendFinishedAndEveryByteArrives(Mode mode) throws Exception {
        assumeMode(mode);
        CompletableFuture<String> received = new CompletableFuture<>();
        MessageDigest backendSha = MessageDigest.getInstance("SHA-256");
        TestServer backend = keep(TestServer.start(s -> {
            s.getInputStream().readNBytes(4);
            s.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            for (int r; (r = s.getInputStream().read(buf)) >= 0; ) {
                backendSha.update(buf, 0, r);
                n += r;
            }
            received.complete(n + " " + HexFormat.of().formatHex(backendSha.digest()));
        }));
        Refractium r = keep(builder(mode)
                .protocol(new PrefixProtocol("fin", "FIN!"))
                .route("fin", ForwardTarget.of("finisher", backend.hostAndPort()))
                .build().start());
        Socket c = connect(r);
        c.getOutputStream().write("FIN!".getBytes(StandardCharsets.US_ASCII));
        assertThat(TestServer.readLine(c.getInputStream())).isEqualTo("bye");
        assertThat(c.getInputStream().read()).isEqualTo(-1);
        byte[] upload = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(upload);
        c.getOutputStream().write(upload);
        c.shutdownOutput();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        assertThat(received.get(20, TimeUnit.SECONDS))
                .isEqualTo(upload.length + " " + HexFormat.of().formatHex(sha.digest(upload)));
        ConnectionSummary summary = closed.poll(10, TimeUnit.SECONDS);
        assertThat(summary).isNotNull();
        assertThat(summary.reason()).isEqualTo(CloseReason.COMPLETED);
        assertThat(summary.bytesFromClient()).isEqualTo(4 + upload.length);
        assertThat(summary.bytesToClient()).isEqualTo(4);
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aBackendResetDuringASplicedUploadClosesTheClientAtOnceAndOtherConnectionsStayIntact() throws Exception {
        assumeMode(Mode.EPOLL_SPLICE);
        // "RST" connections: read 1 MiB (the upload splices by then), then answer more than the kernel buffers on the
        // way to a client that does not read can hold, so some of it waits in the proxy, and reset.
        TestServer resetter = keep(TestServer.start(s -> {
            s.getInputStream().readNBytes(1024 * 1024);
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    for (int i = 0; i < 1024; i++) {
                        s.getOutputStream().write(chunk); // blocks once everything on the way is full
                    }
                } catch (IOException ignored) {
                    // reset below
                }
            }, "resetter-writer");
            writer.setDaemon(true);
            writer.start();
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            s.setSoLinger(true, 0);
            s.close();
        }));
        TestServer echo = keep(TestServer.start(RelayEdgeCaseTest::echo));
        Refractium r = keep(builder(Mode.EPOLL_SPLICE)
                .protocol(new PrefixProtocol("rst", "RST"))
                .route("rst", ForwardTarget.of("resetter", resetter.hostAndPort()))
                .fallback(ForwardTarget.of("echo", echo.hostAndPort()))
                .build().start());

        Socket c = connect(r);
        CompletableFuture<Long> uploadEnded = CompletableFuture.supplyAsync(() -> {
            long sent = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            byte[] chunk = new byte[64 * 1024];
            chunk[0] = 'R';
            chunk[1] = 'S';
            chunk[2] = 'T';
            try {
                OutputStream out = c.getOutputStream();
                while (sent < 512L * 1024 * 1024 && System.nanoTime() - deadline < 0) {
                    out.write(chunk);
                    sent += chunk.length;
                }
                return -1L; // never stopped: the proxy kept swallowing the upload
            } catch (IOException e) {
                return sent;
            }
        });
        // While the first client keeps pushing, other connections open (their descriptors may take the numbers of
        // the closed backend and its pipe) and must relay exactly what they send.
        for (int i = 0; i < 8; i++) {
            assertThat(echoRoundTrip(r, 512 * 1024, i)).as("echo connection %d", i).isTrue();
        }
        assertThat(uploadEnded.get(30, TimeUnit.SECONDS)).as("bytes the client could send before the proxy "
                + "dropped it (-1: it never did)").isPositive();
        Await.until("all connections finished", () -> r.activeConnections() == 0, Duration.ofSeconds(10));
        assertThat(r.splicedConnections()).isGreaterThanOrEqualTo(2);
    }

    /** Sends {@code size} random bytes on a fresh connection while reading the echo; returns whether it matched. */
    private static boolean echoRoundTrip(Refractium r, int size, int seed) throws Exception {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        data[0] = 0;
        try (Socket s = new Socket()) {
            s.connect(r.localAddress(), 2000);
            s.setSoTimeout(10_000);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(data);
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = s.getInputStream().readAllBytes();
            sent.get(10, TimeUnit.SECONDS);
            return Arrays.equals(data, back);
        }
    }

    private static void echo(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
    }

    // ------------------------------------------------------------------ a client leaves, the backend does not read

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aClientThatLeavesWhileBytesAreQueuedForABackendThatStoppedReadingIsReleased(Mode mode) throws Exception {
        assumeMode(mode);
        TestServer stuck = keep(TestServer.start(s -> {
            try {
                release.await(60, TimeUnit.SECONDS); // never reads
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        // NIO cannot see the reset of a client it stopped reading (backpressure): there the idle timeout is the
        // bound. Epoll always watches for the peer's hang-up; on io_uring the relay checks a paused socket's pending
        // error every second.
        boolean seesHangUp = mode.transport != IoTransport.NIO;
        RefractiumBuilder b = builder(mode).fallback(ForwardTarget.of("stuck", stuck.hostAndPort()));
        if (!seesHangUp) {
            b.idleTimeout(Duration.ofSeconds(1));
        }
        Refractium r = keep(b.build().start());
        Socket c = connect(r);
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            try {
                for (int i = 0; i < 256 && System.nanoTime() - deadline < 0; i++) {
                    c.getOutputStream().write(chunk); // blocks once everything on the way is full
                }
            } catch (IOException ignored) {
                // the client closed below
            }
        });
        Thread.sleep(500); // the proxy now holds bytes for the backend that it cannot write
        c.setSoLinger(true, 0);
        c.close();
        sent.get(20, TimeUnit.SECONDS);
        Await.until("the connection released", () -> r.activeConnections() == 0, Duration.ofSeconds(10));
        CloseReason reason = closed.poll(5, TimeUnit.SECONDS).reason();
        assertThat(reason).isEqualTo(seesHangUp ? CloseReason.ERROR : CloseReason.IDLE_TIMEOUT);
    }

    // ------------------------------------------------------------------ resets passed on

    /**
     * Many short exchanges that end the way an HTTPS client with {@code Connection: close} ends them: the backend
     * answers and closes, and the client, having read the answer, sends its last bytes and resets at once. Every
     * connection must end; none may wait for an event it already missed. On io_uring, Netty's multishot poll lost that
     * wake-up for about one connection in ten, and the connection stayed open with its two descriptors.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void clientsThatSendTheirLastBytesAndResetAtOnceAllEnd(Mode mode) throws Exception {
        assumeMode(mode);
        int connections = 200;
        TestServer backend = keep(TestServer.start(s -> {
            s.getInputStream().readNBytes(4);
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readNBytes(4);
            s.getOutputStream().write("resp\n".getBytes(StandardCharsets.US_ASCII));
            s.close();
        }));
        Refractium r = keep(builder(mode)
                .protocol(new PrefixProtocol("ask", "ASK!"))
                .route("ask", ForwardTarget.of("answerer", backend.hostAndPort()))
                .build().start());
        for (int i = 0; i < connections; i++) {
            try (Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                c.getOutputStream().write("ASK!".getBytes(StandardCharsets.US_ASCII));
                InputStream in = c.getInputStream();
                assertThat(TestServer.readLine(in)).isEqualTo("hello");
                c.getOutputStream().write("req\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(TestServer.readLine(in)).isEqualTo("resp");
                c.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                c.setSoLinger(true, 0);
            }
        }
        Await.until(connections + " connections ended",
                () -> r.activeConnections() == 0 && closed.size() == connections);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aClientResetReachesTheBackendAsAReset(Mode mode) throws Exception {
        assumeMode(mode);
        CompletableFuture<String> backendSaw = new CompletableFuture<>();
        CountDownLatch received = new CountDownLatch(1);
        TestServer backend = keep(TestServer.start(s -> {
            InputStream in = s.getInputStream();
            try {
                in.readNBytes(200 * 1024);
                received.countDown();
                backendSaw.complete(in.read() < 0 ? "EOF" : "more bytes");
            } catch (IOException e) {
                backendSaw.complete(e.getMessage());
            }
        }));
        Refractium r = keep(builder(mode).fallback(ForwardTarget.of("b", backend.hostAndPort())).build().start());
        Socket c = connect(r);
        c.getOutputStream().write(new byte[200 * 1024]);
        assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();
        c.setSoLinger(true, 0);
        c.close();
        assertThat(backendSaw.get(10, TimeUnit.SECONDS)).contains("Connection reset");
        Await.until("the connection finished", () -> r.activeConnections() == 0);
        assertThat(closed.poll(5, TimeUnit.SECONDS).reason()).isEqualTo(CloseReason.ERROR);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBackendResetReachesTheClientAsAReset(Mode mode) throws Exception {
        assumeMode(mode);
        CountDownLatch clientRead = new CountDownLatch(1);
        TestServer backend = keep(TestServer.start(s -> {
            s.getInputStream().readNBytes(1);
            s.getOutputStream().write(new byte[200 * 1024]);
            s.getOutputStream().flush();
            try {
                clientRead.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            s.setSoLinger(true, 0);
            s.close();
        }));
        Refractium r = keep(builder(mode).fallback(ForwardTarget.of("b", backend.hostAndPort())).build().start());
        Socket c = connect(r);
        c.getOutputStream().write(0);
        InputStream in = c.getInputStream();
        assertThat(in.readNBytes(200 * 1024)).hasSize(200 * 1024);
        clientRead.countDown();
        String saw;
        try {
            saw = in.read() < 0 ? "EOF" : "more bytes";
        } catch (SocketException e) {
            saw = e.getMessage();
        }
        assertThat(saw).contains("Connection reset");
        Await.until("the connection finished", () -> r.activeConnections() == 0);
    }
}
