package io.refractium.protocols.mqtt;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MqttDetectorTest {

    private final MqttDetector detector = new MqttDetector();

    @ParameterizedTest
    @CsvSource({"mqtt311,3.1.1,refractium-311,28", "mqtt5,5.0,refractium-v5,31", "mqtt31,3.1,refractium-31,29"})
    void mosquittoPubConnectMatchesAtTheClientIdsLastByte(String sample, String version, String clientId,
                                                           int decisive) {
        byte[] b = captured(sample);
        DetectionResult r = assertDecidesAt(detector, b, decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder().put(MqttDetector.VERSION, version)
                .put(MqttDetector.CLIENT_ID, clientId).build());
        assertRandomSplits(detector, b, decisive, r, TCP, 7, 100);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        byte[] good = captured("mqtt311");
        assertDecidesAt(detector, hex("12 1a 0004 4d515454"), 1, Status.NO_MATCH, TCP);     // flags set
        assertDecidesAt(detector, hex("10 0a 0004 4d515454"), 2, Status.NO_MATCH, TCP);     // too short
        assertDecidesAt(detector, hex("10 1a 0005 4d515454"), 4, Status.NO_MATCH, TCP);     // name length
        assertDecidesAt(detector, hex("10 1a 0004 4d515453"), 8, Status.NO_MATCH, TCP);     // "MQTS"
        assertDecidesAt(detector, hex("10 1a 0004 4d515454 06"), 9, Status.NO_MATCH, TCP);  // level 6
        assertDecidesAt(detector, hex("10 1a 0004 4d515454 04 03"), 10, Status.NO_MATCH, TCP); // reserved bit
        assertDecidesAt(detector, hex("10 1a 0004 4d515454 04 18"), 10, Status.NO_MATCH, TCP); // will QoS 3
        byte[] longId = good.clone();
        longId[13] = 0x20;                                                                 // id beyond the packet
        assertDecidesAt(detector, longId, 14, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }
}
