package io.refractium.protocols.http;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
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

    private static ProtocolAttributes attributes(String method, String target, String version, String host) {
        int query = target.indexOf('?');
        String path = target.startsWith("/") ? (query >= 0 ? target.substring(0, query) : target) : null;
        return attributes(method, target, path, version, host);
    }

    private static ProtocolAttributes attributes(String method, String target, String path, String version,
                                                 String host) {
        return ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_METHOD, method)
                .put(AttributeKey.HTTP_PATH, path)
                .put(AttributeKey.HTTP_VERSION, version)
                .put(AttributeKey.HTTP_HOST, host)
                .put(AttributeKey.HTTP_TARGET, target)
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
    void curlRequestMatchesAtTheEndOfTheHeaders() {
        String request = Samples.CURL_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/index.html", "HTTP/1.1", "example.com"));
    }

    @Test
    void browserRequest() {
        String request = Samples.BROWSER_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(
                attributes("GET", "/search?q=refractium&lang=en", "HTTP/1.1", "www.example.org"));
        assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo("/search");
    }

    @Test
    void randomSplits() {
        String request = Samples.BROWSER_REQUEST;
        DetectionResult expected = DetectionResult.match(
                attributes("GET", "/search?q=refractium&lang=en", "HTTP/1.1", "www.example.org"));
        assertRandomSplits(detector, ascii(request), request.length(), expected, TCP, 3, 500);
    }

    @Test
    void absoluteFormTargetGivesTheHostAtTheEndOfTheRequestLine() {
        String request = Samples.ABSOLUTE_FORM_REQUEST;
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.indexOf('\n') + 1, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(
                attributes("GET", "http://user@Proxy.Test:8080/a/b?c=d", "/a/b", "HTTP/1.1", "proxy.test"));
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
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
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
        for (String value : new String[] {"", "  ", ":80", "[::1", "a\u0001b", "a.example/.b.example", "a_b.test",
            "a..b", ".a", "a b", "a.test:80x", "a.test:123456", "[::1]x", "[1:2]", "[fe80::1%25eth0]", "[v1.x]",
            "a%2eb", "caf\u00e9.test", "a.test@b.test", "[::1:2:3:4:5:6:7:8]", "x".repeat(64) + ".test"}) {
            DetectionResult r = detect(detector, ascii("GET / HTTP/1.1\r\nHost: " + value + "\r\n\r\n"));
            assertThat(r.status()).as(value).isEqualTo(Status.MATCH);
            assertThat(r.attributes().has(AttributeKey.HTTP_HOST)).as(value).isFalse();
        }
    }

    @Test
    void headerNamedLikeHostIsNotHost() {
        String request = "GET / HTTP/1.1\r\nX-Host: a.test\r\nHosts: b.test\r\nHost: c.test\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("c.test");
    }

    @Test
    void foldedLinesAreSkipped() {
        String request = "GET / HTTP/1.1\r\nX-Long: a\r\n Host: folded.test\r\nHost: real.test\r\n\r\n";
        assertThat(detect(detector, ascii(request)).attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("real.test");
    }

    @Test
    void whitespaceBeforeTheColonEndsTheSearchWithoutHost() {
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
        "BREW", "get", "X", "BASELINE-CONTROL", "!#$%&'*+-.^_`|~09azAZ",
    })
    void anyTokenIsAMethod(String method) {
        String target = method.equals("CONNECT") ? "a.test:443" : method.equals("OPTIONS") ? "*" : "/x";
        String request = method + " " + target + " HTTP/1.1\r\nHost: a.test\r\n\r\n";
        int decisive = method.equals("CONNECT") ? request.indexOf('\n') + 1 : request.length();
        DetectionResult r = assertDecidesAt(detector, ascii(request), decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(method, target, "HTTP/1.1", "a.test"));
    }

    @Test
    void methodsThatAreNoTokensFail() {
        assertDecidesAt(detector, ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 12, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GET\t/ HTTP/1.1\r\n"), 4, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("GE(T / HTTP/1.1\r\n"), 3, Status.NO_MATCH, TCP);
        String longest = "A".repeat(HttpDetector.MAX_METHOD_LENGTH) + " / HTTP/1.1\r\n\r\n";
        assertDecidesAt(detector, ascii(longest), longest.length(), Status.MATCH, TCP);
        assertDecidesAt(detector, ascii("A".repeat(HttpDetector.MAX_METHOD_LENGTH + 1) + " / HTTP/1.1\r\n"),
                HttpDetector.MAX_METHOD_LENGTH + 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("PING\r\n"), 5, Status.NO_MATCH, TCP);
    }

    @Test
    void firstByteThatBeginsNoMethodFails() {
        for (String first : new String[] {" ", "\t", "\u0016", "\u0000", "\u00ff", "(", "/", ":", "\"", "{"}) {
            assertThat(detect(detector, ascii(first)).status()).as("first byte %s", (int) first.charAt(0))
                    .isEqualTo(Status.NO_MATCH);
        }
        for (String first : new String[] {"G", "g", "X", "1", "~", "\r", "\n"}) {
            assertThat(detect(detector, ascii(first)).status()).as(first).isEqualTo(Status.NEED_MORE);
        }
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void emptyLinesBeforeTheRequestLineAreIgnored() {
        for (String empty : new String[] {"\r\n", "\n", "\r\n\n\r\n", "\r\n".repeat(HttpDetector.MAX_EMPTY_LINES)}) {
            String request = empty + Samples.CURL_REQUEST;
            DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
            assertThat(r.attributes()).isEqualTo(attributes("GET", "/index.html", "HTTP/1.1", "example.com"));
            assertRandomSplits(detector, ascii(request), request.length(), r, TCP, empty.length(), 100);
        }
        String connect = "\nCONNECT a.test:443 HTTP/1.1\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(connect), connect.indexOf("\r\n") + 2, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("CONNECT", "a.test:443", "HTTP/1.1", "a.test"));
        int tooMany = HttpDetector.MAX_EMPTY_LINES + 1;
        assertDecidesAt(detector, ascii("\n".repeat(tooMany) + Samples.CURL_REQUEST), tooMany, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("\r\r\n" + Samples.CURL_REQUEST), 2, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("\r\n \r\n" + Samples.CURL_REQUEST), 3, Status.NO_MATCH, TCP);
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

    @Test
    void twoHostHeadersGiveNoHost() {
        for (String request : new String[] {
            "GET / HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\nhost: b.test\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n",
            "GET / HTTP/1.1\nHOST: a.test\nHost: \n\n",
        }) {
            DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
            assertThat(r.attributes()).as(request).isEqualTo(attributes("GET", "/", "HTTP/1.1", null));
            assertRandomSplits(detector, ascii(request), request.length(), r, TCP, request.length(), 200);
        }
    }

    @Test
    void foldedHostGivesNoHost() {
        for (String request : new String[] {
            "GET / HTTP/1.1\r\nHost: a.test\r\n .b.test\r\nAccept: */*\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a.test\r\n\tb\r\n\r\n",
            "GET / HTTP/1.1\nX: y\nHost:\n a.test\n\n",
        }) {
            DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
            assertThat(r.attributes()).as(request).isEqualTo(attributes("GET", "/", "HTTP/1.1", null));
            assertRandomSplits(detector, ascii(request), request.length(), r, TCP, request.length() + 1, 200);
        }
        // a fold after another header leaves the Host alone
        String request = "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\r\n c\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("a.test");
    }

    @Test
    void whitespaceBeforeTheColonOfHostGivesNoHostEvenAfterAGoodOne() {
        String request = "GET / HTTP/1.1\r\nHost: a.test\r\nHost\t: b.test\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), throughLineOf(request, "Host\t:"), Status.MATCH,
                TCP);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/", "HTTP/1.1", null));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a-b.c-d.test|a-b.c-d.test",
        "xn--bcher-kva.example:443|xn--bcher-kva.example",
        "a.test:|a.test",
        "[::]|::",
        "[::ffff:192.0.2.1]:80|::ffff:192.0.2.1",
        "[1:2:3:4:5:6:7:8]|1:2:3:4:5:6:7:8",
        "[1::8]:65535|1::8",
        "192.0.2.1|192.0.2.1",
    })
    void validHosts(String value, String host) {
        String request = "GET / HTTP/1.1\r\nHost: " + value + "\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo(host);
    }

    @Test
    void invalidHostInTheTargetGivesNoHostAndIgnoresTheHeader() {
        String request = "GET http://a.example%2F.b.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.indexOf('\n') + 1, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(
                attributes("GET", "http://a.example%2F.b.example/x", "/x", "HTTP/1.1", null));
        String connect = "CONNECT a_b.test:443 HTTP/1.1\r\nHost: b.test\r\n\r\n";
        assertThat(assertDecidesAt(detector, ascii(connect), connect.indexOf('\n') + 1, Status.MATCH, TCP)
                .attributes().has(AttributeKey.HTTP_HOST)).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/|/",
        "/a/b/c|/a/b/c",
        "/a/./b/../c|/a/c",
        "/a/b/..|/a/",
        "/a/b/.|/a/b/",
        "/..|/",
        "/../../a|/a",
        "/a/../../b/|/b/",
        "/a//b/../c|/a//c",
        "/a//..|/a/",
        "/.hidden/..x/x..|/.hidden/..x/x..",
        "/%2e%2E/admin|/admin",
        "/public/%2e%2e/admin|/admin",
        "/public/.%2e/admin|/admin",
        "/a%2Fb/../c|/c",
        "/a/..%2F..%2Fadmin|/a/..%2F..%2Fadmin",
        "/a%2f..%2fb|/a%2F..%2Fb",
        "/%41%7a%30%2D%5f%7E%2E|/Az0-_~.",
        "/%20%25%3F%c3%a9|/%20%25%3F%C3%A9",
        "/a;b/..;/c|/a;b/..;/c",
        "/a?b/../c|/a",
        "/a/..?x|/",
        "/a#frag|/a",
        "/caf\u00e9|/caf\u00e9",
    })
    void pathIsNormalised(String target, String path) {
        String request = "GET " + target + " HTTP/1.1\r\nHost: a.test\r\n\r\n";
        DetectionResult r = assertDecidesAt(detector, ascii(request), request.length(), Status.MATCH, TCP);
        assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo(path);
        assertThat(r.attributes().get(AttributeKey.HTTP_TARGET)).isEqualTo(target);
    }

    @Test
    void pathOfOtherTargetForms() {
        for (String[] c : new String[][] {
            {"http://a.test", "/"},
            {"http://a.test?x", "/"},
            {"https://a.test:8443/b/./c/../%7Ed", "/b/~d"},
            {"*", null},
            {"a.test:80", null},
        }) {
            DetectionResult r = detect(detector, ascii("OPTIONS " + c[0] + " HTTP/1.1\r\n\r\n"));
            assertThat(r.status()).as(c[0]).isEqualTo(Status.MATCH);
            assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).as(c[0]).isEqualTo(c[1]);
            assertThat(r.attributes().get(AttributeKey.HTTP_TARGET)).as(c[0]).isEqualTo(c[0]);
        }
        assertThat(detect(detector, ascii("CONNECT a.test:443 HTTP/1.1\r\n\r\n")).attributes()
                .has(AttributeKey.HTTP_PATH)).isFalse();
    }

    @Test
    void badPercentEncodingGivesNoPath() {
        for (String target : new String[] {"/a%", "/a%2", "/a%2/b", "/%zz", "/a%g0"}) {
            DetectionResult r = detect(detector, ascii("GET " + target + " HTTP/1.1\r\nHost: a.test\r\n\r\n"));
            assertThat(r.status()).as(target).isEqualTo(Status.MATCH);
            assertThat(r.attributes()).as(target).isEqualTo(attributes("GET", target, null, "HTTP/1.1", "a.test"));
        }
    }

    @Test
    void lastCallMatchesOnceTheRequestLineIsComplete() {
        String request = "GET /a HTTP/1.1\r\nAccept: */*\r\nUser-Agent: x\r\n\r\n";
        int requestLine = request.indexOf('\n') + 1;
        // before the request line is complete: no match; after: a match without host, from any split
        for (int n = 1; n < request.length(); n++) {
            DetectionResult r = detect(detector, Arrays.copyOf(ascii(request), n), TCP_LAST_CALL);
            if (n < requestLine) {
                assertThat(r.status()).as("%d bytes", n).isEqualTo(Status.NO_MATCH);
            } else {
                assertThat(r.attributes()).as("%d bytes", n).isEqualTo(attributes("GET", "/a", "HTTP/1.1", null));
            }
        }
        // a Host seen before the header section is complete is not used: a second one may follow
        String withHost = "GET /a HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n";
        DetectionResult r = detect(detector, ascii(withHost), TCP_LAST_CALL);
        assertThat(r.attributes()).isEqualTo(attributes("GET", "/a", "HTTP/1.1", null));
        // a whole request on the last call keeps its host
        DetectionResult whole = detect(detector, ascii(Samples.CURL_REQUEST), TCP_LAST_CALL);
        assertThat(whole.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("example.com");
    }
}
