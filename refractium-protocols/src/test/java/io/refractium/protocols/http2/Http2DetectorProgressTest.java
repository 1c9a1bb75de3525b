package io.refractium.protocols.http2;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.assertProgressChangesNothingOnMutations;
import static io.refractium.protocols.DetectorChecks.assertSameWithProgress;
import static io.refractium.protocols.DetectorChecks.bytesRead;
import static io.refractium.protocols.DetectorChecks.everyByte;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.http2.H2.CONTINUATION;
import static io.refractium.protocols.http2.H2.END_HEADERS;
import static io.refractium.protocols.http2.H2.HEADERS;
import static io.refractium.protocols.http2.H2.frame;
import static io.refractium.protocols.http2.H2.hpack;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/2 detector resumes where the previous call stopped ({@link io.refractium.spi.DetectionContext#progress()}):
 * the same answers as from the beginning, and a total cost linear in the bytes received, counted in bytes read.
 */
class Http2DetectorProgressTest {

    /**
     * Bytes read at most over a whole arrival with the progress kept, per read and per byte received: each call
     * reads again one frame header (9 bytes) at most, the preface is read once after it is complete, and the header
     * block is copied once (a copy the counting buffer does not count).
     */
    private static final int LINEAR_BOUND = 12;

    private final Http2Detector detector = new Http2Detector();

    private void assertLinear(byte[] bytes, int[] ends) {
        assertThat(bytesRead(detector, bytes, ends, TCP, true)).as("bytes read over %d reads of %d bytes",
                ends.length, bytes.length).isLessThanOrEqualTo((long) LINEAR_BOUND * (ends.length + bytes.length));
    }

    /** The preface and SETTINGS, then {@code count} PING frames, then the request. */
    private static byte[] manyFramesFirst(int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(H2.preface());
        out.writeBytes(H2.settings());
        for (int i = 0; i < count; i++) {
            out.writeBytes(frame(H2.PING, 0, 0, new byte[8]));
        }
        out.writeBytes(frame(HEADERS, END_HEADERS, 1, hpack(H2.get("late.test", "/ping"), true)));
        return out.toByteArray();
    }

    @Test
    void manySmallFramesOneBytePerRead() {
        byte[] bytes = manyFramesFirst(1500);
        assertThat(bytes.length).isBetween(25_000, Http2Detector.MAX_BYTES);
        DetectionResult r = assertSameWithProgress(detector, bytes, everyByte(bytes.length), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("late.test");
        assertLinear(bytes, everyByte(bytes.length));
        // Without the progress every read walks all the frames again: the count that shows it is worth keeping.
        assertThat(bytesRead(detector, bytes, everyByte(bytes.length), TCP, false))
                .isGreaterThan(100 * bytesRead(detector, bytes, everyByte(bytes.length), TCP, true));
    }

    @Test
    void aLargeHeaderBlockInContinuationsOneBytePerRead() {
        byte[] block = hpack(H2.get("big.test", "/big").add("cookie", "v".repeat(20_000)), false);
        int[] cuts = {0, 5_000, 10_000, 15_000, block.length};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(H2.start());
        for (int i = 0; i + 1 < cuts.length; i++) {
            out.writeBytes(frame(i == 0 ? HEADERS : CONTINUATION, i + 2 == cuts.length ? END_HEADERS : 0, 1,
                    Arrays.copyOfRange(block, cuts[i], cuts[i + 1])));
        }
        byte[] bytes = out.toByteArray();
        DetectionResult r = assertSameWithProgress(detector, bytes, everyByte(bytes.length), TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("big.test");
        assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo("/big");
        assertLinear(bytes, everyByte(bytes.length));
    }

    @Test
    void changedBytesGiveTheSameAnswersWithTheProgress() {
        byte[] block = hpack(H2.get("m.test", "/m").add("content-type", "application/grpc"), true);
        byte[][] samples = {
            H2.resource("curl-h2c-get.bin"),
            H2.resource("curl-h2c-grpc.bin"),
            H2.nettyRequest(true, H2.get("a.test", "/x"), 9, true),
            H2.nettyRequest(false, H2.get("b.test:80", "/y?z"), 0, false),
            concat(H2.start(), frame(HEADERS, 0x2c, 1, concat(new byte[] {3, 0, 0, 0, 0, 9}, block, new byte[3]))),
            concat(H2.start(), frame(HEADERS, 0, 1, Arrays.copyOf(block, 7)),
                    frame(CONTINUATION, END_HEADERS, 1, Arrays.copyOfRange(block, 7, block.length))),
            manyFramesFirst(20),
        };
        assertProgressChangesNothingOnMutations(detector, samples, TCP, 29, 3000);
        assertProgressChangesNothingOnMutations(detector, samples, TCP_COMPLETE, 31, 1000);
    }
}
