package io.refractium.protocols.rdp;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.captured;
import static io.refractium.protocols.Samples.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import org.junit.jupiter.api.Test;

class RdpDetectorTest {

    private final RdpDetector detector = new RdpDetector();

    @Test
    void freeRdpConnectionRequestWithTheCookie() {
        byte[] b = captured("rdp");
        DetectionResult r = assertDecidesAt(detector, b, b.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(RdpDetector.COOKIE, "alice").build());
        assertRandomSplits(detector, b, b.length, r, TCP, 8, 100);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void withoutCookie() {
        // Hand-built from [MS-RDPBCGR] 4.1.1 without the cookie: TPKT, X.224 CR, RDP_NEG_REQ (TLS | CredSSP).
        byte[] b = hex("0300 0013 0ee0 0000 0000 00 01 00 0800 03000000");
        DetectionResult r = assertDecidesAt(detector, b, b.length, Status.MATCH, TCP);
        assertThat(r.attributes().isEmpty()).isTrue();
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        assertDecidesAt(detector, hex("0400002b26e00000"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0301002b26e00000"), 2, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0300000a05e00000"), 4, Status.NO_MATCH, TCP);   // too short
        assertDecidesAt(detector, hex("0300002b25e00000"), 5, Status.NO_MATCH, TCP);   // length indicator
        assertDecidesAt(detector, hex("0300002b26d00000"), 6, Status.NO_MATCH, TCP);   // a CC, not a CR
        assertDecidesAt(detector, hex("0300002b26e00100"), 7, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0300002b26e00000123404"), 11, Status.NO_MATCH, TCP); // class 4
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }
}
