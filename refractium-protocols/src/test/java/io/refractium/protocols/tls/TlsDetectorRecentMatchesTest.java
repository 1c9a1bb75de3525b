package io.refractium.protocols.tls;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.clientHello;
import static io.refractium.protocols.Samples.postQuantumClientHello;
import static io.refractium.protocols.Samples.records;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.refractium.protocols.Samples.ClientHello;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The recent matches the TLS detector keeps: a repeated hello gets the kept match, and a hello that differs in its
 * host name, ALPN list, version or ECH flag, by as little as one byte, never does.
 */
class TlsDetectorRecentMatchesTest {

    private final TlsDetector detector = new TlsDetector();

    /** The answer of a detector that has seen nothing else. */
    private static DetectionResult fresh(byte[] bytes) {
        return detect(new TlsDetector(), bytes);
    }

    @Test
    void sameHelloTwiceGivesTheKeptMatch() {
        byte[] hello = postQuantumClientHello().record();
        DetectionResult first = detect(detector, hello);
        assertThat(first.status()).isEqualTo(Status.MATCH);
        DetectionResult second = detect(detector, hello);
        assertThat(second).isSameAs(first);
        assertThat(second.attributes()).isEqualTo(fresh(hello).attributes());
        assertThat(second.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
        assertThat(second.attributes().get(AttributeKey.ALPN)).containsExactly("h2", "http/1.1");
        // the same hello in records of 100 bytes, and in every kind of buffer, gets the same match
        assertThat(detect(detector, records(postQuantumClientHello().handshake(), 100))).isSameAs(first);
        assertThat(assertSameOnEveryBuffer(detector, hello, TCP)).isSameAs(first);
    }

    @Test
    void differentPartsNeverGiveAKeptMatch() {
        String[] names = {null, "a.test", "b.test", "a.tesu", "A.test", "a.test.", "a_test", "abcdefgh.test",
            "abcdefgh.tesT", "abcdefghijklmnop.test"};
        List<String[]> alpns = Arrays.asList(null, new String[] {"h2"}, new String[] {"h3"},
                new String[] {"h2", "http/1.1"}, new String[] {"http/1.1", "h2"}, new String[] {"http/1.1"});
        int[][] versions = {null, {0x0304}, {0x0303}, {0x0304, 0x0303}};
        List<byte[]> hellos = new ArrayList<>();
        for (String name : names) {
            for (String[] alpn : alpns) {
                for (int[] version : versions) {
                    for (boolean ech : new boolean[] {false, true}) {
                        ClientHello h = clientHello();
                        if (name != null) {
                            h.sni(name);
                        }
                        if (alpn != null) {
                            h.alpn(alpn);
                        }
                        if (version != null) {
                            h.supportedVersions(version);
                        }
                        if (ech) {
                            h.extension(0xfe0d, new byte[] {0, 1, 2, 3});
                        }
                        hellos.add(h.record());
                    }
                }
            }
        }
        List<ProtocolAttributes> expected = hellos.stream().map(h -> fresh(h).attributes()).toList();
        // several rounds in different orders: every hello comes after others that share all but one of its parts
        Random random = new Random(5);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < hellos.size(); i++) {
            order.add(i);
        }
        for (int round = 0; round < 4; round++) {
            for (int i : order) {
                assertThat(detect(detector, hellos.get(i)).attributes()).as("hello %d", i)
                        .isEqualTo(expected.get(i));
            }
            Collections.shuffle(order, random);
        }
    }

    @Test
    void helloDifferingInOneByteOfItsHostNameGetsItsOwn() {
        String name = "abcdefghijklmnopq.example";
        detect(detector, clientHello().sni(name).alpn("h2").record());
        for (int i = 0; i < name.length(); i++) {
            char[] chars = name.toCharArray();
            chars[i] = chars[i] == 'z' ? 'y' : 'z';
            String other = new String(chars);
            DetectionResult r = detect(detector, clientHello().sni(other).alpn("h2").record());
            assertThat(r.attributes().get(AttributeKey.SNI)).as("byte %d", i).isEqualTo(other);
            // and the original is still answered with its own name
            assertThat(detect(detector, clientHello().sni(name).alpn("h2").record()).attributes()
                    .get(AttributeKey.SNI)).isEqualTo(name);
        }
        // a byte that makes the name invalid, then valid again
        assertThat(detect(detector, clientHello().sni("a-b.test").record()).attributes().get(AttributeKey.SNI))
                .isEqualTo("a-b.test");
        assertThat(detect(detector, clientHello().sni("a_b.test").record()).attributes().has(AttributeKey.SNI))
                .isFalse();
        assertThat(detect(detector, clientHello().sni("a-b.test").record()).attributes().get(AttributeKey.SNI))
                .isEqualTo("a-b.test");
    }

