package io.refractium.protocols.http;

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
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDetectorTest {

    private final HttpDetector detector = new HttpDetector();

    private static ProtocolAttributes attributes(String method, String path, String version, String host) {
        return ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_METHOD, method)
                .put(AttributeKey.HTTP_PATH, path)
                .put(AttributeKey.HTTP_VERSION, version)
                .put(AttributeKey.HTTP_HOST, host)
                .build();
    }

    /** Returns the length of the request up to and including the line that holds {@code text}. */
    private static int throughLineOf(String request, String text) {
        return request.indexOf('\n', request.indexOf(text)) + 1;
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("http");
        assertThat(detector.maxBytes()).isEqualTo(16 * 1024);
        assertThat(detector.priority()).isZero();
    }

    @Test
    void curlRequestMatchesAtTheEndOfTheHostLine() {
        String request = Samples.CURL_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "Host:"), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/index.html", "HTTP/1.1", "example.com"));
    }

    @Test
    void browserRequest() {
        String request = Samples.BROWSER_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "host:"), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(
                attributes("GET", "/search?q=refractium&lang=en", "HTTP/1.1", "www.example.org"));
    }

    @Test
    void randomSplits() {
        String request = Samples.BROWSER_REQUEST;
        DetectionResult expected = DetectionResult.match(
                attributes("GET", "/search?q=refractium&lang=en", "HTTP/1.1", "www.example.org"));
        assertRandomSplits(detector, ascii(request), throughLineOf(request, "host:"), expected, TCP, 3, 500);
    }

    @Test
    void absoluteFormTargetGivesTheHostAtTheEndOfTheRequestLine() {
        String request = Samples.ABSOLUTE_FORM_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.indexOf('\n') + 1, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(
                attributes("GET", "http://user@Proxy.Test:8080/a/b?c=d", "HTTP/1.1", "proxy.test"));
    }

    @Test
    void connectTargetGivesTheHost() {
        String request = "CONNECT Example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.indexOf('\n') + 1, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("CONNECT", "Example.com:443", "HTTP/1.1", "example.com"));
        DetectionResult v6 = detect(detector, ascii("CONNECT [2001:DB8::1]:443 HTTP/1.1\r\n"));
        assertThat(v6.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("2001:db8::1");
    }

    @Test
    void http10WithoutHostMatchesAtTheEndOfTheHeaders() {
        String request = Samples.HTTP_1_0_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/", "HTTP/1.0", null));
    }

    @Test
    void bareLineFeeds() {
        String request = "POST /api HTTP/1.1\nContent-Length: 0\nHOST: api.test\n\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "HOST"), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("POST", "/api", "HTTP/1.1", "api.test"));
        String noHeaders = "GET / HTTP/1.0\n\n";
        assertDecidesAt(detector, ascii(noHeaders), noHeaders.length(), Status.MATCH, TCP);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "example.com|example.com",
        "EXAMPLE.com:8080|example.com",
        "example.com.|example.com",
        "'\texample.com \t'|example.com",
        "[::1]:8443|::1",
        "[2001:DB8::1]|2001:db8::1",
        "127.0.0.1:80|127.0.0.1",
    })
    void hostHeaderIsNormalized(String value, String host) {
        DetectionResult r = detect(detector, ascii("GET / HTTP/1.1\r\nHost:" + value + "\r\n\r\n"));
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo(host);
    }

    @Test
    void emptyOrInvalidHostIsLeftOut() {
        for (String value : new String[] {"", "  ", ":80", "[::1", "a\u0001b"}) {
            DetectionResult r = detect(detector, ascii("GET / HTTP/1.1\r\nHost: " + value + "\r\n"));
            assertThat(r.status()).as(value).isEqualTo(Status.MATCH);
            assertThat(r.attributes().has(AttributeKey.HTTP_HOST)).as(value).isFalse();
        }
    }

    @Test
    void headerNamedLikeHostIsNotHost() {
        String request = "GET / HTTP/1.1\r\nX-Host: a.test\r\nHosts: b.test\r\nHost: c.test\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "Host: c"), Status.MATCH,
                TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("c.test");
    }

    @Test
    void foldedLinesAreSkipped() {
        String request = "GET / HTTP/1.1\r\nX-Long: a\r\n Host: folded.test\r\nHost: real.test\r\n\r\n";
        assertThat(detect(detector, ascii(request)).attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("real.test");
    }

    @Test
    void malformedHeaderLineEndsTheSearch() {
        String request = "GET / HTTP/1.1\r\nHost : a.test\r\nHost: b.test\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "Host :"), Status.MATCH,
                TCP);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/", "HTTP/1.1", null));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "MKCALENDAR", "ACL",
        "PURGE", "LINK", "UNLINK", "QUERY", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
    })
    void everyMethod(String method) {
        String target = method.equals("CONNECT") ? "a.test:443" : method.equals("OPTIONS") ? "*" : "/x";
        String request = method + " " + target + " HTTP/1.1\r\nHost: a.test\r\n\r\n";
        int decisive = method.equals("CONNECT") ? request.indexOf('\n') + 1 : throughLineOf(request, "Host:");
        DetectionResult r = assertDecidesAt(detector, ascii(request), decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(method, target, "HTTP/1.1", "a.test"));
    }

    @Test
    void unknownMethodsFailWhereTheyLeaveEveryKnownMethod() {
        assertDecidesAt(detector, ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 3, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GETS / HTTP/1.1\r\n"), 4, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GE / HTTP/1.1\r\n"), 3, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("MKCALENDARS / HTTP/1.1\r\n"), 11, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("BREW /pot HTTP/1.1\r\n"), 1, Status.NO_MATCH, TCP);
    }

    @Test
    void firstByteThatBeginsNoMethodFails() {
        for (String first : new String[] {"g", "X", "\r", "\n", " ", "\u0016", "\u0000", "\u00ff", "Z", "1"}) {
            assertThat(detect(detector, ascii(first)).status()).as("first byte %s", (int) first.charAt(0))
                    .isEqualTo(Status.NO_MATCH);
        }
        for (String first : new String[] {"G", "H", "P", "D", "C", "O", "T", "M", "L", "U", "R", "S", "A", "Q", "N"}) {
            assertThat(detect(detector, ascii(first)).status()).as(first).isEqualTo(Status.NEED_MORE);
        }
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void badRequestLines() {
        assertDecidesAt(detector, ascii("GET  / HTTP/1.1\r\n"), 5, Status.NO_MATCH, TCP);        // empty target
        assertDecidesAt(detector, ascii("GET /a\tb HTTP/1.1\r\n"), 7, Status.NO_MATCH, TCP);     // control byte
        assertDecidesAt(detector, ascii("GET / HTTP/2.0\r\n"), 12, Status.NO_MATCH, TCP);        // version
        assertDecidesAt(detector, ascii("GET / HTTP/1.2\r\n"), 14, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GET / http/1.1\r\n"), 7, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GET / HTTP/1.1 \r\n"), 15, Status.NO_MATCH, TCP);       // trailing space
        assertDecidesAt(detector, ascii("GET / HTTP/1.1\rX"), 16, Status.NO_MATCH, TCP);         // CR without LF
        assertDecidesAt(detector, ascii("GET %2F HTTP/1.1\r\n"), 5, Status.NO_MATCH, TCP);       // not a target start
    }

    @Test
    void headersLongerThanMaxBytesMatchWithoutHost() {
        StringBuilder sb = new StringBuilder("GET /big HTTP/1.1\r\n");
        while (sb.length() < HttpDetector.MAX_BYTES + 100) {
            sb.append("X-Filler: ").append("f".repeat(100)).append("\r\n");
        }
        sb.append("Host: late.test\r\n\r\n");
        byte[] request = ascii(sb.toString());
        for (int n = 1; n < HttpDetector.MAX_BYTES; n += 97) {
            assertThat(detect(detector, Arrays.copyOf(request, n)).status()).as("%d bytes", n)
                    .isEqualTo(Status.NEED_MORE);
        }
        assertThat(detect(detector, Arrays.copyOf(request, HttpDetector.MAX_BYTES - 1)).status())
                .isEqualTo(Status.NEED_MORE);
        for (int n : new int[] {HttpDetector.MAX_BYTES, HttpDetector.MAX_BYTES + 1, request.length}) {
            DetectionResult r = detect(detector, Arrays.copyOf(request, n));
            assertThat(r.attributes()).as("%d bytes", n).isEqualTo(attributes("GET", "/big", "HTTP/1.1", null));
        }
    }

    @Test
    void requestLineLongerThanMaxBytesFails() {
        byte[] request = ascii("GET /" + "a".repeat(HttpDetector.MAX_BYTES) + " HTTP/1.1\r\n\r\n");
        assertThat(detect(detector, Arrays.copyOf(request, HttpDetector.MAX_BYTES - 1)).status())
                .isEqualTo(Status.NEED_MORE);
        assertThat(detect(detector, Arrays.copyOf(request, HttpDetector.MAX_BYTES)).status())
                .isEqualTo(Status.NO_MATCH);
    }

    @Test
    void completeInputMatchesOnceTheRequestLineIsComplete() {
        assertThat(detect(detector, ascii("GET / HTTP/1.1\r\nAccept: */*\r\n"), TCP).status())
                .isEqualTo(Status.NEED_MORE);
        DetectionResult r = detect(detector, ascii("GET / HTTP/1.1\r\nAccept: */*\r\n"), TCP_COMPLETE);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/", "HTTP/1.1", null));
        assertThat(detect(detector, ascii("GET / HTTP/1.1\r"), TCP_COMPLETE).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void sameAnswerOnEveryBuffer() {
        DetectionResult r = assertSameOnEveryBuffer(detector, ascii(Samples.CURL_REQUEST), TCP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
    }
}
