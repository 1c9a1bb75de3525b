package io.refractium.protocols.tls;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.ascii;
import static io.refractium.protocols.Samples.clientHello;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.Samples.postQuantumClientHello;
import static io.refractium.protocols.Samples.records;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TlsDetectorTest {

    private final TlsDetector detector = new TlsDetector();

    private static ProtocolAttributes attributes(String sni, List<String> alpn, String version) {
        return ProtocolAttributes.builder()
                .put(AttributeKey.SNI, sni)
                .put(AttributeKey.ALPN, alpn)
                .put(AttributeKey.TLS_VERSION, version)
                .build();
    }

    /** The post-quantum sample carries a GREASE ECH extension, as Chrome's hellos do: its SNI is the public name. */
    private static ProtocolAttributes echAttributes(String sni, List<String> alpn, String version) {
        return ProtocolAttributes.builder()
                .put(AttributeKey.SNI, sni)
                .put(AttributeKey.ALPN, alpn)
                .put(AttributeKey.TLS_VERSION, version)
                .put(AttributeKey.TLS_ECH, "true")
                .put(AttributeKey.TLS_ECH_PUBLIC_NAME, sni)
                .build();
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("tls");
        assertThat(detector.priority()).isZero();
        assertThat(detector.maxBytes()).isGreaterThanOrEqualTo(64 * 1024 + 4 * 5);
        assertThat(detector.transports()).containsExactly(io.refractium.spi.Transport.TCP);
    }

    // ---------------------------------------------------------------- real and realistic hellos

    @Test
    void jdkClientHelloGivesSniAlpnAndVersion() {
        byte[] hello = Samples.jdkClientHello("a.test", List.of("h2", "http/1.1"));
        DetectionResult r = assertSameOnEveryBuffer(detector, hello, TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes()).isEqualTo(attributes("a.test", List.of("h2", "http/1.1"), "TLSv1.3"));
    }

    @Test
    void jdkClientHelloByteByByte() {
        byte[] hello = Samples.jdkClientHello("a.test", List.of("h2", "http/1.1"));
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
    }

    @Test
    void jdkTls12ClientHelloWithoutSniOrAlpn() {
        byte[] hello = Samples.jdkClientHello(null, List.of(), "TLSv1.2");
        DetectionResult r = detect(detector, hello);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes()).isEqualTo(attributes(null, null, "TLSv1.2"));
    }

    @Test
    void postQuantumHelloInOneRecord() {
        byte[] handshake = postQuantumClientHello().handshake();
        byte[] hello = records(handshake, 16384);
        assertThat(hello.length).isBetween(1700, 2000);
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(echAttributes("a.test", List.of("h2", "http/1.1"), "TLSv1.3"));
    }

    @Test
    void postQuantumHelloInHundredByteRecords() {
        byte[] handshake = postQuantumClientHello().handshake();
        byte[] hello = records(handshake, 100);
        assertThat(hello.length).isEqualTo(handshake.length + 5 * ((handshake.length + 99) / 100));
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(echAttributes("a.test", List.of("h2", "http/1.1"), "TLSv1.3"));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 64, 1000, 1800})
    void postQuantumHelloInRecordsOfAnySize(int fragmentLength) {
        byte[] hello = records(postQuantumClientHello().handshake(), fragmentLength);
        DetectionResult r = assertSameOnEveryBuffer(detector, hello, TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes()).isEqualTo(echAttributes("a.test", List.of("h2", "http/1.1"), "TLSv1.3"));
        assertThat(detect(detector, java.util.Arrays.copyOf(hello, hello.length - 1)).status())
                .isEqualTo(Status.NEED_MORE);
    }

    @Test
    void tinyRecordsByteByByte() {
        byte[] hello = records(clientHello().sni("a.test").alpn("h2").handshake(), 3);
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("a.test", List.of("h2"), "TLSv1.2"));
    }

    @Test
    void randomSplitsOfReadsAndRecords() {
        byte[] handshake = postQuantumClientHello().handshake();
        DetectionResult expected = DetectionResult.match(echAttributes("a.test", List.of("h2", "http/1.1"), "TLSv1.3"));
        Random random = new Random(42);
        for (int i = 0; i < 40; i++) {
            byte[] hello = Samples.randomRecords(handshake, random, 1 + random.nextInt(600));
            assertRandomSplits(detector, hello, hello.length, expected, TCP, 1000 + i, 5);
        }
        byte[] single = records(handshake, 16384);
        assertRandomSplits(detector, single, single.length, expected, TCP, 7, 200);
    }

    @Test
    void bytesAfterTheHelloAreIgnored() {
        byte[] hello = postQuantumClientHello().record();
        // TLS 1.3 middlebox compatibility: a change_cipher_spec record may follow at once.
        byte[] withMore = concat(hello, new byte[] {20, 3, 3, 0, 1, 1});
        DetectionResult r = assertDecidesAt(detector, withMore, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
    }

    // ---------------------------------------------------------------- attributes

    @Test
    void serverNameIsLowerCasedWithoutTrailingDot() {
        DetectionResult r = detect(detector, clientHello().sni("WWW.Example.TEST.").record());
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("www.example.test");
    }

    @Test
    void serverNameWithControlBytesIsLeftOut() {
        DetectionResult r = detect(detector, clientHello().sni("a\u0001.test").alpn("h2").record());
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().has(AttributeKey.SNI)).isFalse();
        assertThat(r.attributes().get(AttributeKey.ALPN)).containsExactly("h2");
    }

    @Test
    void serverNameListWithOtherNameTypeFirst() {
        byte[] data = concat(new byte[] {0, 14, 7, 0, 2, 'x', 'y', 0, 0, 6}, ascii("a.test"));
        DetectionResult r = detect(detector, clientHello().extension(0, data).record());
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
    }

    @Test
    void alpnKeepsTheClientsOrder() {
        DetectionResult r = detect(detector, clientHello().alpn("http/1.1", "h2", "h3").record());
        assertThat(r.attributes().get(AttributeKey.ALPN)).containsExactly("http/1.1", "h2", "h3");
    }

    @Test
    void versionIsTheHighestKnownSupportedVersion() {
        assertThat(version(clientHello().supportedVersions(0x0a0a, 0x0303, 0x0304, 0x7f1c))).isEqualTo("TLSv1.3");
        assertThat(version(clientHello().supportedVersions(0x0302, 0x0303))).isEqualTo("TLSv1.2");
        // only unknown versions: the legacy version decides
        assertThat(version(clientHello().legacyVersion(0x0301).supportedVersions(0x1a1a))).isEqualTo("TLSv1");
    }

    @Test
    void versionWithoutSupportedVersionsIsTheLegacyVersion() {
        assertThat(version(clientHello().legacyVersion(0x0300))).isEqualTo("SSLv3");
        assertThat(version(clientHello().legacyVersion(0x0302))).isEqualTo("TLSv1.1");
        assertThat(version(clientHello().legacyVersion(0x0303))).isEqualTo("TLSv1.2");
    }

    @Test
    void helloWithoutExtensions() {
        byte[] hello = clientHello().legacyVersion(0x0301).withoutExtensions().record();
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(null, null, "TLSv1"));
    }

    @Test
    void shortestHello() {
        byte[] hello = clientHello().sessionId(new byte[0]).cipherSuites(0x002f).rawCompressionMethods(new byte[] {1, 0})
                .withoutExtensions().record();
        assertThat(hello.length).isEqualTo(5 + 4 + 41);
        assertThat(detect(detector, hello).status()).isEqualTo(Status.MATCH);
    }

    private String version(Samples.ClientHello hello) {
        DetectionResult r = detect(detector, hello.record());
        assertThat(r.status()).isEqualTo(Status.MATCH);
        return r.attributes().get(AttributeKey.TLS_VERSION);
    }

    // ---------------------------------------------------------------- no match, at the decisive byte

    @Test
    void otherContentTypeFailsOnTheFirstByte() {
        byte[] hello = postQuantumClientHello().record();
        hello[0] = 23;
        assertDecidesAt(detector, hello, 1, Status.NO_MATCH, TCP);
        assertThat(detect(detector, ascii("G")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, new byte[] {(byte) 0x80}).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void emptyBufferNeedsMore() {
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void badRecordHeaders() {
        assertNoMatchAt(patch(postQuantumClientHello().record(), 1, 2), 2);        // version 2.x
        assertNoMatchAt(patch(postQuantumClientHello().record(), 2, 5), 3);        // version 3.5
        assertNoMatchAt(patch(postQuantumClientHello().record(), 3, 0x41), 4);     // length > 16384 (high byte)
        byte[] tooLong = patch(postQuantumClientHello().record(), 3, 0x40);
        assertNoMatchAt(patch(tooLong, 4, 1), 5);                                  // length 16385
        byte[] empty = patch(postQuantumClientHello().record(), 3, 0);
        assertNoMatchAt(patch(empty, 4, 0), 5);                                    // length 0
    }

    @Test
    void otherHandshakeTypeFailsOnItsByte() {
        assertNoMatchAt(patch(postQuantumClientHello().record(), 5, 2), 6);        // server_hello
    }

    @Test
    void badHandshakeLengths() {
        byte[] hello = postQuantumClientHello().record();
        assertNoMatchAt(patch(hello.clone(), 6, 1), 7);                            // 64 KiB or more
        byte[] tooShort = patch(patch(hello.clone(), 7, 0), 8, 40);                // shorter than any hello
        assertNoMatchAt(tooShort, 9);
    }

    @Test
    void recordLongerThanTheHelloFails() {
        byte[] handshake = clientHello().sni("a.test").handshake();
        byte[] hello = concat(records(handshake, 16384), new byte[] {0});
        int length = handshake.length + 1;
        hello[3] = (byte) (length >>> 8);
        hello[4] = (byte) length;
        assertNoMatchAt(hello, 9);
    }

    @Test
    void continuationRecordOfAnotherTypeFails() {
        byte[] hello = records(postQuantumClientHello().handshake(), 100);
        assertNoMatchAt(patch(hello, 105, 23), 106);
        assertNoMatchAt(patch(records(postQuantumClientHello().handshake(), 100), 106, 4), 107);
    }

    @Test
    void badLegacyVersion() {
        assertNoMatchAt(clientHello().legacyVersion(0x0203).record(), 10);
        assertNoMatchAt(clientHello().legacyVersion(0x0305).record(), 11);
    }

    @Test
    void sessionIdLongerThan32BytesFails() {
        assertNoMatchAt(clientHello().sessionId(new byte[33]).record(), 5 + 4 + 2 + 32 + 1);
    }

    @Test
    void badCipherSuiteLists() {
        int at = 5 + 4 + 2 + 32 + 1 + 32 + 2;
        assertNoMatchAt(clientHello().rawCipherSuites(new byte[] {0, 3, 0x13, 1, 0}).record(), at);
        assertNoMatchAt(clientHello().rawCipherSuites(new byte[] {0, 0}).record(), at);
    }

    @Test
    void badCompressionMethods() {
        int at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 6 + 1;
        assertNoMatchAt(clientHello().rawCompressionMethods(new byte[] {0}).record(), at);
        assertNoMatchAt(clientHello().rawCompressionMethods(new byte[] {2, 1, 64}).record(), at + 2);
    }

    @Test
    void inconsistentExtensionsBlockFails() {
        byte[] longer = clientHello().sni("a.test").extensionsLengthDelta(1).record();
        assertThat(detect(detector, longer).status()).isEqualTo(Status.NO_MATCH);
        byte[] shorter = clientHello().sni("a.test").extensionsLengthDelta(-1).record();
        assertThat(detect(detector, shorter).status()).isEqualTo(Status.NO_MATCH);
        // an extension whose length runs past the block
        byte[] overrun = clientHello().rawExtension(new byte[] {0, 21, 0, 9, 0, 0}).record();
        assertNoMatchAt(overrun, overrun.length - 2);
    }

    @Test
    void malformedServerNameFails() {
        assertThat(detect(detector, clientHello().extension(0, new byte[] {0, 9, 0, 0, 6, 'a', '.', 't'}).record())
                .status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(0, new byte[] {0, 3, 0, 0, 0}).record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(0, new byte[] {0, 0}).record()).status())
                .isEqualTo(Status.NO_MATCH);
        byte[] twoHostNames = concat(new byte[] {0, 10, 0, 0, 2, 'a', 'b', 0, 0, 2, 'c', 'd'});
        assertThat(detect(detector, clientHello().extension(0, twoHostNames).record()).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void duplicateExtensionsFail() {
        assertThat(detect(detector, clientHello().sni("a.test").sni("b.test").record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().alpn("h2").alpn("h2").record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().supportedVersions(0x0304).supportedVersions(0x0304).record())
                .status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void malformedAlpnFails() {
        assertThat(detect(detector, clientHello().extension(16, new byte[] {0, 3, 2, 'h', '2', 0}).record())
                .status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(16, new byte[] {0, 0}).record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(16, new byte[] {0, 1, 0}).record()).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void malformedSupportedVersionsFails() {
        assertThat(detect(detector, clientHello().extension(43, new byte[] {3, 3, 4, 3}).record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(43, new byte[] {0}).record()).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, clientHello().extension(43, new byte[] {4, 3, 4}).record()).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void sslV2CompatibleHelloIsNotRecognized() {
        byte[] v2 = {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10};
        assertThat(detect(detector, v2).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void randomBytesBehindAValidRecordHeaderNeverMatch() {
        DetectorChecks.assertNeverMatchesRandom(detector, TCP, new byte[] {22, 3, 1, 2, 0, 1, 0, 1, (byte) 0xfc},
                11, 10_000, 600);
    }

    private void assertNoMatchAt(byte[] hello, int decisive) {
        assertDecidesAt(detector, hello, decisive, Status.NO_MATCH, TCP);
    }

    private static byte[] patch(byte[] bytes, int index, int value) {
        bytes[index] = (byte) value;
        return bytes;
    }

    // ---------------------------------------------------------------- ECH, host names, last call

    @Test
    void echIsReportedWithThePublicName() {
        byte[] ech = new byte[100];
        new Random(3).nextBytes(ech);
        ech[0] = 0; // outer
        byte[] hello = clientHello().sni("Public.Example.").alpn("h2").extension(0xfe0d, ech)
                .supportedVersions(0x0304).record();
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(echAttributes("public.example", List.of("h2"), "TLSv1.3"));
        assertRandomSplits(detector, hello, hello.length, r, TCP, 11, 200);
        // without an outer SNI: the flag alone
        byte[] noSni = clientHello().extension(0xfe0d, ech).record();
        DetectionResult n = assertDecidesAt(detector, noSni, noSni.length, Status.MATCH, TCP);
        assertThat(n.attributes().get(AttributeKey.TLS_ECH)).isEqualTo("true");
        assertThat(n.attributes().has(AttributeKey.TLS_ECH_PUBLIC_NAME)).isFalse();
        assertThat(n.attributes().has(AttributeKey.SNI)).isFalse();
        // no ECH, no flag
        byte[] plain = clientHello().sni("a.test").record();
        assertThat(detect(detector, plain).attributes().has(AttributeKey.TLS_ECH)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a.example/.b.example", "a_b.example", "a..b", ".a", "a b", "192.0.2.1:443", "[::1]",
        "a%2eb", "caf\u00e9.example", "*.example"})
    void invalidServerNameGivesNoSni(String name) {
        byte[] hello = clientHello().sni(name).alpn("h2").record();
        DetectionResult r = assertDecidesAt(detector, hello, hello.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(null, List.of("h2"), "TLSv1.2"));
    }

    @Test
    void longestValidServerName() {
        String name = ("a".repeat(63) + ".").repeat(3) + "b".repeat(61);
        assertThat(name).hasSize(253);
        assertThat(detect(detector, clientHello().sni(name).record()).attributes().get(AttributeKey.SNI))
                .isEqualTo(name);
        assertThat(detect(detector, clientHello().sni(name + "b").record()).attributes().has(AttributeKey.SNI))
                .isFalse();
        assertThat(detect(detector, clientHello().sni("a".repeat(64)).record()).attributes().has(AttributeKey.SNI))
                .isFalse();
    }

    @Test
    void helloCutByTheCapMatchesOnTheLastCallWithWhatItCarried() {
        byte[] hello = postQuantumClientHello().record();
        byte[] handshake = postQuantumClientHello().handshake();
        // the offsets in the record of the extensions that matter
        int sniEnd = indexOf(hello, new byte[] {'a', '.', 't', 'e', 's', 't'}) + 6;
        int alpnEnd = indexOf(hello, "http/1.1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)) + 8;
        int extensions = 5 + handshake.length - extensionsLength(handshake);
        int sniHeader = sniEnd - "a.test".length() - 9;
        int alpnHeader = alpnEnd - 18;
        DetectionResult full = detect(detector, hello);
        for (int n = 1; n < hello.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(hello, n);
            assertThat(detect(detector, cut, TCP).status()).as("%d bytes", n).isEqualTo(Status.NEED_MORE);
            DetectionResult r = detect(detector, cut, TCP_LAST_CALL);
            boolean insideSniOrAlpn = n >= sniHeader + 4 && n < sniEnd || n >= alpnHeader + 4 && n < alpnEnd;
            if (n < extensions + 2 || insideSniOrAlpn) {
                assertThat(r.status()).as("%d bytes", n).isEqualTo(Status.NO_MATCH);
                continue;
            }
            assertThat(r.status()).as("%d bytes", n).isEqualTo(Status.MATCH);
            assertThat(r.attributes().get(AttributeKey.SNI)).as("%d bytes", n).isEqualTo(n >= sniEnd ? "a.test" : null);
            assertThat(r.attributes().get(AttributeKey.ALPN)).as("%d bytes", n)
                    .isEqualTo(n >= alpnEnd ? List.of("h2", "http/1.1") : null);
        }
        // cut near the end (in the ECH extension): everything but the version's source is known
        DetectionResult late = detect(detector, java.util.Arrays.copyOf(hello, hello.length - 10), TCP_LAST_CALL);
        assertThat(late.attributes()).isEqualTo(full.attributes());
        // a cut hello in small records, with the client's FIN
        byte[] small = records(handshake, 100);
        DetectionResult fin = detect(detector, java.util.Arrays.copyOf(small, small.length / 2), TCP_COMPLETE);
        assertThat(fin.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
        // an invalid byte before the cut still rules it out
        byte[] broken = patch(java.util.Arrays.copyOf(hello, hello.length - 10), 5, 2);
        assertThat(detect(detector, broken, TCP_LAST_CALL).status()).isEqualTo(Status.NO_MATCH);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Returns the length of the extensions block of a handshake message, its 2-byte length included. */
    private static int extensionsLength(byte[] handshake) {
        int p = 4 + 2 + 32;
        p += 1 + (handshake[p] & 0xff);
        p += 2 + ((handshake[p] & 0xff) << 8 | handshake[p + 1] & 0xff);
        p += 1 + (handshake[p] & 0xff);
        return handshake.length - p;
    }
}