    @Test
    void newHostNamesWrittenIntoOneBufferEachGetTheirOwnMatch() {
        // more names than the detector keeps, each written over the last in the same buffer, in upper and lower
        // case, with and without a trailing dot, beside a known and an unknown ALPN list
        for (String[] alpn : List.of(new String[] {"h2", "http/1.1"}, new String[] {"h3", "spdy/3.1"})) {
            byte[] hello = clientHello().sni("aaaa.example.").alpn(alpn).record();
            int at = indexOf(hello, "aaaa".getBytes(StandardCharsets.US_ASCII));
            ByteBuf buf = Unpooled.directBuffer(hello.length).writeBytes(hello);
            try {
                List<DetectionResult> results = new ArrayList<>();
                for (int n = 0; n < 300; n++) {
                    buf.setBytes(at, label(n).getBytes(StandardCharsets.US_ASCII));
                    DetectionResult r = detector.detect(buf, TCP);
                    assertThat(r.status()).isEqualTo(Status.MATCH);
                    assertThat(results).doesNotContain(r);
                    results.add(r);
                }
                // every match keeps its own name once the buffer holds another one, and equals a fresh detector's
                for (int n = 0; n < 300; n++) {
                    ProtocolAttributes a = results.get(n).attributes();
                    assertThat(a.get(AttributeKey.SNI)).isEqualTo(label(n).toLowerCase(Locale.ROOT) + ".example");
                    assertThat(a.get(AttributeKey.ALPN)).containsExactly(alpn);
                    buf.setBytes(at, label(n).getBytes(StandardCharsets.US_ASCII));
                    assertThat(a).isEqualTo(detect(new TlsDetector(), ByteBufUtil.getBytes(buf)).attributes());
                }
                // the last name again: its kept match
                assertThat(detector.detect(buf, TCP)).isSameAs(results.get(299));
            } finally {
                buf.release();
            }
        }
    }

    /** A label of 4 letters, some upper-case, different for each {@code n} below 65536. */
    private static String label(int n) {
        char[] chars = new char[4];
        for (int i = 0; i < 4; i++) {
            chars[i] = (char) ((n + i) % 3 == 0 ? 'A' + (n >>> 4 * i & 15) : 'a' + (n >>> 4 * i & 15));
        }
        return new String(chars);
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("not found");
    }

    @Test
    void helloDifferingInOneByteOfItsAlpnGetsItsOwn() {
        assertThat(detect(detector, clientHello().sni("a.test").alpn("h2", "http/1.1").record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly("h2", "http/1.1");
        assertThat(detect(detector, clientHello().sni("a.test").alpn("h2", "http/1.2").record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly("h2", "http/1.2");
        assertThat(detect(detector, clientHello().sni("a.test").alpn("h2", "http/1.1").record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly("h2", "http/1.1");
    }

    @Test
    void helloCutOnTheLastCallAndWholeGetTheirOwnVersion() {
        byte[] whole = clientHello().sni("a.test").alpn("h2").supportedVersions(0x0304).record();
        // cut in supported_versions: the legacy version
        byte[] cut = Arrays.copyOf(whole, whole.length - 1);
        assertThat(detect(detector, cut, TCP_LAST_CALL).attributes().get(AttributeKey.TLS_VERSION))
                .isEqualTo("TLSv1.2");
        assertThat(detect(detector, whole).attributes().get(AttributeKey.TLS_VERSION)).isEqualTo("TLSv1.3");
        assertThat(detect(detector, cut, TCP_LAST_CALL).attributes().get(AttributeKey.TLS_VERSION))
                .isEqualTo("TLSv1.2");
    }

    @Test
    void longHostNameAndAlpnListAreAnsweredRight() {
        String name = ("a".repeat(63) + ".").repeat(3) + "b".repeat(61);
        String[] alpn = new String[30];
        for (int i = 0; i < alpn.length; i++) {
            alpn[i] = "protocol-" + i;
        }
        byte[] hello = clientHello().sni(name).alpn(alpn).record();
        for (int i = 0; i < 2; i++) {
            DetectionResult r = detect(detector, hello);
            assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo(name);
            assertThat(r.attributes().get(AttributeKey.ALPN)).containsExactly(alpn);
        }
        alpn[29] = "protocol-x";
        assertThat(detect(detector, clientHello().sni(name).alpn(alpn).record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly(alpn);
        // a short list of many names
        String[] many = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
        assertThat(detect(detector, clientHello().sni("a.test").alpn(many).record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly(many);
        many[8] = "j";
        assertThat(detect(detector, clientHello().sni("a.test").alpn(many).record()).attributes()
                .get(AttributeKey.ALPN)).containsExactly(many);
    }

    @Test
    @Timeout(60)
    void threadsSharingTheDetectorGetTheirOwnMatches() throws Exception {
        // more host names than the detector keeps, so that threads replace each other's matches all the time
        int count = 600;
        List<byte[]> hellos = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ClientHello h = clientHello().sni("host-" + i + ".example").alpn(i % 2 == 0 ? "h2" : "http/1.1");
            byte[] handshake = h.handshake();
            hellos.add(i % 3 == 0 ? records(handshake, 50) : records(handshake, 16384));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = t;
                results.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    int wrong = 0;
                    for (int n = 0; n < 20_000; n++) {
                        int i = random.nextInt(count);
                        ProtocolAttributes a = detect(detector, hellos.get(i)).attributes();
                        if (!("host-" + i + ".example").equals(a.get(AttributeKey.SNI))
                                || !List.of(i % 2 == 0 ? "h2" : "http/1.1").equals(a.get(AttributeKey.ALPN))) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<Integer> f : results) {
                assertThat(f.get(50, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
