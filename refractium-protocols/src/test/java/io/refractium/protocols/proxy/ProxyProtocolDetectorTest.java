package io.refractium.protocols.proxy;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.ascii;
import static io.refractium.protocols.Samples.captured;
import static io.refractium.protocols.Samples.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyProtocolDetectorTest {

    private final ProxyProtocolDetector detector = new ProxyProtocolDetector();

    private static int lineEnd(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n') {
                return i + 1;
            }
        }
        throw new AssertionError("no line");
    }

    @ParameterizedTest
    @CsvSource({"proxyv1", "proxyv1-tcp6"})
    void curlAndHaproxyVersion1LinesMatchAtTheLineFeed(String sample) {
        byte[] b = captured(sample);
        int decisive = lineEnd(b);
        DetectionResult r = assertDecidesAt(detector, b, decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(ProxyProtocolDetector.VERSION, "1")
                .build());
        assertRandomSplits(detector, b, decisive, r, TCP, 11, 100);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).status()).isEqualTo(Status.MATCH);
    }

    @ParameterizedTest
    @CsvSource({"proxyv2", "proxyv2-ipv6"})
    void haproxyVersion2HeadersMatchAtTheFixedHeadersEnd(String sample) {
        byte[] b = captured(sample);
        DetectionResult r = assertDecidesAt(detector, b, 16, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(ProxyProtocolDetector.VERSION, "2")
                .build());
        assertRandomSplits(detector, b, 16, r, TCP, 12, 100);
    }

    @Test
    void otherVersion1FormsMatch() {
        for (String line : new String[] {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 1\r\n",
            "PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 65535 443\r\n",
            "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"}) {
            byte[] b = ascii(line + "GET / HTTP/1.1\r\n\r\n");
            assertDecidesAt(detector, b, line.length(), Status.MATCH, TCP);
        }
        // The longest line: 107 bytes.
        String longest = "PROXY UNKNOWN " + "x".repeat(107 - 16) + "\r\n";
        assertThat(longest).hasSize(107);
        assertDecidesAt(detector, ascii(longest), 107, Status.MATCH, TCP);
    }

    @Test
    void version2LocalAndUnspecifiedMatch() {
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 20 00 0000"), 16, Status.MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 21 31 00d8"), 16, Status.MATCH, TCP);
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        assertDecidesAt(detector, ascii("GET / HTTP/1.1\r\n"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PRI * HTTP/2.0\r\n"), 3, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY  TCP4"), 7, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY UDP4 "), 8, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP5 "), 10, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP4  1.2.3.4"), 12, Status.NO_MATCH, TCP);     // empty field
        assertDecidesAt(detector, ascii("PROXY TCP4 1.2.3.a"), 18, Status.NO_MATCH, TCP);     // hex in IPv4
        assertDecidesAt(detector, ascii("PROXY TCP4 1.2.3.4 5.6.7.8 65536 "), 32, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3"), 31, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r"), 32, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), 29, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY UNKNOWNX"), 14, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY UNKNOWN \t"), 15, Status.NO_MATCH, TCP);
        // Longer than 107 bytes without "\r\n".
        byte[] tooLong = ascii("PROXY UNKNOWN " + "x".repeat(107 - 15) + "\r\n");
        assertDecidesAt(detector, tooLong, 107, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PROXY TCP6 " + "1".repeat(46)), 11 + 46, Status.NO_MATCH, TCP);
        // Version 2: the signature, version, command, family, length.
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540b"), 12, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 11"), 13, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 22"), 13, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 21 13"), 14, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 21 41"), 14, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 21 11 000b"), 16, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0d0a0d0a000d0a515549540a 21 21 0023"), 16, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("\r\n\r\nGET"), 5, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void aLineCutShortDoesNotMatchEvenOnTheLastCall() {
        byte[] b = captured("proxyv1");
        assertThat(detect(detector, Arrays.copyOf(b, 30), TCP_LAST_CALL).status()).isEqualTo(Status.NEED_MORE);
        assertThat(detector.priority()).isGreaterThan(0);
    }
}
