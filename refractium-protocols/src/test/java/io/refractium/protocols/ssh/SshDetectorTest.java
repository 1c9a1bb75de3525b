package io.refractium.protocols.ssh;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
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
import io.refractium.spi.ProtocolAttributes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SshDetectorTest {

    private final SshDetector detector = new SshDetector();

    private static ProtocolAttributes attributes(String version, String software) {
        return ProtocolAttributes.builder()
                .put(AttributeKey.SSH_VERSION, version)
                .put(AttributeKey.SSH_SOFTWARE, software)
                .build();
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("ssh");
        assertThat(detector.maxBytes()).isEqualTo(255);
    }

    @Test
    void openSshBannerMatchesAtTheEndOfTheLine() {
        byte[] banner = ascii(Samples.OPENSSH_BANNER);
        DetectionResult r = assertDecidesAt(detector, banner, banner.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("2.0", "OpenSSH_9.6p1"));
        assertThat(assertSameOnEveryBuffer(detector, banner, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void bannerFollowedByTheKeyExchange() {
        String banner = "SSH-2.0-Go\r\n";
        byte[] bytes = Samples.concat(ascii(banner), new byte[] {0, 0, 5, (byte) 0xdc, 6, 20, 1, 2, 3});
        DetectionResult r = assertDecidesAt(detector, bytes, banner.length(), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("2.0", "Go"));
        assertRandomSplits(detector, bytes, banner.length(), r, TCP, 9, 300);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SSH-1.99-OpenSSH_3.9p1|1.99|OpenSSH_3.9p1",
        "SSH-2.0-PuTTY_Release_0.81|2.0|PuTTY_Release_0.81",
        "SSH-2.0-JSCH-0.1.54|2.0|JSCH-0.1.54",
        "SSH-2.0-paramiko_3.4.0|2.0|paramiko_3.4.0",
        "SSH-2.0-dropbear_2022.83 with\tcomments|2.0|dropbear_2022.83",
    })
    void otherClients(String line, String version, String software) {
        byte[] banner = ascii(line + "\r\n");
        DetectionResult r = assertDecidesAt(detector, banner, banner.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(version, software));
    }

    @Test
    void bareLineFeedEndsTheLine() {
        byte[] banner = ascii("SSH-2.0-libssh_0.10.6\n");
        DetectionResult r = assertDecidesAt(detector, banner, banner.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("2.0", "libssh_0.10.6"));
    }

    @Test
    void lineOf255BytesWithoutEndMatches() {
        String software = "X".repeat(SshDetector.MAX_BYTES - 8 + 10);
        byte[] banner = ascii("SSH-2.0-" + software);
        DetectionResult r = assertDecidesAt(detector, banner, SshDetector.MAX_BYTES, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("2.0", software.substring(0, SshDetector.MAX_BYTES - 8)));
    }

    @Test
    void otherVersionsFailOnTheirFirstByte() {
        assertDecidesAt(detector, ascii("SSH-1.5-OpenSSH_1.2.3\r\n"), 7, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("SSH-2.1-X\r\n"), 7, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("SSH-3.0-X\r\n"), 5, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("SSH-2.0 X\r\n"), 8, Status.NO_MATCH, TCP);
    }

    @Test
    void firstByteMismatch() {
        assertDecidesAt(detector, ascii("ssh-2.0-X\r\n"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GET / HTTP/1.1\r\n"), 1, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void badSoftwareOrComments() {
        assertDecidesAt(detector, ascii("SSH-2.0-\r\n"), 9, Status.NO_MATCH, TCP);          // empty software
        assertDecidesAt(detector, ascii("SSH-2.0- X\r\n"), 9, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("SSH-2.0-A\u0001\r\n"), 10, Status.NO_MATCH, TCP);  // control byte
        assertDecidesAt(detector, ascii("SSH-2.0-A c\u0000\r\n"), 12, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("SSH-2.0-A\rX"), 11, Status.NO_MATCH, TCP);        // CR without LF
    }

    @Test
    void completeInputMatchesWithASoftwareVersion() {
        assertThat(detect(detector, ascii("SSH-2.0-OpenSSH_9.6"), TCP).status()).isEqualTo(Status.NEED_MORE);
        DetectionResult r = detect(detector, ascii("SSH-2.0-OpenSSH_9.6"), TCP_COMPLETE);
        assertThat(r.attributes()).isEqualTo(attributes("2.0", "OpenSSH_9.6"));
        assertThat(detect(detector, ascii("SSH-2.0-"), TCP_COMPLETE).status()).isEqualTo(Status.NEED_MORE);
    }
}
