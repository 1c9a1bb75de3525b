package io.refractium.examples.rewrite;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The rewriting hook: its replacer over every split, and byte-exact through a real proxy both ways at once. */
@Timeout(120)
class RewritingDataHookTest {

    private static final byte[] CAT = ascii("cat");
    private static final byte[] DOG = ascii("dog");
    private static final byte[] BIRD = ascii("bird");
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    @Test
    void theReplacerGivesTheWholeStreamResultOverEverySplit() {
        byte[] in = ascii("cacat catcatca c at ccat cat ca");
        byte[] expected = TokenReplacer.replaceAll(in, CAT, DOG);
        assertThat(new String(expected, StandardCharsets.US_ASCII)).isEqualTo("cadog dogdogca c at cdog dog ca");
        // Byte by byte.
        assertThat(streamed(in, new int[] {1}, CAT, DOG)).isEqualTo(expected);
        // Random splits.
        Random random = new Random(7);
        for (int round = 0; round < 2_000; round++) {
            byte[] data = sprinkled(random, 200, CAT);
            int[] sizes = new int[1 + random.nextInt(8)];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = 1 + random.nextInt(10);
            }
            assertThat(streamed(data, sizes, CAT, DOG)).as("round %d", round)
                    .isEqualTo(TokenReplacer.replaceAll(data, CAT, DOG));
        }
    }

    @Test
    void aTokenThatGrowsOrShrinksOrVanishes() {
        byte[] in = ascii("dog and dogdog");
        assertThat(streamed(in, new int[] {2, 3}, DOG, BIRD)).isEqualTo(ascii("bird and birdbird"));
        assertThat(streamed(in, new int[] {1}, DOG, new byte[0])).isEqualTo(ascii(" and "));
    }

    @Test
    void clientsAndBackendsGetRewrittenBytesExactlyUnderConcurrency() throws Exception {
        int connections = 12;
        int size = 512 * 1024;
        Queue<String> backendReceived = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newCachedThreadPool();
        try (ServerSocket server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            pool.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        pool.execute(() -> {
                            try (s) {
                                CompletableFuture<Void> sent = CompletableFuture.runAsync(() ->
                                        write(s, sprinkled(new Random(-1), size, DOG)), pool);
                                backendReceived.add(digest(s.getInputStream().readAllBytes()));
                                sent.join();
                            } catch (IOException e) {
                                backendReceived.add("failed: " + e);
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            try (Refractium r = RewriteExample.start("127.0.0.1:" + server.getLocalPort())) {
                List<CompletableFuture<String>> clients = new ArrayList<>();
                List<String> expectedUp = new ArrayList<>();
                for (int i = 0; i < connections; i++) {
                    byte[] data = sprinkled(new Random(i), size, CAT);
                    expectedUp.add(digest(TokenReplacer.replaceAll(data, CAT, DOG)));
                    clients.add(CompletableFuture.supplyAsync(() -> {
                        try (Socket c = new Socket()) {
                            c.connect(r.localAddress(), 5000);
                            c.setSoTimeout(60_000);
                            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> write(c, data), pool);
                            String got = digest(c.getInputStream().readAllBytes());
                            sent.join();
                            return got;
                        } catch (IOException e) {
                            return "failed: " + e;
                        }
                    }, pool));
                }
                String expectedDown = digest(TokenReplacer.replaceAll(sprinkled(new Random(-1), size, DOG), DOG, BIRD));
                for (CompletableFuture<String> c : clients) {
                    assertThat(c.get(90, TimeUnit.SECONDS)).isEqualTo(expectedDown);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (backendReceived.size() < connections && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(backendReceived).containsExactlyInAnyOrderElementsOf(expectedUp);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] streamed(byte[] in, int[] sizes, byte[] from, byte[] to) {
        TokenReplacer replacer = new TokenReplacer(from, to);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        for (int k = 0; pos < in.length; k++) {
            int n = Math.min(sizes[k % sizes.length], in.length - pos);
            drain(replacer.next(ALLOC, Unpooled.copiedBuffer(in, pos, n)), out);
            pos += n;
        }
        drain(replacer.end(ALLOC), out);
        return out.toByteArray();
    }

    private static void drain(ByteBuf buf, ByteArrayOutputStream out) {
        byte[] b = new byte[buf.readableBytes()];
        buf.readBytes(b);
        buf.release();
        out.writeBytes(b);
    }

    /** Random letters from a small alphabet, with the token and its prefixes sprinkled in. */
    private static byte[] sprinkled(Random random, int size, byte[] token) {
        byte[] b = new byte[size];
        byte[] alphabet = ascii("acdgot ");
        for (int i = 0; i < size; i++) {
            b[i] = alphabet[random.nextInt(alphabet.length)];
            if (random.nextInt(20) == 0 && i + token.length <= size) {
                int len = 1 + random.nextInt(token.length);
                System.arraycopy(token, 0, b, i, len);
                i += len - 1;
            }
        }
        return b;
    }

    private static void write(Socket s, byte[] data) {
        try {
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < data.length; i += 8192) {
                out.write(data, i, Math.min(8192, data.length - i));
            }
            s.shutdownOutput();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String digest(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

}
