package io.refractium.protocols.wireguard;

import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.udp;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.CountingByteBuf;
import io.refractium.protocols.Samples;
import io.refractium.protocols.UdpSamples;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.Transport;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WireGuardDetectorTest {

    private final WireGuardDetector detector = new WireGuardDetector();

    @Test
    void aHandshakeInitiationMatches() {
        assertThat(detector.transports()).containsExactly(Transport.UDP);
        byte[] init = UdpSamples.wireGuardInitiation(7);
        assertThat(assertSameOnEveryBuffer(detector, init, UDP).status()).isEqualTo(Status.MATCH);
        // with a cookie: mac2 set
        byte[] withCookie = init.clone();
        Arrays.fill(withCookie, 132, 148, (byte) 0x5c);
        assertThat(assertSameOnEveryBuffer(detector, withCookie, UDP).status()).isEqualTo(Status.MATCH);
        // the first datagram of several
        byte[] two = Samples.concat(init, new byte[64]);
        assertThat(assertSameOnEveryBuffer(detector, two, udp(new int[] {148, two.length}, false)).status())
                .isEqualTo(Status.MATCH);
    }

    @Test
    void otherMessagesAndLengthsDoNotMatch() {
        byte[] init = UdpSamples.wireGuardInitiation(7);
        assertNoMatch(Arrays.copyOf(init, 147));
        assertNoMatch(Arrays.copyOf(init, 149));
        for (int type : new int[] {0, 2, 3, 4, 5, 0x11}) {
            byte[] b = init.clone();
            b[0] = (byte) type;
            assertNoMatch(b);
        }
        for (int reserved = 1; reserved <= 3; reserved++) {
            byte[] b = init.clone();
            b[reserved] = 1;
            assertNoMatch(b);
        }
        byte[] zeroKey = init.clone();
        Arrays.fill(zeroKey, 8, 40, (byte) 0);
        assertNoMatch(zeroKey);
        // a response (type 2, 92 bytes) and a transport data message (type 4)
        byte[] response = Arrays.copyOf(init, 92);
        response[0] = 2;
        assertNoMatch(response);
        byte[] data = Arrays.copyOf(init, 148);
        data[0] = 4;
        assertNoMatch(data);
        // the initiation is the first datagram, not the second
        byte[] two = Samples.concat(new byte[100], init);
        assertThat(assertSameOnEveryBuffer(detector, two, udp(new int[] {100, two.length}, false)).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void aWrongLengthCostsNoRead() {
        CountingByteBuf buf = new CountingByteBuf(new byte[1200]);
        try {
            buf.writerIndex(1200);
            assertThat(detector.detect(buf, UDP).status()).isEqualTo(Status.NO_MATCH);
            assertThat(buf.bytesRead()).isZero();
        } finally {
            buf.release();
        }
    }

    private void assertNoMatch(byte[] datagram) {
        assertThat(assertSameOnEveryBuffer(detector, datagram, UDP).status()).isEqualTo(Status.NO_MATCH);
    }
}
