package io.refractium.protocols.stun;

import static io.refractium.protocols.DetectorChecks.TCP;
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

class StunDetectorTest {

    private final StunDetector detector = new StunDetector();

    @Test
    void turnutilsAllocateRequestMatchesAtTheMagicCookie() {
        byte[] b = captured("stun");
        DetectionResult r = assertDecidesAt(detector, b, 8, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(StunDetector.METHOD, "allocate")
                .put(StunDetector.CLASS, "request").build());
        assertRandomSplits(detector, b, 8, r, TCP, 13, 100);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    @ParameterizedTest
    @CsvSource({"0001,binding,request", "0011,binding,indication", "0004,refresh,request",
        "0008,create_permission,request", "0009,channel_bind,request", "000a,connect,request",
        "000b,connection_bind,request", "0016,send,indication"})
    void clientMessageTypesMatch(String type, String method, String messageClass) {
        // An RFC 5769 style Binding request header with the given type and no attributes.
        byte[] b = hex(type + "0000 2112a442 b7e7a701bc34d686fa87dfae");
        DetectionResult r = assertDecidesAt(detector, b, 8, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(StunDetector.METHOD, method)
                .put(StunDetector.CLASS, messageClass).build());
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        assertDecidesAt(detector, hex("4001 0000 2112a442"), 1, Status.NO_MATCH, TCP);   // top bits
        assertDecidesAt(detector, hex("0101 0000 2112a442"), 1, Status.NO_MATCH, TCP);   // success response
        assertDecidesAt(detector, hex("0000 0000 2112a442"), 2, Status.NO_MATCH, TCP);   // method 0
        assertDecidesAt(detector, hex("0013 0000 2112a442"), 2, Status.NO_MATCH, TCP);   // allocate indication
        assertDecidesAt(detector, hex("0001 0002 2112a442"), 4, Status.NO_MATCH, TCP);   // length % 4
        assertDecidesAt(detector, hex("0001 0008 2012a442"), 5, Status.NO_MATCH, TCP);   // cookie
        assertDecidesAt(detector, hex("0001 0008 2112a443"), 8, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0001 0008 b7e7a701"), 5, Status.NO_MATCH, TCP);   // RFC 3489, no cookie
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }
}
