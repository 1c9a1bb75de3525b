package io.refractium.protocols.quic;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import javax.crypto.Mac;
import org.junit.jupiter.api.Test;

/** The key derivation against the test vectors of RFC 9001 Appendix A.1 and RFC 9369 Appendix A.1. */
class InitialKeysTest {

    private static final byte[] DCID = HexFormat.of().parseHex("8394c8f03e515708");

    @Test
    void version1() {
        Mac mac = InitialKeys.newMac();
        byte[] secret = InitialKeys.clientSecret(HexFormat.of().parseHex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
                DCID, 0, DCID.length, mac);
        assertThat(hex(secret)).isEqualTo("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
        InitialKeys keys = InitialKeys.client(InitialKeys.VERSION_1, DCID, 0, DCID.length, mac);
        assertThat(hex(keys.key.getEncoded())).isEqualTo("1f369613dd76d5467730efcbe3b1a22d");
        assertThat(hex(keys.iv)).isEqualTo("fa044b2f42a3fd3b46fb255c");
        assertThat(hex(keys.hp.getEncoded())).isEqualTo("9f50449e04a0e810283a1e9933adedd2");
    }

    @Test
    void version2() {
        Mac mac = InitialKeys.newMac();
        byte[] secret = InitialKeys.clientSecret(HexFormat.of().parseHex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
                DCID, 0, DCID.length, mac);
        assertThat(hex(secret)).isEqualTo("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
        InitialKeys keys = InitialKeys.client(InitialKeys.VERSION_2, DCID, 0, DCID.length, mac);
        assertThat(hex(keys.key.getEncoded())).isEqualTo("8b1a0bc121284290a29e0971b5cd045d");
        assertThat(hex(keys.iv)).isEqualTo("91f73e2351d8fa91660e909f");
        assertThat(hex(keys.hp.getEncoded())).isEqualTo("45b95e15235d6f45a6b19cbcb0294ba9");
    }

    @Test
    void theLabelIsTheTls13HkdfLabel() {
        // RFC 9001 A.1: info for "client in" is 00200f746c73313320636c69656e7420696e00
        assertThat(hex(InitialKeys.label("client in", 32))).isEqualTo("00200f746c73313320636c69656e7420696e00");
        assertThat(hex(InitialKeys.label("quic hp", 16))).isEqualTo("00100d746c733133207175696320687000");
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
