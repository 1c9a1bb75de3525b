package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.epoll.Epoll;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DataContext;
import io.refractium.hook.DataHook;
import io.refractium.hook.Direction;
import io.refractium.hook.Hook;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data hooks on real sockets: they see every byte both ways, in order, from the first peeked byte, and may replace,
 * drop, inject, hold and close; a connection without one keeps the splice path.
 */
@Timeout(120)
class DataHookTest {

    private static final byte[] HEADER = "BULK\n".getBytes(StandardCharsets.US_ASCII);
    private static final int CONNECTIONS = 20;
    private static final int SIZE = 1024 * 1024;
    private static final int UP_KEY = 0x5A;
    private static final int DOWN_KEY = 0xA5;

    /** XORs client bytes in place and backend bytes into a new buffer (a replacement). */
    static final class XorHook implements DataHook {
        @Override
        public void onData(DataContext context, Direction direction, ByteBuf data) {
            // Bulk copies: per-byte accessors are slow under paranoid leak detection.
            byte[] bytes = new byte[data.readableBytes()];
            data.getBytes(data.readerIndex(), bytes);
            if (direction == Direction.CLIENT_TO_BACKEND) {
                data.setBytes(data.readerIndex(), xor(bytes, bytes.length, UP_KEY));
                context.forward(direction, data);
            } else {
                data.release();
                context.forward(direction, context.alloc().buffer(bytes.length)
                        .writeBytes(xor(bytes, bytes.length, DOWN_KEY)));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nio", "epoll-copy", "epoll-splice"})
    void aRewritingHookChangesEveryByteBothWaysUnderConcurrency(String transport) throws Exception {
        boolean nativeTransport = !transport.equals("nio");
        assumeTrue(!nativeTransport || Epoll.isAvailable(), "epoll is not available");
        Queue<String> backendReceived = new ConcurrentLinkedQueue<>();
        try (TestServer backend = TestServer.start(s -> {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> writeSeeded(s, -1, SIZE));
            backendReceived.add(digestUntilEof(s.getInputStream()));
            sent.join();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .nativeTransport(nativeTransport).splice(transport.equals("epoll-splice"))
                    .protocol(new PrefixProtocol("bulk", "BULK\n"))
                    .route("bulk", ForwardTarget.of("sink", backend.hostAndPort()))
                    .dataHook(c -> new XorHook())
                    .build().start();
            try (r) {
                List<String> clientReceived = runClients(r, CONNECTIONS, SIZE);
                String expectedDown = expectedDigest(null, -1, SIZE, DOWN_KEY);
                assertThat(clientReceived).hasSize(CONNECTIONS).allMatch(expectedDown::equals);
                List<String> expectedUp = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    expectedUp.add(expectedDigest(HEADER, i, SIZE, UP_KEY));
                }
                Await.until("the backend read every connection", () -> backendReceived.size() == CONNECTIONS);
                assertThat(backendReceived).containsExactlyInAnyOrderElementsOf(expectedUp);
                assertThat(r.splicedConnections()).as("a connection with a data hook never splices").isZero();
                Await.until("every connection closed", () -> r.activeConnections() == 0);
            }
        }
    }

    @Test
    void aConnectionWithoutADataHookKeepsTheSplicePath() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        Queue<String> backendReceived = new ConcurrentLinkedQueue<>();
        try (TestServer backend = TestServer.start(s -> {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> writeSeeded(s, -1, SIZE));
            backendReceived.add(digestUntilEof(s.getInputStream()));
            sent.join();
        })) {
            AtomicInteger asked = new AtomicInteger();
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).nativeTransport(true).splice(true)
                    .protocol(new PrefixProtocol("bulk", "BULK\n"))
                    .route("bulk", ForwardTarget.of("sink", backend.hostAndPort()))
                    .dataHook(c -> {
                        asked.incrementAndGet();
                        return null;
                    })
                    .build().start();
            try (r) {
                List<String> clientReceived = runClients(r, 2, SIZE);
                assertThat(clientReceived).allMatch(expectedDigest(null, -1, SIZE, 0)::equals);
                assertThat(asked).hasValue(2);
                assertThat(r.splicedConnections()).isEqualTo(2);
            }
        }
    }

    /** Answers "PING" itself, drops it, and passes everything else on; "QUIT" closes the connection. */
    static final class PingHook implements DataHook {
        @Override
        public void onData(DataContext context, Direction direction, ByteBuf data) {
            String text = data.toString(StandardCharsets.US_ASCII);
            if (direction == Direction.CLIENT_TO_BACKEND && text.equals("PING\n")) {
                data.release();
                context.forward(Direction.BACKEND_TO_CLIENT,
                        context.alloc().buffer().writeBytes("PONG\n".getBytes(StandardCharsets.US_ASCII)));
            } else if (direction == Direction.CLIENT_TO_BACKEND && text.equals("QUIT\n")) {
                data.release();
                context.close("the client said QUIT");
            } else {
                context.forward(direction, data);
            }
        }
    }

