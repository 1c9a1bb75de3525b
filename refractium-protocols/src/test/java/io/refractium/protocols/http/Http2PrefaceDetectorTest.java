package io.refractium.protocols.http;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.ascii;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import org.junit.jupiter.api.Test;

class Http2PrefaceDetectorTest {

    private static final String PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    private final Http2PrefaceDetector detector = new Http2PrefaceDetector();

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("http2");
        assertThat(detector.maxBytes()).isEqualTo(24);
        assertThat(PREFACE).hasSize(24);
    }

    @Test
    void matchesOnTheLastByteOfThePreface() {
        DetectionResult r = assertDecidesAt(detector, ascii(Samples.HTTP2_PREFACE), 24, Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_VERSION)).isEqualTo("HTTP/2.0");
        assertThat(assertSameOnEveryBuffer(detector, ascii(PREFACE), TCP).status()).isEqualTo(Status.MATCH);
    }

    @Test
    void randomSplits() {
        assertRandomSplits(detector, ascii(Samples.HTTP2_PREFACE), 24, detect(detector, ascii(PREFACE)), TCP, 5, 300);
    }

    @Test
    void failsOnTheFirstByteThatDiffers() {
        byte[] preface = ascii(PREFACE);
        for (int i = 0; i < preface.length; i++) {
            byte[] wrong = preface.clone();
            wrong[i] ^= 0x20;
            assertDecidesAt(detector, wrong, i + 1, Status.NO_MATCH, TCP);
        }
        assertThat(detect(detector, ascii("GET / HTTP/1.1\r\n")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, ascii("PRI * HTTP/1.1\r\n")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }
}
