package io.refractium.protocols.openvpn;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
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

class OpenVpnDetectorTest {

    private final OpenVpnDetector detector = new OpenVpnDetector();

    @ParameterizedTest
    @CsvSource({"ovpn2,7,16", "ovpn3,10,355"})
    void openvpnHardResetsMatchAtThePacketsLastByte(String sample, int opcode, int decisive) {
        byte[] b = captured(sample);
        DetectionResult r = assertDecidesAt(detector, b, decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(OpenVpnDetector.OPCODE, opcode)
                .build());
        assertRandomSplits(detector, b, decisive, r, TCP, 17, 50);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void tlsAuthAndTlsCryptLayoutsMatch() {
        // --tls-auth with SHA1: session id, 20-byte HMAC, replay packet id 1 and time, empty ack array, packet id 0.
        byte[] tlsAuth = hex("002a 38 1122334455667788 " + "ab".repeat(20) + " 00000001 6b0f5fe5 00 00000000");
        assertDecidesAt(detector, tlsAuth, 44, Status.MATCH, TCP);
        // --tls-crypt: 54 bytes, nothing checked after the session id.
        byte[] tlsCrypt = hex("0036 38 1122334455667788 " + "5a".repeat(45));
        assertDecidesAt(detector, tlsCrypt, 56, Status.MATCH, TCP);
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        byte[] good = captured("ovpn2");
        assertDecidesAt(detector, hex("05"), 1, Status.NO_MATCH, TCP);                        // length > 1142
        assertDecidesAt(detector, hex("000d 38"), 2, Status.NO_MATCH, TCP);                   // length < 14
        assertDecidesAt(detector, hex("000e 39"), 3, Status.NO_MATCH, TCP);                   // key id 1
        assertDecidesAt(detector, hex("000e 40"), 3, Status.NO_MATCH, TCP);                   // opcode 8
        assertDecidesAt(detector, hex("000f 38"), 3, Status.NO_MATCH, TCP);                   // no V2 layout
        assertDecidesAt(detector, hex("0060 38"), 3, Status.NO_MATCH, TCP);                   // V2 too long
        assertDecidesAt(detector, hex("0100 50"), 3, Status.NO_MATCH, TCP);                   // V3 too short
        assertDecidesAt(detector, hex("000e 38 0000000000000000 00"), 11, Status.NO_MATCH, TCP);  // session id 0
        byte[] ack = good.clone();
        ack[11] = 1;                                                                          // an ack
        assertDecidesAt(detector, ack, 12, Status.NO_MATCH, TCP);
        byte[] packetId = good.clone();
        packetId[15] = 1;
        assertDecidesAt(detector, packetId, 16, Status.NO_MATCH, TCP);
        byte[] wkc = captured("ovpn3");
        wkc[wkc.length - 1]++;                                                                // WKc length off
        assertDecidesAt(detector, wkc, wkc.length, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void aPacketCutShortDoesNotMatchEvenOnTheLastCall() {
        assertThat(detect(detector, Arrays.copyOf(captured("ovpn3"), 100), TCP_LAST_CALL).status())
                .isEqualTo(Status.NEED_MORE);
    }

    @ParameterizedTest
    @CsvSource({"ovpn2,7", "ovpn3,10"})
    void overUdpThePacketIsTheFirstDatagram(String sample, int opcode) {
        assertThat(detector.transports()).containsExactlyInAnyOrder(Transport.TCP, Transport.UDP);
        byte[] b = UdpSamples.openVpn(sample);
        DetectionResult r = assertSameOnEveryBuffer(detector, b, UDP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(OpenVpnDetector.OPCODE, opcode)
                .build());
        byte[] two = Samples.concat(b, new byte[70]);
        assertThat(assertSameOnEveryBuffer(detector, two, udp(new int[] {b.length, two.length}, false)).attributes())
                .isEqualTo(r.attributes());
        // one byte less or more: the layout no longer holds
        assertThat(detect(detector, Arrays.copyOf(b, b.length - 1), UDP).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, Arrays.copyOf(b, b.length + 1), UDP).status()).isEqualTo(Status.NO_MATCH);
        // the TCP form, with its length prefix, is not a UDP packet
        assertThat(detect(detector, captured(sample), UDP).status()).isEqualTo(Status.NO_MATCH);
        byte[] zeroSession = b.clone();
        Arrays.fill(zeroSession, 1, 9, (byte) 0);
        assertThat(detect(detector, zeroSession, UDP).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, new byte[0], UDP).status()).isEqualTo(Status.NO_MATCH);
    }
}