    @Test
    void aHookAnswersDropsInjectsAndCloses() throws Exception {
        Queue<ConnectionSummary> summaries = new ConcurrentLinkedQueue<>();
        try (TestServer backend = TestServer.greeter("backend")) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "HELLO"))
                    .route("line", ForwardTarget.of("echo", backend.hostAndPort()))
                    .dataHook(c -> new PingHook())
                    .hook(new Hook() {
                        @Override
                        public void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
                            summaries.add(summary);
                        }
                    })
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                OutputStream out = c.getOutputStream();
                InputStream in = c.getInputStream();
                out.write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readLine(in)).isEqualTo("backend");
                assertThat(readLine(in)).isEqualTo("HELLO");
                out.write("PING\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readLine(in)).as("answered by the hook, not echoed").isEqualTo("PONG");
                out.write("after\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readLine(in)).isEqualTo("after");
                out.write("QUIT\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(in.read()).as("closed by the hook").isEqualTo(-1);
                Await.until("the connection ended", () -> !summaries.isEmpty());
                ConnectionSummary s = summaries.peek();
                assertThat(s.reason()).isEqualTo(CloseReason.HOOK_CLOSED);
                assertThat(s.detail()).contains("the client said QUIT");
            }
        }
    }

    /** Holds what the client sends and passes it on reversed when the client finishes; the backend sees the FIN after. */
    static final class ReversingHook implements DataHook {
        private ByteBuf held;

        @Override
        public void onData(DataContext context, Direction direction, ByteBuf data) {
            if (direction == Direction.BACKEND_TO_CLIENT) {
                context.forward(direction, data);
                return;
            }
            if (held == null) {
                held = context.alloc().buffer();
            }
            held.writeBytes(data);
            data.release();
        }

        @Override
        public void onEnd(DataContext context, Direction direction) {
            if (direction == Direction.CLIENT_TO_BACKEND && held != null) {
                ByteBuf out = context.alloc().buffer(held.readableBytes());
                for (int i = held.writerIndex() - 1; i >= held.readerIndex(); i--) {
                    out.writeByte(held.getByte(i));
                }
                held.release();
                held = null;
                context.forward(direction, out);
            }
        }

        @Override
        public void onClosed(DataContext context) {
            if (held != null) {
                held.release();
                held = null;
            }
        }
    }

    @Test
    void aHookHoldsBytesUntilTheFinAndTheFinFollowsThem() throws Exception {
        try (TestServer backend = TestServer.start(s -> {
            byte[] all = s.getInputStream().readAllBytes();
            s.getOutputStream().write(all);
            s.shutdownOutput();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "abc"))
                    .route("line", ForwardTarget.of("echo", backend.hostAndPort()))
                    .dataHook(c -> new ReversingHook())
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                c.getOutputStream().write("abcdef".getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(50);
                c.getOutputStream().write("ghij".getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                        .isEqualTo("jihgfedcba");
            }
        }
    }

    @Test
    void aHookThatHoldsBytesReleasesThemWhenTheConnectionIsClosedUnderIt() throws Exception {
        try (TestServer backend = TestServer.start(s -> s.getInputStream().read())) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "abc"))
                    .route("line", ForwardTarget.of("sink", backend.hostAndPort()))
                    .dataHook(c -> new ReversingHook())
                    .build().start();
            try (r) {
                for (int i = 0; i < 5; i++) {
                    try (Socket c = new Socket()) {
                        c.connect(r.localAddress(), 2000);
                        c.getOutputStream().write("abcdef".getBytes(StandardCharsets.US_ASCII));
                        Thread.sleep(20);
                    }
                }
                Await.until("every connection closed", () -> r.activeConnections() == 0);
            }
        }
    }

    @Test
    void aHookThatThrowsClosesItsConnectionOnly() throws Exception {
        AtomicInteger made = new AtomicInteger();
        Queue<ConnectionSummary> summaries = new ConcurrentLinkedQueue<>();
        try (TestServer backend = TestServer.greeter("backend")) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "HELLO"))
                    .route("line", ForwardTarget.of("echo", backend.hostAndPort()))
                    .dataHook(c -> made.incrementAndGet() == 1
                            ? (context, direction, data) -> {
                                throw new IllegalStateException("broken hook");
                            }
                            : (context, direction, data) -> context.forward(direction, data))
                    .hook(new Hook() {
                        @Override
                        public void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
                            summaries.add(summary);
                        }
                    })
                    .build().start();
            try (r) {
                try (Socket broken = new Socket()) {
                    broken.connect(r.localAddress(), 2000);
                    broken.setSoTimeout(10_000);
                    broken.getOutputStream().write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                    InputStream in = broken.getInputStream();
                    assertThat(in.readAllBytes()).isEmpty();
                }
                Await.until("the broken connection ended", () -> !summaries.isEmpty());
                assertThat(summaries.peek().reason()).isEqualTo(CloseReason.ERROR);
                assertThat(summaries.peek().detail()).contains("broken hook");
                try (Socket ok = new Socket()) {
                    ok.connect(r.localAddress(), 2000);
                    ok.setSoTimeout(10_000);
                    ok.getOutputStream().write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                    InputStream in = ok.getInputStream();
                    assertThat(readLine(in)).isEqualTo("backend");
                    assertThat(readLine(in)).isEqualTo("HELLO");
                }
            }
        }
    }

    @Test
    void bytesForwardedFromAnotherThreadArriveInOrder() throws Exception {
        ExecutorService exec = Executors.newSingleThreadExecutor();
        try (TestServer backend = TestServer.greeter("backend")) {
            // Every client line goes to the backend later, from another thread.
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "HELLO"))
                    .route("line", ForwardTarget.of("echo", backend.hostAndPort()))
                    .dataHook(c -> (context, direction, data) -> {
                        if (direction == Direction.CLIENT_TO_BACKEND) {
                            exec.execute(() -> context.forward(direction, data));
                        } else {
                            context.forward(direction, data);
                        }
                    })
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                OutputStream out = c.getOutputStream();
                InputStream in = c.getInputStream();
                out.write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(readLine(in)).isEqualTo("backend");
                assertThat(readLine(in)).isEqualTo("HELLO");
                for (int i = 0; i < 50; i++) {
                    out.write(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                    assertThat(readLine(in)).isEqualTo("line " + i);
                }
            }
        } finally {
            exec.shutdownNow();
            exec.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void hooksSeeClientBytesInTheOrderAddedAndBackendBytesInReverse() throws Exception {
        try (TestServer backend = TestServer.greeter("b")) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("line", "HELLO"))
                    .route("line", ForwardTarget.of("echo", backend.hostAndPort()))
                    .dataHook(c -> tagging("1"))
                    .dataHook(c -> tagging("2"))
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(10_000);
                c.getOutputStream().write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = c.getInputStream();
                // The greeting passes hook 2 then hook 1; the echo of "HELLO" was tagged by 1 then 2 on its way up.
                assertThat(readLine(in)).isEqualTo("b21");
                assertThat(readLine(in)).isEqualTo("HELLO1221");
            }
        }
    }

    /** Appends its tag before each line feed. */
    private static DataHook tagging(String tag) {
        return (context, direction, data) -> {
            ByteBuf out = context.alloc().buffer();
            while (data.isReadable()) {
                byte b = data.readByte();
                if (b == '\n') {
                    out.writeBytes(tag.getBytes(StandardCharsets.US_ASCII));
                }
                out.writeByte(b);
            }
            data.release();
            context.forward(direction, out);
        };
    }

    // ---------------------------------------------------------------- helpers

    /** Runs {@code n} clients at once, client {@code i} sending HEADER and SIZE bytes of seed {@code i}. */
    static List<String> runClients(Refractium r, int n, int size) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n * 2);
        try {
            List<CompletableFuture<String>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int seed = i;
                results.add(CompletableFuture.supplyAsync(() -> {
                    try (Socket c = new Socket()) {
                        c.connect(r.localAddress(), 5000);
                        c.setSoTimeout(60_000);
                        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                            try {
                                c.getOutputStream().write(HEADER);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            writeSeeded(c, seed, size);
                        }, pool);
                        String got = digestUntilEof(c.getInputStream());
                        sent.get(60, TimeUnit.SECONDS);
                        return got;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            List<String> digests = new ArrayList<>();
            for (CompletableFuture<String> f : results) {
                digests.add(f.get(90, TimeUnit.SECONDS));
            }
            return digests;
        } finally {
            pool.shutdownNow();
        }
    }

    static void writeSeeded(Socket s, long seed, int size) {
        try {
            OutputStream out = s.getOutputStream();
            Random random = new Random(seed);
            byte[] chunk = new byte[64 * 1024];
            for (int left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, Math.min(left, chunk.length));
            }
            out.flush();
            s.shutdownOutput();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String digestUntilEof(InputStream in) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The digest of {@code prefix} and {@code size} bytes of {@code seed}, every byte XORed with {@code key}. */
    static String expectedDigest(byte[] prefix, long seed, int size, int key) {
        MessageDigest md = sha256();
        if (prefix != null) {
            md.update(xor(prefix.clone(), prefix.length, key), 0, prefix.length);
        }
        Random random = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        for (int left = size; left > 0; left -= chunk.length) {
            random.nextBytes(chunk);
            int len = Math.min(left, chunk.length);
            md.update(xor(chunk, len, key), 0, len);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static byte[] xor(byte[] b, int len, int key) {
        for (int i = 0; i < len; i++) {
            b[i] ^= (byte) key;
        }
        return b;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            sb.append((char) b);
        }
        return sb.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
