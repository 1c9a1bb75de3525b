package io.refractium.protocols.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.Samples;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedisDetectorTest {

    private static final String PING = "*1\r\n$4\r\nPING\r\n";
    private static final String SET = "*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";

    private final RedisDetector detector = new RedisDetector();

    private static final DetectionContext CONTEXT = new DetectionContext() {
        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        @Override
        public SocketAddress remoteAddress() {
            return new InetSocketAddress("127.0.0.1", 40000);
        }

        @Override
        public SocketAddress localAddress() {
            return new InetSocketAddress("127.0.0.1", 6380);
        }

        @Override
        public boolean isInputComplete() {
            return false;
        }
    };

    private DetectionResult detect(byte[] bytes) {
        ByteBuf buf = Unpooled.buffer(bytes.length).writeBytes(bytes);
        try {
            return detect(buf);
        } finally {
            buf.release();
        }
    }

    private DetectionResult detect(String text) {
        return detect(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Detects and checks the contract: indexes and reference count untouched. */
    private DetectionResult detect(ByteBuf buf) {
        int reader = buf.readerIndex();
        int writer = buf.writerIndex();
        int refCnt = buf.refCnt();
        DetectionResult r = detector.detect(buf, CONTEXT);
        assertThat(r).isNotNull();
        assertThat(buf.readerIndex()).isEqualTo(reader);
        assertThat(buf.writerIndex()).isEqualTo(writer);
        assertThat(buf.refCnt()).isEqualTo(refCnt);
        return r;
    }

    @Test
    void matchesAWholeCommandAndReportsItsName() {
        DetectionResult r = detect(PING);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(RedisDetector.COMMAND)).isEqualTo("PING");

        DetectionResult set = detect(SET);
        assertThat(set.status()).isEqualTo(Status.MATCH);
        assertThat(set.attributes().get(RedisDetector.COMMAND)).isEqualTo("SET");
    }

    @Test
    void decidesAtTheNamesLineEndAndNeedsNothingAfter() {
        assertThat(detect("*2\r\n$5\r\nHELLO\r\n").status()).isEqualTo(Status.MATCH);
        assertThat(detect("*2\r\n$5\r\nHELLO\r").status()).isEqualTo(Status.NEED_MORE);
        assertThat(detect("*1048576\r\n$6\r\nCLIENT\r\n").status()).isEqualTo(Status.MATCH);
        assertThat(detect("*1\r\n$14\r\nrestore-asking\r\n").attributes().get(RedisDetector.COMMAND))
                .isEqualTo("RESTORE-ASKING");
    }

    @ParameterizedTest
    @ValueSource(strings = {PING, SET, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"})
    void everyProperPrefixNeedsMoreByteByByte(String command) {
        byte[] bytes = command.getBytes(StandardCharsets.ISO_8859_1);
        int end = command.indexOf("\r\n", command.indexOf('$')) + 2;
        end = command.indexOf("\r\n", end) + 2;
        ByteBuf buf = Unpooled.buffer();
        try {
            for (int i = 0; i < bytes.length; i++) {
                DetectionResult r = detect(buf);
                assertThat(r.status()).as("after %d bytes", i).isEqualTo(Status.NEED_MORE);
                buf.writeByte(bytes[i]);
                if (i + 1 == end) {
                    break;
                }
            }
            assertThat(detect(buf).status()).isEqualTo(Status.MATCH);
        } finally {
            buf.release();
        }
    }

    @Test
    void randomSplitsGiveTheSameAnswer() {
        Random random = new Random(42);
        byte[] bytes = SET.getBytes(StandardCharsets.ISO_8859_1);
        for (int round = 0; round < 200; round++) {
            ByteBuf buf = Unpooled.buffer();
            try {
                int written = 0;
                DetectionResult r = detect(buf);
                while (r.status() == Status.NEED_MORE && written < bytes.length) {
                    int n = 1 + random.nextInt(bytes.length - written);
                    buf.writeBytes(bytes, written, n);
                    written += n;
                    r = detect(buf);
                }
                assertThat(r.status()).isEqualTo(Status.MATCH);
                assertThat(r.attributes().get(RedisDetector.COMMAND)).isEqualTo("SET");
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void readsFromTheReaderIndexAndLeavesItThere() {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeCharSequence("GET / HTTP/1.1\r\n", StandardCharsets.US_ASCII);
            buf.readerIndex(buf.writerIndex());
            buf.writeCharSequence(PING, StandardCharsets.US_ASCII);
            int reader = buf.readerIndex();
            assertThat(detect(buf).status()).isEqualTo(Status.MATCH);
            assertThat(buf.readerIndex()).isEqualTo(reader);

            ByteBuf slice = buf.slice(buf.readerIndex(), 3);
            assertThat(detect(slice).status()).isEqualTo(Status.NEED_MORE);
        } finally {
            buf.release();
        }
    }

    @Test
    void anEmptyBufferNeedsMore() {
        assertThat(detect(new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"X", "8", "+", "$", "-", "\u0016", "\r", "\0"})
    void theFirstByteRulesOthersOut(String first) {
        assertThat(detect(first).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(first + "1\r\n$4\r\nPING\r\n").status()).isEqualTo(Status.NO_MATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "*0", "*01", "*\r", "*-1\r\n", "*1x", "*12345678", "*1048577\r", "*1\r\r", "*1\n",
        "*1\r\n:", "*1\r\n$0", "*1\r\n$\r", "*1\r\n$33", "*1\r\n$123", "*1\r\n$04", "*1\r\n$4\n",
        "*1\r\n$4\r\r", "*1\r\n$4\r\n1", "*1\r\n$4\r\n-ING", "*1\r\n$4\r\nPI G", "*1\r\n$4\r\nPINGS",
        "*1\r\n$4\r\nPING\n", "*1\r\n$4\r\nPING\r\r", "*1\r\n$2\r\nP\u00e9\r\n"})
    void strictChecksRuleOutMalformedPrefixesAtTheFirstBadByte(String bytes) {
        assertThat(detect(bytes).status()).as(bytes.replace("\r", "\\r").replace("\n", "\\n")).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void redisCliSampleMatchesWholeByteByByteAndInRandomSplits() {
        byte[] b = Samples.captured("redis");
        DetectionResult r = DetectorChecks.assertDecidesAt(detector, b, b.length, Status.MATCH, DetectorChecks.TCP);
        assertThat(r.attributes().get(RedisDetector.COMMAND)).isEqualTo("PING");
        DetectorChecks.assertRandomSplits(detector, b, b.length, r, DetectorChecks.TCP, 5, 100);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PING\r\n|PING", "ping\n|PING", "SET key \"a value\"\r\n|SET",
        "auth secret\r\n|AUTH", "GET key\r\n|GET", "Info replication\r\n|INFO"})
    void inlineCommandsMatchAtTheLineEnd(String spec) {
        String line = spec.substring(0, spec.indexOf('|'));
        byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
        DetectionResult r = DetectorChecks.assertDecidesAt(detector, b, b.length, Status.MATCH, DetectorChecks.TCP);
        assertThat(r.attributes().get(RedisDetector.COMMAND)).isEqualTo(spec.substring(spec.indexOf('|') + 1));
        DetectorChecks.assertRandomSplits(detector, b, b.length, r, DetectorChecks.TCP, 6, 50);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PINGX\r\n", "PONG\r\n", "hello\n", "quit\r\n", "INFO\r\n", "SET \r\n", "GET / HTTP/1.1\r\n", "GET /index.html\r\n",
        "DELETE /x HTTP/1.1\r\n", "SET a\u0001\r\n", "PING\rX", "HELO example.com\r\n", "PRI * HTTP/2.0\r\n"})
    void otherLinesDoNotMatch(String line) {
        assertThat(detect(line).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void randomBytesNeverMatch() {
        Random random = new Random(7);
        int needMore = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[1 + random.nextInt(detector.maxBytes())];
            random.nextBytes(bytes);
            DetectionResult r = detect(bytes);
            assertThat(r.status()).isNotEqualTo(Status.MATCH);
            if (r.status() == Status.NEED_MORE) {
                needMore++;
            }
        }
        assertThat(needMore).isLessThan(200);
    }

    @Test
    void neverNeedsMoreThanMaxBytes() {
        String longest = "*1048576\r\n$32\r\n" + "A".repeat(32) + "\r\n";
        byte[] bytes = longest.getBytes(StandardCharsets.US_ASCII);
        assertThat(bytes.length).isLessThan(detector.maxBytes());
        byte[] allButLast = new byte[bytes.length - 1];
        System.arraycopy(bytes, 0, allButLast, 0, allButLast.length);
        assertThat(detect(allButLast).status()).isEqualTo(Status.NEED_MORE);
        assertThat(detect(bytes).status()).isEqualTo(Status.MATCH);
    }

    @Test
    void isFoundByServiceLoaderWithItsId() {
        List<String> ids = new ArrayList<>();
        for (RefractiumProtocol p : ServiceLoader.load(RefractiumProtocol.class)) {
            ids.add(p.id());
            if (p.id().equals("redis")) {
                assertThat(p).isInstanceOf(RedisDetector.class);
            }
        }
        assertThat(ids).contains("redis");
        assertThat(detector.transports()).containsExactly(Transport.TCP);
    }
}
