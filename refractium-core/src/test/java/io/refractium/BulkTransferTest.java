package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * 64 MiB each way at once through the proxy, on the splice path, the epoll copy path and NIO; each side half-closes
 * when it has sent everything, and both sides check the SHA-256 of what they received.
 */
@Timeout(120)
class BulkTransferTest {

    private static final int SIZE = 64 * 1024 * 1024;
    private static final byte[] HEADER = "BULK\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    @EnabledOnOs(OS.LINUX)
    void spliceMovesSixtyFourMebibytesEachWayIntact() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        long spliced = transfer(true, true);
        assertThat(spliced).isEqualTo(1);
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void epollCopyPathMovesSixtyFourMebibytesEachWayIntact() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        assertThat(transfer(true, false)).isZero();
    }

    @Test
    void nioMovesSixtyFourMebibytesEachWayIntact() throws Exception {
        assertThat(transfer(false, true)).isZero();
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aBackendThatClosesRightAfterABulkResponseLosesNothingForASlowClient() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        int size = 8 * 1024 * 1024;
        String expected = expectedDigest(null, 3, size);
        try (TestServer backend = TestServer.start(s -> {
            s.getInputStream().readNBytes(HEADER.length);
            writeSeeded(s, 3, size);
        })) {
            for (boolean splice : new boolean[] {true, false}) {
                Refractium r = Refractium.builder().listen("127.0.0.1", 0).splice(splice)
                        .protocol(new PrefixProtocol("bulk", "BULK\n"))
                        .route("bulk", ForwardTarget.of("source", backend.hostAndPort()))
                        .build().start();
                try (r) {
                    for (int i = 0; i < 30; i++) {
                        try (Socket c = new Socket()) {
                            c.connect(r.localAddress(), 2000);
                            c.setSoTimeout(20_000);
                            c.getOutputStream().write(HEADER);
                            Thread.sleep(50); // the backend finishes and closes while the proxy still holds bytes
                            assertThat(digestUntilEof(c.getInputStream())).as("splice=%s, connection %d", splice, i)
                                    .isEqualTo(expected);
                        }
                    }
                }
            }
        }
    }

    /** Returns how many connections were spliced. */
    private static long transfer(boolean nativeTransport, boolean splice) throws Exception {
        CompletableFuture<String> backendReceived = new CompletableFuture<>();
        try (TestServer backend = TestServer.start(s -> {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> writeSeeded(s, 2, SIZE));
            backendReceived.complete(digestUntilEof(s.getInputStream()));
            sent.join();
        })) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .nativeTransport(nativeTransport).splice(splice)
                    .protocol(new PrefixProtocol("bulk", "BULK\n"))
                    .route("bulk", ForwardTarget.of("sink", backend.hostAndPort()))
                    .build().start();
            try (r; Socket c = new Socket()) {
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(60_000);
                CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                    try {
                        c.getOutputStream().write(HEADER);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    writeSeeded(c, 1, SIZE);
                });
                String clientReceived = digestUntilEof(c.getInputStream());
                sent.get(60, TimeUnit.SECONDS);
                assertThat(clientReceived).isEqualTo(expectedDigest(null, 2, SIZE));
                assertThat(backendReceived.get(60, TimeUnit.SECONDS)).isEqualTo(expectedDigest(HEADER, 1, SIZE));
                return r.splicedConnections();
            }
        }
    }

    private static void writeSeeded(Socket s, long seed, int size) {
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
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String digestUntilEof(InputStream in) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String expectedDigest(byte[] prefix, long seed, int size) {
        MessageDigest md = sha256();
        if (prefix != null) {
            md.update(prefix);
        }
        Random random = new Random(seed);
        byte[] chunk = new byte[64 * 1024];
        for (int left = size; left > 0; left -= chunk.length) {
            random.nextBytes(chunk);
            md.update(chunk, 0, Math.min(left, chunk.length));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
