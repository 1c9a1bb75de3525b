package io.refractium.protocols.http;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.assertProgressChangesNothingOnMutations;
import static io.refractium.protocols.DetectorChecks.assertSameWithProgress;
import static io.refractium.protocols.DetectorChecks.bytesRead;
import static io.refractium.protocols.DetectorChecks.chunksOf;
import static io.refractium.protocols.DetectorChecks.everyByte;
import static io.refractium.protocols.Samples.ascii;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import org.junit.jupiter.api.Test;

/**
 * The HTTP detector resumes where the previous call stopped ({@link io.refractium.spi.DetectionContext#progress()}):
 * the same answers as from the beginning, and a total cost linear in the bytes received, counted in bytes read.
 */
class HttpDetectorProgressTest {

    /**
     * Bytes read at most over a whole arrival with the progress kept, per read and per byte received: each call
     * reads again at most the method and the version (a few bytes), each header line is read twice (searched for its
     * end, then for its colon). Without the progress the count grows with the square of the reads.
     */
    private static final int LINEAR_BOUND = 8;

    private final HttpDetector detector = new HttpDetector();

    /** A request line, then header lines up to about 16 KiB, the Host header last. */
    private static String sixteenKibOfHeaders() {
        StringBuilder request = new StringBuilder("GET /index.html HTTP/1.1\r\n");
        for (int i = 0; request.length() < 16_000; i++) {
            request.append(String.format("X-Padding-%03d: %064d\r\n", i, i));
        }
        return request.append("Host: late.test\r\n\r\n").toString();
    }

    private void assertLinear(byte[] request, int[] ends) {
        assertThat(bytesRead(detector, request, ends, TCP, true)).as("bytes read over %d reads of %d bytes",
                ends.length, request.length).isLessThanOrEqualTo((long) LINEAR_BOUND * (ends.length + request.length));
    }

    @Test
    void sixteenKibOfHeadersOneBytePerRead() {
        byte[] request = ascii(sixteenKibOfHeaders());
        assertThat(request.length).isBetween(16_000, HttpDetector.MAX_BYTES);
        DetectionResult r = assertSameWithProgress(detector, request, everyByte(request.length), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("late.test");
        assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo("/index.html");
        assertLinear(request, everyByte(request.length));
        // Without the progress every read searches all the lines again: the count that shows it is worth keeping.
        assertThat(bytesRead(detector, request, everyByte(request.length), TCP, false))
                .isGreaterThan(100 * bytesRead(detector, request, everyByte(request.length), TCP, true));
    }

    @Test
    void oneHeaderLinePastTheCapOneBytePerRead() {
        byte[] request = ascii("GET / HTTP/1.1\r\nCookie: " + "c".repeat(HttpDetector.MAX_BYTES) + "\r\n\r\n");
        DetectionResult r = assertSameWithProgress(detector, request, everyByte(request.length), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().has(AttributeKey.HTTP_HOST)).isFalse();
        assertLinear(request, everyByte(request.length));
    }

    @Test
    void longRequestTargetOneBytePerRead() {
        String target = "/" + "t".repeat(15_000);
        byte[] request = ascii("GET " + target + " HTTP/1.0\r\nHost: a.test\r\n\r\n");
        DetectionResult r = assertSameWithProgress(detector, request, everyByte(request.length), TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo(target);
        assertThat(r.attributes().get(AttributeKey.HTTP_VERSION)).isEqualTo("HTTP/1.0");
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("a.test");
        assertLinear(request, everyByte(request.length));
        // a request target past the cap: no request line, no match
        byte[] tooLong = ascii("GET /" + "t".repeat(HttpDetector.MAX_BYTES) + " HTTP/1.1\r\n\r\n");
        assertThat(assertSameWithProgress(detector, tooLong, chunksOf(7, tooLong.length), TCP).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void changedBytesGiveTheSameAnswersWithTheProgress() {
        byte[][] samples = {
            ascii(Samples.CURL_REQUEST),
            ascii(Samples.BROWSER_REQUEST),
            ascii(Samples.ABSOLUTE_FORM_REQUEST),
            ascii(Samples.HTTP_1_0_REQUEST),
            ascii("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
            ascii("POST /a HTTP/1.1\nX-A: b\n  folded\nUser-Agent: x\nHOST: [::1]:80\n\n"),
            ascii("GET /" + "a".repeat(300) + " HTTP/1.0\r\nA: " + "b".repeat(400) + "\r\nB: c\r\n\r\n"),
            ascii("\r\n\nBREW /a/./b/%2e%2E/c?x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n"),
            ascii("GET /x HTTP/1.1\r\nHost: a.test\r\n folded\r\nX: y\r\n\r\n"),
        };
        assertProgressChangesNothingOnMutations(detector, samples, TCP, 19, 3000);
        assertProgressChangesNothingOnMutations(detector, samples, TCP_COMPLETE, 23, 1000);
        assertProgressChangesNothingOnMutations(detector, samples, DetectorChecks.TCP_LAST_CALL, 29, 1000);
    }
}
