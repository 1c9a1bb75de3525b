package io.refractium.protocols.dns;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.assertProgressChangesNothingOnMutations;
import static io.refractium.protocols.DetectorChecks.assertSameWithProgress;
import static io.refractium.protocols.DetectorChecks.bytesRead;
import static io.refractium.protocols.DetectorChecks.detectWithProgress;
import static io.refractium.protocols.DetectorChecks.everyByte;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.Samples.dnsQuery;
import static io.refractium.protocols.Samples.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import org.junit.jupiter.api.Test;

/**
 * The DNS detector resumes over TCP where the previous call stopped after the question
 * ({@link io.refractium.spi.DetectionContext#progress()}): the same answers as from the beginning, and a total cost
 * linear in the bytes received, counted in bytes read.
 */
class DnsDetectorProgressTest {

    /**
     * Bytes read at most over a whole arrival with the progress kept, per read and per byte received: until the
     * question is complete each call reads the header and the question again (a few hundred bytes at most), after it
     * only the length prefix and what is new.
     */
    private static final int LINEAR_BOUND = 8;

    private final DnsDetector detector = new DnsDetector();

    /** A query for example.com whose OPT record (RFC 6891) holds {@code options} empty options. */
    private static byte[] queryWithOptions(int options) {
        byte[] query = dnsQuery("example.com", 1, false);
        query[11] = 1; // ARCOUNT
        int length = 4 * options;
        return tcp(concat(query, new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, (byte) (length >>> 8),
            (byte) length}, new byte[length]));
    }

    private void assertLinear(byte[] message, int[] ends) {
        assertThat(bytesRead(detector, message, ends, TCP, true)).as("bytes read over %d reads of %d bytes",
                ends.length, message.length).isLessThanOrEqualTo((long) LINEAR_BOUND * (ends.length + message.length));
    }

    @Test
    void longestMessageOfEmptyOptionsOneBytePerRead() {
        byte[] query = queryWithOptions((65535 - 12 - 17 - 11) / 4);
        assertThat(query.length).isGreaterThan(65_500).isLessThanOrEqualTo(DnsDetector.MAX_BYTES);
        DetectionResult r = detectWithProgress(detector, query, everyByte(query.length), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(DnsDetector.QNAME)).isEqualTo("example.com");
        assertLinear(query, everyByte(query.length));
    }

    @Test
    void optionsOneBytePerReadGiveTheSameAnswers() {
        byte[] query = queryWithOptions(500);
        assertThat(assertSameWithProgress(detector, query, everyByte(query.length), TCP).status())
                .isEqualTo(Status.MATCH);
        // Without the progress every read checks all the options again: the count that shows it is worth keeping.
        assertThat(bytesRead(detector, query, everyByte(query.length), TCP, false))
                .isGreaterThan(10 * bytesRead(detector, query, everyByte(query.length), TCP, true));
        // an option that runs past the record, after 499 good ones
        byte[] overrun = query.clone();
        overrun[overrun.length - 1] = 1; // the last option's length
        assertThat(assertSameWithProgress(detector, overrun, everyByte(overrun.length), TCP).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void longUpdateOneBytePerRead() {
        byte[] update = dnsQuery("example.com", 6, false);
        update[2] = 0x28; // opcode UPDATE
        byte[] message = tcp(concat(update, new byte[60_000]));
        DetectionResult r = detectWithProgress(detector, message, everyByte(message.length), TCP);
        assertThat(r.attributes().get(DnsDetector.QNAME)).isEqualTo("example.com");
        assertLinear(message, everyByte(message.length));
        byte[] shorter = tcp(concat(update, new byte[2000]));
        assertThat(assertSameWithProgress(detector, shorter, everyByte(shorter.length), TCP).status())
                .isEqualTo(Status.MATCH);
    }

    @Test
    void changedBytesGiveTheSameAnswersWithTheProgress() {
        byte[] update = dnsQuery("example.com", 6, false);
        update[2] = 0x28;
        byte[][] samples = {
            tcp(dnsQuery("example.com", 1, false)),
            tcp(dnsQuery("example.com", 28, true)),
            queryWithOptions(30),
            tcp(concat(update, new byte[40])),
            concat(tcp(dnsQuery("a.example", 1, true)), tcp(dnsQuery("b.example", 1, true))),
            io.refractium.protocols.Samples.DIG_IXFR,
            io.refractium.protocols.Samples.DIG_TSIG,
            io.refractium.protocols.Samples.DIG_COOKIE,
            io.refractium.protocols.Samples.DSO_KEEPALIVE,
            io.refractium.protocols.Samples.sig0Query(),
        };
        assertProgressChangesNothingOnMutations(detector, samples, TCP, 29, 3000);
    }
}
