package io.refractium.protocols.minecraft;

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

import io.refractium.protocols.Samples;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MinecraftDetectorTest {

    private final MinecraftDetector detector = new MinecraftDetector();

    private static ProtocolAttributes attributes(String address, int protocol, int port, int nextState) {
        return ProtocolAttributes.builder().put(MinecraftDetector.ADDRESS, address)
                .put(MinecraftDetector.PROTOCOL, protocol).put(MinecraftDetector.PORT, port)
                .put(MinecraftDetector.NEXT_STATE, nextState).build();
    }

    @Test
    void minecraftServerUtilStatusPingMatchesAtTheNextState() {
        byte[] b = captured("minecraft-status");
        DetectionResult r = assertDecidesAt(detector, b, 16, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("localhost", 47, 16034, 1));
        assertRandomSplits(detector, b, 16, r, TCP, 19, 100);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void handBuiltHandshakesMatch() {
        // Built from the protocol description, no client: a 1.21 login through a Forge client (FML3 marker), a
        // transfer, a status ping with protocol -1, and the longest address (255 three-byte characters).
        byte[] forge = Samples.minecraftHandshake(767, "mc.example.test\0FML3\0", 25565, 2);
        assertThat(assertDecidesAt(detector, forge, forge.length, Status.MATCH, TCP).attributes())
                .isEqualTo(attributes("mc.example.test", 767, 25565, 2));
        byte[] transfer = Samples.minecraftHandshake(769, "Play.Example.Test", 25566, 3);
        assertThat(assertDecidesAt(detector, transfer, transfer.length, Status.MATCH, TCP).attributes())
                .isEqualTo(attributes("Play.Example.Test", 769, 25566, 3));
        byte[] ping = Samples.minecraftHandshake(-1, "192.0.2.1", 25565, 1);
        assertThat(ping.length).isEqualTo(1 + 1 + 5 + 1 + 9 + 2 + 1);
        assertThat(assertDecidesAt(detector, ping, ping.length, Status.MATCH, TCP).attributes())
                .isEqualTo(attributes("192.0.2.1", -1, 25565, 1));
        String longest = "\u20ac".repeat(255);
        byte[] big = Samples.minecraftHandshake(767, longest, 25565, 2);
        assertThat(big.length).isEqualTo(MinecraftDetector.MAX_BYTES - 3);
        assertThat(assertDecidesAt(detector, big, big.length, Status.MATCH, TCP).attributes())
                .isEqualTo(attributes(longest, 767, 25565, 2));
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        assertDecidesAt(detector, hex("06 00 2f 01 61 63dd 01"), 1, Status.NO_MATCH, TCP);          // length 6
        assertDecidesAt(detector, hex("8000"), 2, Status.NO_MATCH, TCP);                        // not shortest
        assertDecidesAt(detector, hex("8807"), 2, Status.NO_MATCH, TCP);                        // > 776
        assertDecidesAt(detector, hex("0f 01"), 2, Status.NO_MATCH, TCP);                       // packet id 1
        assertDecidesAt(detector, hex("0f 00 ffffffff1f"), 7, Status.NO_MATCH, TCP);            // VarInt > 32 bits
        assertDecidesAt(detector, hex("0f 00 2f 0a"), 4, Status.NO_MATCH, TCP);                 // address too long
        assertDecidesAt(detector, hex("0f 00 2f 08"), 4, Status.NO_MATCH, TCP);                 // too short
        assertDecidesAt(detector, hex("0f 00 2f 09 6c6f63616c0a"), 10, Status.NO_MATCH, TCP);   // control char
        assertDecidesAt(detector, hex("0f 00 2f 09 00"), 5, Status.NO_MATCH, TCP);              // NUL first
        assertDecidesAt(detector, hex("0f 00 2f 09 6c6f63616c686f7374 3ea2 04"), 16, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("0f 00 2f 09 6c6f63616c686f7374 3ea2 00"), 16, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GET / HTTP/1.1\r\n"), 2, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void onTheLastCallTheAddressIsEnough() {
        byte[] b = captured("minecraft-status");
        assertThat(detect(detector, Arrays.copyOf(b, 13), TCP_LAST_CALL).attributes()).isEqualTo(ProtocolAttributes
                .builder().put(MinecraftDetector.ADDRESS, "localhost").put(MinecraftDetector.PROTOCOL, 47).build());
        assertThat(detect(detector, Arrays.copyOf(b, 12), TCP_LAST_CALL).status()).isEqualTo(Status.NEED_MORE);
        byte[] forge = Samples.minecraftHandshake(767, "mc.example.test\0FML3\0", 25565, 2);
        assertThat(detect(detector, Arrays.copyOf(forge, 21), TCP_LAST_CALL).attributes()).isEqualTo(ProtocolAttributes
                .builder().put(MinecraftDetector.ADDRESS, "mc.example.test").put(MinecraftDetector.PROTOCOL, 767)
                .build());
    }
}
