package io.refractium.protocols.tls;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.assertProgressChangesNothingOnMutations;
import static io.refractium.protocols.DetectorChecks.assertSameWithProgress;
import static io.refractium.protocols.DetectorChecks.bytesRead;
import static io.refractium.protocols.DetectorChecks.chunksOf;
import static io.refractium.protocols.DetectorChecks.everyByte;
import static io.refractium.protocols.Samples.ascii;
import static io.refractium.protocols.Samples.clientHello;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.Samples.postQuantumClientHello;
import static io.refractium.protocols.Samples.records;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The TLS detector resumes where the previous call stopped ({@link io.refractium.spi.DetectionContext#progress()}):
 * the same answers as from the beginning, and a total cost linear in the bytes received, counted in bytes read.
 */
class TlsDetectorProgressTest {

    /**
     * Bytes read at most over a whole arrival with the progress kept, per read and per byte received: each call reads
     * again the header of the record it stopped in and the field it stopped at, and the whole hello is parsed once
     * more at its end (and again after a server_name, ALPN or supported_versions extension that had to be complete).
     * Without the progress the count grows with the square of the reads.
     */
    private static final int LINEAR_BOUND = 16;

    private final TlsDetector detector = new TlsDetector();

    /**
     * A ClientHello whose server_name extension (RFC 6066 §3) holds 999 entries of other name types and then the
     * host_name: about 4 KB.
     */
    private static byte[] thousandServerNames() {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (int i = 0; i < 999; i++) {
            list.writeBytes(new byte[] {(byte) (1 + i % 255), 0, 1, 'x'});
        }
        byte[] host = ascii("a.test");
        list.writeBytes(new byte[] {0, 0, (byte) host.length});
        list.writeBytes(host);
        byte[] entries = list.toByteArray();
        byte[] data = concat(new byte[] {(byte) (entries.length >>> 8), (byte) entries.length}, entries);
        return clientHello().alpn("h2").extension(0, data).supportedVersions(0x0304).handshake();
    }

    /** Returns the ends of reads of one record each, for records of {@code fragmentLength} bytes. */
    private static int[] oneRecordPerRead(byte[] handshake, int fragmentLength) {
        return chunksOf(5 + fragmentLength, records(handshake, fragmentLength).length);
    }

    private void assertLinear(byte[] hello, int[] ends) {
        assertThat(bytesRead(detector, hello, ends, TCP, true)).as("bytes read over %d reads of %d bytes",
                ends.length, hello.length).isLessThanOrEqualTo((long) LINEAR_BOUND * (ends.length + hello.length));
    }

    @Test
    void thousandServerNamesInOneByteRecordsOneRecordPerRead() {
        byte[] handshake = thousandServerNames();
        assertThat(handshake.length).isGreaterThan(4000);
        byte[] hello = records(handshake, 1);
        DetectionResult r = assertSameWithProgress(detector, hello, oneRecordPerRead(handshake, 1), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
        assertThat(r.attributes().get(AttributeKey.ALPN)).containsExactly("h2");
        assertThat(r.attributes().get(AttributeKey.TLS_VERSION)).isEqualTo("TLSv1.3");
        assertLinear(hello, oneRecordPerRead(handshake, 1));
    }

    @Test
    void thousandServerNamesOneBytePerRead() {
        byte[] hello = records(thousandServerNames(), 16384);
        DetectionResult r = assertSameWithProgress(detector, hello, everyByte(hello.length), TCP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
        assertLinear(hello, everyByte(hello.length));
    }

    @Test
    void postQuantumHelloOneBytePerReadReadsEachByteAFewTimes() {
        byte[] hello = postQuantumClientHello().record();
        long once = bytesRead(detector, hello, new int[] {hello.length}, TCP, true);
        assertLinear(hello, everyByte(hello.length));
        long byByte = bytesRead(detector, hello, everyByte(hello.length), TCP, true);
        // Without the progress every read parses the hello again: the count that shows it is worth keeping.
        long byByteFromStart = bytesRead(detector, hello, everyByte(hello.length), TCP, false);
        // A hello in one record reads no record header but its own: about 70 bytes per read from the start, 9 with
        // the progress.
        assertThat(byByteFromStart).isGreaterThan(6 * byByte);
        assertThat(once).isLessThanOrEqualTo(hello.length);
    }

    @Test
    void hellosInRecordsOfEverySizeAndEveryRead() {
        byte[] handshake = postQuantumClientHello().handshake();
        for (int fragmentLength : new int[] {1, 2, 3, 7, 100, 16384}) {
            byte[] hello = records(handshake, fragmentLength);
            for (int[] ends : List.of(everyByte(hello.length), oneRecordPerRead(handshake, fragmentLength),
                    chunksOf(13, hello.length))) {
                DetectionResult r = assertSameWithProgress(detector, hello, ends, TCP);
                assertThat(r.status()).as("records of %d", fragmentLength).isEqualTo(Status.MATCH);
                assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
            }
            assertLinear(hello, everyByte(hello.length));
        }
    }

    @Test
    void longFieldsInOneByteRecords() {
        // a long cipher suite list and a compression method list whose null method comes last
        int[] suites = new int[2000];
        for (int i = 0; i < suites.length; i++) {
            suites[i] = 0x0a00 + i;
        }
        byte[] compression = new byte[256];
        compression[0] = (byte) 255;
        for (int i = 1; i < 255; i++) {
            compression[i] = (byte) i;
        }
        byte[] handshake = clientHello().cipherSuites(0x1301, suites).rawCompressionMethods(compression)
                .extension(0x0a0a, new byte[3000]).sni("a.test").handshake();
        byte[] hello = records(handshake, 1);
        DetectionResult r = assertSameWithProgress(detector, hello, oneRecordPerRead(handshake, 1), TCP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("a.test");
        assertLinear(hello, everyByte(hello.length));
    }

    @Test
    void noMatchLateInAHelloInOneByteRecords() {
        // a second server_name after 3000 bytes of padding, and a compression method list without the null method
        byte[] duplicate = clientHello().sni("a.test").extension(0x0a0a, new byte[3000]).sni("b.test").handshake();
        byte[] hello = records(duplicate, 1);
        assertThat(assertSameWithProgress(detector, hello, everyByte(hello.length), TCP).status())
                .isEqualTo(Status.NO_MATCH);
        byte[] noNull = records(clientHello().rawCompressionMethods(new byte[] {3, 1, 2, 3}).handshake(), 1);
        assertThat(assertSameWithProgress(detector, noNull, everyByte(noNull.length), TCP).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void changedBytesGiveTheSameAnswersWithTheProgress() {
        Random random = new Random(5);
        byte[][] samples = {
            postQuantumClientHello().record(),
            records(postQuantumClientHello().handshake(), 1),
            Samples.randomRecords(postQuantumClientHello().handshake(), random, 40),
            records(clientHello().sni("a.test").alpn("h2", "http/1.1").supportedVersions(0x0304).handshake(), 2),
            records(clientHello().legacyVersion(0x0301).withoutExtensions().handshake(), 3),
            records(clientHello().rawCompressionMethods(new byte[] {4, 1, 2, 3, 0}).extension(0x0a0a, new byte[9])
                    .sni("a.test").handshake(), 1),
        };
        assertProgressChangesNothingOnMutations(detector, samples, TCP, 17, 1500);
        assertProgressChangesNothingOnMutations(detector, samples, io.refractium.protocols.DetectorChecks.TCP_LAST_CALL,
                31, 300);
    }
}
