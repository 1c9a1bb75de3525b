package io.refractium.protocols.stun;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.udp;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.ascii;
import static io.refractium.protocols.Samples.captured;
import static io.refractium.protocols.Samples.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.protocols.UdpSamples;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.Transport;
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

    @Test
    void overUdpTheFirstDatagramIsOneWholeMessage() {
        assertThat(detector.transports()).containsExactlyInAnyOrder(Transport.TCP, Transport.UDP);
        byte[] b = captured("stun");
        DetectionResult r = assertSameOnEveryBuffer(detector, b, UDP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(StunDetector.METHOD, "allocate")
                .put(StunDetector.CLASS, "request").build());
        assertThat(assertSameOnEveryBuffer(detector, UdpSamples.stunBinding(), UDP).status())
                .isEqualTo(Status.MATCH);
        byte[] two = Samples.concat(b, new byte[40]);
        assertThat(assertSameOnEveryBuffer(detector, two, udp(new int[] {b.length, two.length}, false)).attributes())
                .isEqualTo(r.attributes());
        // only the header: the length says there are attributes
        assertThat(detect(detector, Arrays.copyOf(b, 20), UDP).status()).isEqualTo(Status.NO_MATCH);
        // the datagram longer than the message
        assertThat(detect(detector, Arrays.copyOf(b, b.length + 4), UDP).status()).isEqualTo(Status.NO_MATCH);
        // an attribute whose length runs past the message
        byte[] overrun = b.clone();
        overrun[23] = 0x40;
        assertThat(detect(detector, overrun, UDP).status()).isEqualTo(Status.NO_MATCH);
        // a success response, and RFC 3489 without the cookie
        assertThat(detect(detector, hex("0101 0000 2112a442 b7e7a701bc34d686fa87dfae"), UDP).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, hex("0001 0000 b7e7a701 b7e7a701bc34d686fa87dfae"), UDP).status())
                .isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, new byte[0], UDP).status()).isEqualTo(Status.NO_MATCH);
    }
}
