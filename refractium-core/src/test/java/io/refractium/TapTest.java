package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Direction;
import io.refractium.hook.Tap;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Taps on real sockets: read-only copies of every byte, off the event loop, in order per connection, with a bounded
 * queue whose drops are counted and reported, and threads that stop with the instance.
 */
@Timeout(120)
class TapTest {

    private static final byte[] HEADER = "BULK\n".getBytes(StandardCharsets.US_ASCII);
    private static final int SIZE = 1024 * 1024;

    /** Digests what it gets per connection and direction, and records each connection's end. */
    static final class DigestingTap implements Tap {
        final Map<Long, MessageDigest[]> digests = new ConcurrentHashMap<>();
        final Map<Long, ConnectionSummary> closed = new ConcurrentHashMap<>();
        final Map<Long, Long> dropped = new ConcurrentHashMap<>();
        final Queue<String> threads = new ConcurrentLinkedQueue<>();
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final CountDownLatch release;

        DigestingTap(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public void onData(long connectionId, Direction direction, ByteBuffer data) {
            if (!data.isReadOnly()) {
                errors.add("a writable buffer");
            }
            if (closed.containsKey(connectionId)) {
                errors.add("data after the end of " + connectionId);
            }
            threads.add(Thread.currentThread().getName());
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            digests.computeIfAbsent(connectionId, k -> new MessageDigest[] {sha256(), sha256()})[direction.ordinal()]
                    .update(data);
        }

        @Override
        public void onClosed(long connectionId, ConnectionSummary summary, long droppedBytes) {
            dropped.put(connectionId, droppedBytes);
            closed.put(connectionId, summary);
        }

        String digest(long id, Direction d) {
            MessageDigest[] md = digests.get(id);
            return md == null ? null : HexFormat.of().formatHex(md[d.ordinal()].digest());
        }
    }

    @Test
    void aTapGetsACopyOfEveryByteInOrderOffTheEventLoop() throws Exception {
        DigestingTap tap = new DigestingTap(new CountDownLatch(0));
        Queue<String> backendReceived = new ConcurrentLinkedQueue<>();
        try (TestServer backend = TestServer.start(s -> {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> DataHookTest.writeSeeded(s, -1, SIZE));
            backendReceived.add(DataHookTest.digestUntilEof(s.getInputStream()));
            sent.join();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).splice(true)
                    .protocol(new PrefixProtocol("bulk", "BULK\n"))
                    .route("bulk", ForwardTarget.of("sink", backend.hostAndPort()))
                    // Room for every byte of the run, so that a slow machine cannot make the tap drop any.
                    .tap(tap, 64L * 1024 * 1024)
                    .build().start();
            int n = 10;
            try (r) {
                List<String> got = DataHookTest.runClients(r, n, SIZE);
                assertThat(got).allMatch(DataHookTest.expectedDigest(null, -1, SIZE, 0)::equals);
                Await.until("the tap heard of every end", () -> tap.closed.size() == n);
                assertThat(r.splicedConnections()).as("a tapped connection never splices").isZero();
            }
            List<String> expectedUp = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expectedUp.add(DataHookTest.expectedDigest(HEADER, i, SIZE, 0));
            }
            List<String> tappedUp = new ArrayList<>();
            for (long id : tap.closed.keySet()) {
                tappedUp.add(tap.digest(id, Direction.CLIENT_TO_BACKEND));
                assertThat(tap.digest(id, Direction.BACKEND_TO_CLIENT))
                        .isEqualTo(DataHookTest.expectedDigest(null, -1, SIZE, 0));
                assertThat(tap.dropped.get(id)).isZero();
                assertThat(tap.closed.get(id).bytesFromClient()).isEqualTo(HEADER.length + SIZE);
            }
            assertThat(tappedUp).containsExactlyInAnyOrderElementsOf(expectedUp);
            assertThat(tap.errors).isEmpty();
            assertThat(tap.threads).allMatch(t -> t.startsWith("refractium-tap-"));
            TapStatus status = r.taps().get(0);
            assertThat(status.deliveredBytes()).isEqualTo((long) n * (HEADER.length + 2L * SIZE));
            assertThat(status.droppedBytes()).isZero();
            assertThat(status.queuedBytes()).isZero();
        }
    }

    @Test
    void aTapThatFallsBehindLosesCountedBytesAndTheConnectionLosesNone() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        DigestingTap tap = new DigestingTap(release);
        try (TestServer backend = TestServer.start(s -> {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> DataHookTest.writeSeeded(s, -1, SIZE));
            DataHookTest.digestUntilEof(s.getInputStream());
            sent.join();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("bulk", "BULK\n"))
                    .route("bulk", ForwardTarget.of("sink", backend.hostAndPort()))
                    .tap(tap, 64 * 1024)
                    .build().start();
            try (r) {
                List<String> got = DataHookTest.runClients(r, 4, SIZE);
                assertThat(got).allMatch(DataHookTest.expectedDigest(null, -1, SIZE, 0)::equals);
                TapStatus status = r.taps().get(0);
                assertThat(status.droppedBytes()).isPositive();
                assertThat(status.droppedChunks()).isPositive();
                assertThat(status.queuedBytes()).isLessThanOrEqualTo(64 * 1024);
                release.countDown();
                Await.until("the tap heard of every end", () -> tap.closed.size() == 4);
                long droppedPerConnection = tap.dropped.values().stream().mapToLong(Long::longValue).sum();
                TapStatus after = r.taps().get(0);
                assertThat(droppedPerConnection).isEqualTo(after.droppedBytes());
                assertThat(after.deliveredBytes() + after.droppedBytes()).isEqualTo(4L * (HEADER.length + 2L * SIZE));
            }
        }
    }

    @Test
    void aTapChoosesItsConnectionsAndItsThreadStopsWithTheInstance() throws Exception {
        DigestingTap inner = new DigestingTap(new CountDownLatch(0));
        Tap onlyEcho = new Tap() {
            @Override
            public boolean wants(ConnectionInfo connection) {
                return "echo".equals(connection.target().name());
            }

            @Override
            public void onData(long connectionId, Direction direction, ByteBuffer data) {
                inner.onData(connectionId, direction, data);
            }

            @Override
            public void onClosed(long connectionId, ConnectionSummary summary, long droppedBytes) {
                inner.onClosed(connectionId, summary, droppedBytes);
            }
        };
        try (TestServer echo = TestServer.greeter("echo"); TestServer other = TestServer.greeter("other")) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("a", "A"))
                    .protocol(new PrefixProtocol("b", "B"))
                    .route("a", ForwardTarget.of("echo", echo.hostAndPort()))
                    .route("b", ForwardTarget.of("other", other.hostAndPort()))
                    .tap(onlyEcho)
                    .tap((id, direction, data) -> { })
                    .build().start();
            try (r) {
                assertThat(r.taps()).hasSize(2);
                for (String prefix : new String[] {"A", "B"}) {
                    try (java.net.Socket c = new java.net.Socket()) {
                        c.connect(r.localAddress(), 2000);
                        c.setSoTimeout(10_000);
                        c.getOutputStream().write((prefix + "\n").getBytes(StandardCharsets.US_ASCII));
                        c.shutdownOutput();
                        c.getInputStream().readAllBytes();
                    }
                }
                Await.until("the tap heard of the end", () -> inner.closed.size() == 1);
                Await.until("every connection closed", () -> r.activeConnections() == 0);
            }
            assertThat(r.taps().get(1).deliveredBytes()).as("the second tap took both").isGreaterThan(
                    r.taps().get(0).deliveredBytes());
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("refractium-tap-"));
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
