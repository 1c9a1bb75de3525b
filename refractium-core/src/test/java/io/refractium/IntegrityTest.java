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
import io.refractium.testing.OpenFiles;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Byte-exact relaying under concurrency: 50 connections at once through the fallback route to an echo backend, each
 * sending 4 MiB of random bytes while it reads the echo; half of them half-close ({@code shutdownOutput()}) after
 * sending and read until EOF, the other half read exactly 4 MiB and close. For every connection the SHA-256 of what
 * the client sent, of what the backend received and of what the client received must be equal, and no side may see
 * an error. On NIO, the epoll copy path and the epoll splice path.
 *
 * <p>One run by default; {@code -Drefractium.integrity.runs=20} repeats it, for instance
 * {@code mvn -o -B -pl refractium-core test -Dtest=IntegrityTest -Drefractium.integrity.runs=20}.
 */
@Timeout(1800)
class IntegrityTest {

    private static final int CONNECTIONS = 50;
    private static final int SIZE = 4 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final Duration RUN_LIMIT = Duration.ofSeconds(120);

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

    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "integrity-client");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mode.class)
    void everyByteArrivesExactlyOnceBothWays(Mode mode) throws Exception {
        assumeTrue(mode.transport != IoTransport.EPOLL || Epoll.isAvailable(), "epoll is not available");
        assumeTrue(mode.transport != IoTransport.IO_URING || Transports.isIoUringAvailable(), "io_uring is not available");
        int runs = Integer.getInteger("refractium.integrity.runs", 1);
        Map<Integer, String> backendReceived = new ConcurrentHashMap<>();
        Map<Long, AtomicInteger> closedReports = new ConcurrentHashMap<>();
        Map<CloseReason, AtomicInteger> reasons = new ConcurrentHashMap<>();
        try (TestServer backend = TestServer.start(IntegrityTest.echo(backendReceived))) {
            // The JDK keeps one socket for closing NIO channels, made when the first one is closed: make it now.
            java.nio.channels.SocketChannel.open().close();
            int fdBefore = OpenFiles.count();
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .transport(mode.transport).splice(mode.splice)
                    .protocol(new PrefixProtocol("never", "NEVER"))
                    .fallback(ForwardTarget.of("echo", backend.hostAndPort()))
                    .hook(new Hook() {
                        @Override
                        public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                            closedReports.computeIfAbsent(c.id(), id -> new AtomicInteger()).incrementAndGet();
                            reasons.computeIfAbsent(s.reason(), x -> new AtomicInteger()).incrementAndGet();
                        }
                    })
                    .build().start();
            try (r) {
                List<String> failures = new ArrayList<>();
                for (int run = 0; run < runs; run++) {
                    backendReceived.clear();
                    failures.addAll(oneRun(r, run, backendReceived));
                    Await.until("connections of run " + run + " closed and no backend slot held",
                            () -> r.activeConnections() == 0 && r.target("echo").backends().stream()
                                    .allMatch(b -> b.activeConnections() == 0), Duration.ofSeconds(30));
                    if (!failures.isEmpty()) {
                        failures.add(0, "run " + run + " of " + runs + ", " + mode + ":");
                        break;
                    }
                }
                assertThat(failures).as("connections that lost, added or reordered bytes").isEmpty();
                // Each connection's end is reported exactly once, as a normal completion.
                Await.until("every connection reported closed",
                        () -> closedReports.size() == runs * CONNECTIONS, Duration.ofSeconds(10));
                assertThat(closedReports.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
                assertThat(reasons.keySet()).containsOnly(CloseReason.COMPLETED);
                System.out.printf("IntegrityTest %s: %d of %d runs intact (%d connections)%n", mode, runs, runs,
                        runs * CONNECTIONS);
                if (mode.splice) {
                    assertThat(r.splicedConnections()).as("connections that spliced").isPositive();
                } else {
                    assertThat(r.splicedConnections()).isZero();
                }
            }
            // Sockets, pipes, epoll and event descriptors all go with the instance.
            Await.until("file descriptors back to " + fdBefore + " (now " + OpenFiles.count() + ")",
                    () -> OpenFiles.count() <= fdBefore, Duration.ofSeconds(10));
        }
    }

    /** Runs the 50 connections once; returns a description of each one that failed. */
    private List<String> oneRun(Refractium r, int run, Map<Integer, String> backendReceived) throws Exception {
        List<Future<String[]>> clients = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
            int index = run * CONNECTIONS + i;
            boolean halfClose = i % 2 == 0;
            clients.add(pool.submit(() -> client(r, index, halfClose)));
        }
        List<String> failures = new ArrayList<>();
        long deadline = System.nanoTime() + RUN_LIMIT.toNanos();
        long backendDeadline = deadline + TimeUnit.SECONDS.toNanos(10);
        for (int i = 0; i < CONNECTIONS; i++) {
            int index = run * CONNECTIONS + i;
            boolean halfClose = i % 2 == 0;
            String[] sentAndReceived;
            try {
                sentAndReceived = clients.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                failures.add("connection " + index + " (halfClose=" + halfClose + "): not done within " + RUN_LIMIT);
                continue;
            } catch (java.util.concurrent.ExecutionException e) {
                failures.add("connection " + index + " (halfClose=" + halfClose + "): client failed: " + e.getCause());
                continue;
            }
            String sent = sentAndReceived[0];
            String received = sentAndReceived[1];
            // The backend records its digest when it sees EOF or an error, shortly after the client is done.
            while (!backendReceived.containsKey(index) && System.nanoTime() - backendDeadline < 0) {
                Thread.sleep(5);
            }
            String atBackend = backendReceived.get(index);
            if (!sent.equals(received) || !sent.equals(atBackend)) {
                failures.add("connection " + index + " (halfClose=" + halfClose + "): sent " + sent
                        + ", backend received " + atBackend + ", client received " + received);
            }
        }
        return failures;
    }

    /**
     * One client: writes 4 MiB (the first four bytes are its index, big-endian, so the first byte is 0 and matches
     * no detector) on a second thread while it reads the echo. Returns the digests of what it sent and received; a
     * received digest is prefixed with the error that ended reading early, if any.
     */
    private String[] client(Refractium r, int index, boolean halfClose) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(r.localAddress(), 5000);
            c.setSoTimeout((int) RUN_LIMIT.toMillis());
            Future<String> sent = pool.submit(() -> {
                MessageDigest md = sha256();
                OutputStream out = c.getOutputStream();
                Random random = new Random(index * 31L + 7);
                byte[] chunk = new byte[CHUNK];
                for (int off = 0; off < SIZE; off += CHUNK) {
                    random.nextBytes(chunk);
                    if (off == 0) {
                        chunk[0] = (byte) (index >>> 24);
                        chunk[1] = (byte) (index >>> 16);
                        chunk[2] = (byte) (index >>> 8);
                        chunk[3] = (byte) index;
                    }
                    out.write(chunk);
                    md.update(chunk);
                }
                out.flush();
                if (halfClose) {
                    c.shutdownOutput();
                }
                return HexFormat.of().formatHex(md.digest());
            });
            MessageDigest md = sha256();
            InputStream in = c.getInputStream();
            byte[] buf = new byte[CHUNK];
            long total = 0;
            String error = "";
            try {
                int n;
                while ((halfClose || total < SIZE)
                        && (n = in.read(buf, 0, halfClose ? buf.length : (int) Math.min(buf.length, SIZE - total))) >= 0) {
                    md.update(buf, 0, n);
                    total += n;
                }
            } catch (IOException e) {
                error = "error after " + total + " bytes: " + e + " ";
            }
            String sentDigest;
            try {
                sentDigest = sent.get(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                sentDigest = "sending failed: " + e.getCause();
            }
            String received = HexFormat.of().formatHex(md.digest());
            return new String[] {sentDigest, error + (total == SIZE ? received : total + " bytes " + received)};
        }
    }

    /** An echo backend that records, per connection index, the SHA-256 of all it received, or the error it saw. */
    private static TestServer.Handler echo(Map<Integer, String> received) {
        return s -> {
            MessageDigest md = sha256();
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[CHUNK];
            byte[] head = new byte[4];
            int headLen = 0;
            long total = 0;
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    for (int i = 0; i < n && headLen < 4; i++) {
                        head[headLen++] = buf[i];
                    }
                    md.update(buf, 0, n);
                    total += n;
                    out.write(buf, 0, n);
                }
                out.flush();
            } catch (IOException e) {
                if (headLen == 4) {
                    received.put(index(head), "backend error after " + total + " bytes: " + e);
                }
                throw e;
            }
            if (headLen == 4) {
                received.put(index(head), total == SIZE ? HexFormat.of().formatHex(md.digest()) : total + " bytes");
            }
        };
    }

    private static int index(byte[] head) {
        return ((head[0] & 0xff) << 24) | ((head[1] & 0xff) << 16) | ((head[2] & 0xff) << 8) | (head[3] & 0xff);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

}
