package io.refractium.protocols.socks;

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

class SocksDetectorTest {

    private final SocksDetector detector = new SocksDetector();

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("socks");
        assertThat(detector.maxBytes()).isEqualTo(520);
    }

    @Test
    void curlSocks4() {
        byte[] b = captured("socks4");
        DetectionResult r = assertDecidesAt(detector, b, b.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(SocksDetector.VERSION, "4")
                .put(SocksDetector.HOST, "127.0.0.1").put(SocksDetector.PORT, 9).build());
        assertRandomSplits(detector, b, b.length, r, TCP, 1, 100);
    }

    @Test
    void curlSocks4aWithTheHostName() {
        byte[] b = captured("socks4a");
        DetectionResult r = assertDecidesAt(detector, b, b.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(SocksDetector.VERSION, "4a")
                .put(SocksDetector.HOST, "example.test").put(SocksDetector.PORT, 8080).build());
        assertRandomSplits(detector, b, b.length, r, TCP, 2, 100);
        byte[] withUser = hex("04010050 00000001 626f6200 4578616d706c652e4f524700");
        assertThat(assertDecidesAt(detector, withUser, withUser.length, Status.MATCH, TCP).attributes())
                .isEqualTo(ProtocolAttributes.builder().put(SocksDetector.VERSION, "4a")
                        .put(SocksDetector.HOST, "example.org").put(SocksDetector.PORT, 80)
                        .put(SocksDetector.USER, "bob").build());
    }

    @Test
    void curlSocks5Greetings() {
        for (String name : new String[] {"socks5", "socks5auth"}) {
            byte[] b = captured(name);
            DetectionResult r = assertDecidesAt(detector, b, b.length, Status.MATCH, TCP);
            assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(SocksDetector.VERSION, "5").build());
            assertRandomSplits(detector, b, b.length, r, TCP, 3, 50);
            assertThat(assertSameOnEveryBuffer(detector, b, TCP).status()).isEqualTo(Status.MATCH);
        }
    }

    @Test
    void socks5GreetingFollowedByARequestOrAuthentication() {
        byte[] request = hex("050100 05010003 0b6578616d706c652e636f6d 0050");
        assertThat(assertDecidesAt(detector, request, 3, Status.MATCH, TCP).isMatch()).isTrue();
        byte[] auth = hex("050102 0103626f620170");
        assertThat(assertDecidesAt(detector, auth, 3, Status.MATCH, TCP).isMatch()).isTrue();
        assertThat(detect(detector, hex("050100 47")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, hex("050100 0507")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, hex("050100 05010009")).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void mismatches() {
        assertDecidesAt(detector, hex("06010050"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0500"), 2, Status.NO_MATCH, TCP);           // no methods
        assertDecidesAt(detector, hex("0502000a"), 4, Status.NO_MATCH, TCP);       // unassigned method
        assertDecidesAt(detector, hex("050200ff"), 4, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("04030050 7f000001 00"), 2, Status.NO_MATCH, TCP);  // command 3
        assertDecidesAt(detector, hex("04010000 7f000001 00"), 4, Status.NO_MATCH, TCP);  // port 0
        assertDecidesAt(detector, hex("04010050 00000000 00"), 8, Status.NO_MATCH, TCP);  // 0.0.0.0
        assertDecidesAt(detector, hex("04010050 7f000001 6101"), 10, Status.NO_MATCH, TCP); // control byte
        assertDecidesAt(detector, hex("04010050 00000001 00 00"), 10, Status.NO_MATCH, TCP); // empty 4a host
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }
}
