package io.refractium.protocols.http2;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.http2.H2.CONTINUATION;
import static io.refractium.protocols.http2.H2.END_HEADERS;
import static io.refractium.protocols.http2.H2.END_STREAM;
import static io.refractium.protocols.http2.H2.HEADERS;
import static io.refractium.protocols.http2.H2.PADDED;
import static io.refractium.protocols.http2.H2.PRIORITY_FLAG;
import static io.refractium.protocols.http2.H2.frame;
import static io.refractium.protocols.http2.H2.hex;
import static io.refractium.protocols.http2.H2.hpack;
import static io.refractium.protocols.http2.H2.start;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.Transport;
import java.net.SocketAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Http2DetectorTest {

    /** A TCP connection on its last call: the deadline passed. */
    static final DetectionContext LAST = new DetectionContext() {
        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        @Override
        public SocketAddress remoteAddress() {
            return TCP.remoteAddress();
        }

        @Override
        public SocketAddress localAddress() {
            return TCP.localAddress();
        }

        @Override
        public boolean isInputComplete() {
            return false;
        }

        @Override
        public boolean isLastCall() {
            return true;
        }
    };

    private static final ProtocolAttributes HTTP2_ONLY =
            ProtocolAttributes.builder().put(AttributeKey.HTTP_VERSION, "HTTP/2.0").build();

    private final Http2Detector detector = new Http2Detector();

    private static ProtocolAttributes request(String method, String path, String host) {
        return ProtocolAttributes.builder().put(AttributeKey.HTTP_VERSION, "HTTP/2.0")
                .put(AttributeKey.HTTP_METHOD, method).put(AttributeKey.HTTP_PATH, path)
                .put(AttributeKey.HTTP_HOST, host).build();
    }

    /** The preface, SETTINGS, WINDOW_UPDATE and a HEADERS frame on stream 1 carrying the block. */
    private static byte[] withBlock(byte[] block) {
        return concat(start(), frame(HEADERS, END_HEADERS | END_STREAM, 1, block));
    }

    private DetectionResult whole(byte[] bytes) {
        return assertSameOnEveryBuffer(detector, bytes, TCP);
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("http2");
        assertThat(detector.maxBytes()).isEqualTo(32 * 1024);
        assertThat(Http2Detector.GRPC.name()).isEqualTo("http2.grpc");
    }

    @Test
    void failsOnTheFirstByteThatDiffersFromThePreface() {
        byte[] request = H2.nettyRequest(true, H2.get("a.test", "/"), 0, false);
        for (int i = 0; i < 24; i++) {
            byte[] wrong = request.clone();
            wrong[i] ^= 0x20;
            assertDecidesAt(detector, wrong, i + 1, Status.NO_MATCH, TCP);
        }
        assertThat(detect(detector, Samples.ascii("GET / HTTP/1.1\r\n")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, Samples.ascii("PRI * HTTP/1.1\r\n")).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
        // a preface cut by the last call is not enough
        assertThat(detect(detector, Arrays.copyOf(request, 23), LAST).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect(detector, Arrays.copyOf(request, 23), TCP_COMPLETE).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void anIdleClientMatchesWithoutAttributesOnTheLastCall() {
        byte[] idle = concat(H2.preface(), H2.settings());
        for (int n = 0; n <= idle.length; n++) {
            assertThat(detect(detector, Arrays.copyOf(idle, n)).status()).as("%d bytes", n)
                    .isEqualTo(Status.NEED_MORE);
        }
        for (DetectionContext last : new DetectionContext[] {LAST, TCP_COMPLETE}) {
            for (int n = 24; n <= idle.length; n++) {
                DetectionResult r = detect(detector, Arrays.copyOf(idle, n), last);
                assertThat(r.status()).isEqualTo(Status.MATCH);
                assertThat(r.attributes()).isEqualTo(HTTP2_ONLY);
            }
        }
        // the old sample: preface and empty SETTINGS
        assertThat(detect(detector, Samples.ascii(Samples.HTTP2_PREFACE), LAST).attributes()).isEqualTo(HTTP2_ONLY);
    }

    @ParameterizedTest(name = "huffman={0} padding={1} priority={2}")
    @CsvSource({"true, 0, false", "false, 0, false", "true, 17, false", "false, 200, true", "true, 0, true"})
    void nettyClientRequest(boolean huffman, int padding, boolean priority) {
        byte[] request = H2.nettyRequest(huffman, H2.get("Api.Example.TEST:8443", "/v1/items?id=7"), padding,
                priority);
        DetectionResult r = assertDecidesAt(detector, request, request.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(request("GET", "/v1/items?id=7", "api.example.test"));
        assertRandomSplits(detector, request, request.length, r, TCP, huffman ? 7 : 8, 200);
    }

    @Test
    void nettyClientLargeHeadersInHeadersAndContinuation() {
        Http2Headers headers = H2.get("big.test", "/upload").method("POST").add("cookie", "c".repeat(20_000));
        byte[] request = H2.netty(false, (writer, ctx) ->
                writer.writeHeaders(ctx, 1, headers, 0, false, ctx.newPromise()));
        // Netty splits the 20 KB block at its 16 KiB frame size: HEADERS without END_HEADERS, then CONTINUATION
        assertThat(request).hasSizeGreaterThan(20_000);
        int headersFrame = 24 + 9 + 18 + 9 + 4;
        assertThat(request[headersFrame + 3]).isEqualTo((byte) HEADERS);
        assertThat(request[headersFrame + 4] & END_HEADERS).isZero();
        assertThat(request[headersFrame + 9 + 16_384 + 3]).isEqualTo((byte) CONTINUATION);
        DetectionResult r = whole(request);
        assertThat(r.attributes()).isEqualTo(request("POST", "/upload", "big.test"));
        assertRandomSplits(detector, request, request.length, r, TCP, 3, 10);
        // cut inside the CONTINUATION, on the last call: the fields before the cut
        assertThat(detect(detector, Arrays.copyOf(request, request.length - 100), LAST).attributes())
                .isEqualTo(r.attributes());
    }

    @Test
    void headerBlockSplitIntoContinuationsAnywhere() {
        byte[] block = hpack(H2.get("split.test", "/a/b"), true);
        ProtocolAttributes expected = request("GET", "/a/b", "split.test");
        for (int cut1 = 0; cut1 <= block.length; cut1++) {
            int cut2 = Math.min(block.length, cut1 + 3);
            byte[] first = concat(new byte[] {5}, new byte[] {0, 0, 0, 0, 15}, Arrays.copyOf(block, cut1),
                    new byte[5]);
            byte[] bytes = concat(start(),
                    frame(HEADERS, PADDED | PRIORITY_FLAG, 1, first),
                    frame(CONTINUATION, 0, 1, Arrays.copyOfRange(block, cut1, cut2)),
                    frame(CONTINUATION, END_HEADERS, 1, Arrays.copyOfRange(block, cut2, block.length)));
            DetectionResult r = assertDecidesAt(detector, bytes, bytes.length, Status.MATCH, TCP);
            assertThat(r.attributes()).as("cut at %d", cut1).isEqualTo(expected);
        }
    }

    @Test
    void curlPriorKnowledgeGet() {
        byte[] bytes = H2.resource("curl-h2c-get.bin");
        DetectionResult r = assertDecidesAt(detector, bytes, bytes.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(request("GET", "/api/v1/items?limit=10", "h2c.example.test"));
        assertRandomSplits(detector, bytes, bytes.length, r, TCP, 11, 300);
    }

    @Test
    void curlGrpcPost() {
        byte[] bytes = H2.resource("curl-h2c-grpc.bin");
        int headersEnd = bytes.length - 9; // an empty DATA frame follows the HEADERS
        DetectionResult r = assertDecidesAt(detector, bytes, headersEnd, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_VERSION, "HTTP/2.0").put(AttributeKey.HTTP_METHOD, "POST")
                .put(AttributeKey.HTTP_PATH, "/helloworld.Greeter/SayHello")
                .put(AttributeKey.HTTP_HOST, "grpc.example.test").put(Http2Detector.GRPC, true).build());
        assertRandomSplits(detector, bytes, headersEnd, r, TCP, 13, 300);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "application/grpc, true", "application/grpc+proto, true", "application/grpc;charset=utf-8, true",
        "application/grpc-web, false", "application/json, false", "application/grp, false"})
    void grpcContentType(String contentType, boolean grpc) {
        Http2Headers headers = H2.get("g.test", "/svc/M").method("POST").add("content-type", contentType);
        for (boolean huffman : new boolean[] {true, false}) {
            DetectionResult r = whole(withBlock(hpack(headers, huffman)));
            assertThat(r.attributes().has(Http2Detector.GRPC)).isEqualTo(grpc);
            assertThat(r.attributes().get(AttributeKey.HTTP_HOST)).isEqualTo("g.test");
        }
    }

    @Test
    void neverIndexedFieldsAndHostFallback() {
        Http2Headers headers = new DefaultHttp2Headers(false, false, 8).method("DELETE").scheme("http").path("/x")
                .add("authorization", "secret").add("host", " Host.Test. ");
        byte[] block = hpack(headers, false, (name, value) -> true);
        assertThat(block[0] & 0xf0).as("never indexed").isEqualTo(0x10);
        assertThat(whole(withBlock(block)).attributes()).isEqualTo(request("DELETE", "/x", "host.test"));
        // :authority wins over host, wherever it comes
        Http2Headers both = new DefaultHttp2Headers().method("GET").path("/").add("host", "host.test")
                .authority("authority.test");
        assertThat(whole(withBlock(hpack(both, true))).attributes().get(AttributeKey.HTTP_HOST))
                .isEqualTo("authority.test");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "User@Example.COM.:8443 | example.com",
        "[::1]:8080 | ::1",
        "[2001:DB8::1] | 2001:db8::1",
        "a.test | a.test",
        "127.0.0.1:80 | 127.0.0.1"})
    void authorityIsNormalizedAsHttp1Host(String authority, String host) {
        assertThat(whole(withBlock(hpack(H2.get(authority, "/"), true))).attributes().get(AttributeKey.HTTP_HOST))
                .isEqualTo(host);
    }

    @Test
    void emptyOrBinaryAuthorityGivesNoHost() {
        for (String authority : new String[] {":8080", "[::1", "a b.test", "\u00e9.test"}) {
            DetectionResult r = whole(withBlock(hpack(H2.get(authority, "/p"), false)));
            assertThat(r.attributes().has(AttributeKey.HTTP_HOST)).as(authority).isFalse();
            assertThat(r.attributes().get(AttributeKey.HTTP_PATH)).isEqualTo("/p");
        }
    }

    @Test
    void rfc7541ExamplesWithTheDynamicTable() {
        // RFC 7541 C.3.1 to C.3.3 (raw strings) and C.4.1 to C.4.3 (Huffman), each three requests on one connection:
        // as one block, the later requests index the entries the first one added
        byte[] c3 = hex("828684410f7777772e6578616d706c652e636f6d" + "828684be58086e6f2d6361636865"
                + "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565");
        byte[] c4 = hex("828684418cf1e3c2e5f23a6ba0ab90f4ff" + "828684be5886a8eb10649cbf"
                + "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf");
        ProtocolAttributes expected = request("GET", "/", "www.example.com");
        assertThat(whole(withBlock(c3)).attributes()).isEqualTo(expected);
        assertThat(whole(withBlock(c4)).attributes()).isEqualTo(expected);
        // the second request alone indexes entries it never added: malformed
        assertThat(whole(withBlock(hex("828684be58086e6f2d6361636865"))).attributes()).isEqualTo(HTTP2_ONLY);
    }

    @Test
    void dynamicTableEntriesAreEvictedExactly() {
        // :authority a.test (10 + 6 + 32 = 48 bytes) added, then x: yyyyyyyy (1 + 8 + 32 = 41 bytes) added
        String authority = "41" + "06" + "612e74657374";
        String x = "40" + "0178" + "08" + "7979797979797979";
        String path = "44" + "022f70"; // :path /p, name from the static table, added
        // index 64 is :authority when the table holds all three entries
        assertThat(whole(withBlock(hex(authority + x + path + "c0"))).attributes())
                .isEqualTo(request(null, "/p", "a.test"));
        // a table of 96 bytes keeps only the last two entries: index 64 is past the table
        assertThat(whole(withBlock(hex("3f41" + authority + x + path + "c0"))).attributes()).isEqualTo(HTTP2_ONLY);
        // a table of 89 bytes and no more: the first two fit, the third evicts the first
        assertThat(whole(withBlock(hex("3f3a" + authority + x + "bf" + "be"))).attributes())
                .isEqualTo(request(null, null, "a.test"));
        assertThat(whole(withBlock(hex("3f3a" + authority + x + path + "bf" + "c0"))).attributes())
                .isEqualTo(HTTP2_ONLY);
        // a name from the dynamic table: :path with another value
        assertThat(whole(withBlock(hex(path + "7e" + "022f71"))).attributes()).isEqualTo(request(null, "/p", null));
        // an entry larger than the whole table empties it and is not added
        assertThat(whole(withBlock(hex("3f10" + authority + "be"))).attributes()).isEqualTo(HTTP2_ONLY);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "index 0, 80",
        "index past the static table, 82bf",
        "huge index, 82ffffffffff0f",
        "size update after a field, 8220",
        "size update above 4096, 3fe21f",
        "string past the block, 8241" + "10612e74657374",
        "huffman padding of zeros, 41" + "8cf1e3c2e5f23a6ba0ab90f400",
        "huffman padding of 8 bits, 41" + "8df1e3c2e5f23a6ba0ab90f4ffff",
        "huffman EOS, 41" + "84ffffffff",
        "integer cut at the end, 827f",
    })
    void malformedBlocksMatchWithoutAttributes(String what, String block) {
        assertThat(whole(withBlock(hex(block))).attributes()).as(what).isEqualTo(HTTP2_ONLY);
    }

    @Test
    void sizeUpdatesAtTheStartAreAllowed() {
        byte[] block = concat(hex("203fe11f"), hpack(H2.get("s.test", "/"), true));
        assertThat(whole(withBlock(block)).attributes()).isEqualTo(request("GET", "/", "s.test"));
    }

    @Test
    void aBlockCutByTheLastCallGivesTheFieldsBeforeTheCut() {
        byte[] block = hpack(H2.get("cut.test", "/c"), true);
        byte[] bytes = withBlock(block);
        int blockStart = bytes.length - block.length;
        // :method :scheme :authority :path come first (Netty writes pseudo-headers first)
        int afterPath = -1;
        for (int n = blockStart; n < bytes.length; n++) {
            DetectionResult r = detect(detector, Arrays.copyOf(bytes, n), LAST);
            assertThat(r.status()).isEqualTo(Status.MATCH);
            assertThat(detect(detector, Arrays.copyOf(bytes, n), TCP_COMPLETE).attributes()).isEqualTo(r.attributes());
            if (afterPath < 0 && r.attributes().equals(request("GET", "/c", "cut.test"))) {
                afterPath = n;
            }
        }
        assertThat(afterPath).isBetween(blockStart + 1, bytes.length - 1);
        // the frame header cut: nothing of the block
        assertThat(detect(detector, Arrays.copyOf(bytes, blockStart - 3), LAST).attributes()).isEqualTo(HTTP2_ONLY);
    }

    @Test
    void framesBeforeTheHeadersAreSkipped() {
        byte[] block = hpack(H2.get("skip.test", "/"), true);
        byte[] bytes = concat(H2.preface(), H2.settings(),
                frame(H2.WINDOW_UPDATE, 0, 0, new byte[] {0, 1, 0, 0}),
                frame(H2.PING, 0, 0, new byte[8]),
                frame(H2.PRIORITY, 0, 3, new byte[] {0, 0, 0, 0, 7}),
                frame(0x10, 0, 0, new byte[] {0, 0, 0, 1, 'u', '=', '0'}), // PRIORITY_UPDATE (RFC 9218)
                frame(0xfa, 0xff, 0, new byte[300]), // an unknown type
                frame(H2.SETTINGS, 1, 0, new byte[0]), // an ACK, harmless
                frame(HEADERS, END_HEADERS, 1, block));
        DetectionResult r = assertDecidesAt(detector, bytes, bytes.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(request("GET", "/", "skip.test"));
    }

    @Test
    void framesThatBreakTheRulesMatchWithoutAttributes() {
        byte[] block = hpack(H2.get("r.test", "/"), true);
        byte[] headers = frame(HEADERS, END_HEADERS, 1, block);
        byte[][] broken = {
            concat(H2.preface(), frame(H2.PING, 0, 0, new byte[8]), H2.settings(), headers), // not SETTINGS first
            concat(H2.preface(), frame(H2.SETTINGS, 0, 0, new byte[5]), headers), // not a multiple of 6
            concat(H2.preface(), frame(H2.SETTINGS, 0, 1, new byte[0]), headers), // on a stream
            concat(start(), frame(HEADERS, END_HEADERS, 2, block)), // an even stream
            concat(start(), frame(HEADERS, END_HEADERS, 0, block)), // stream 0
            concat(start(), frame(H2.GOAWAY, 0, 0, new byte[8]), headers),
            concat(start(), frame(0, 1, 1, new byte[3]), headers), // DATA first
            concat(start(), frame(CONTINUATION, END_HEADERS, 1, block)),
            concat(start(), frame(HEADERS, 0, 1, block), frame(CONTINUATION, END_HEADERS, 3, new byte[0])),
            concat(start(), frame(HEADERS, 0, 1, block), frame(H2.PING, 0, 0, new byte[8])),
            concat(start(), frame(HEADERS, PADDED | END_HEADERS, 1, concat(new byte[] {(byte) block.length}, block))),
            concat(start(), new byte[] {0, 0x40, 1, HEADERS, END_HEADERS, 0, 0, 0, 1}), // 16 KiB + 1
        };
        for (int i = 0; i < broken.length; i++) {
            DetectionResult r = whole(broken[i]);
            assertThat(r.attributes()).as("sample %d", i).isEqualTo(HTTP2_ONLY);
        }
    }

    @Test
    void pathHoldsAnyOctet() {
        StringBuilder path = new StringBuilder("/");
        for (int c = 0; c < 256; c++) {
            path.append((char) c);
        }
        for (boolean huffman : new boolean[] {true, false}) {
            Http2Headers headers = new DefaultHttp2Headers(false, false, 8).method("GET").authority("o.test").path(path.toString());
            assertThat(whole(withBlock(hpack(headers, huffman))).attributes().get(AttributeKey.HTTP_PATH))
                    .isEqualTo(path.toString());
        }
    }

    @Test
    void aHeadersFrameLongerThanTheCap() {
        // 16 KiB of cookie split in frames, then the pseudo-header fields: the cap comes first
        byte[] cookie = hpack(new DefaultHttp2Headers().add("cookie", "k".repeat(16_350)), false);
        byte[] rest = hpack(H2.get("late.test", "/"), false);
        byte[] bytes = concat(start(), frame(HEADERS, 0, 1, cookie), frame(CONTINUATION, 0, 1, cookie),
                frame(CONTINUATION, END_HEADERS, 1, rest));
        assertThat(bytes.length).isGreaterThan(Http2Detector.MAX_BYTES);
        DetectionResult r = DetectorChecks.assertDecidesAt(detector, Arrays.copyOf(bytes, Http2Detector.MAX_BYTES + 9),
                Http2Detector.MAX_BYTES, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(HTTP2_ONLY);
    }

    @Test
    void randomBytesAfterThePrefaceOrInTheBlockNeverThrow() {
        java.util.Random random = new java.util.Random(0x4832);
        for (int i = 0; i < 20_000; i++) {
            byte[] tail = new byte[random.nextInt(200)];
            random.nextBytes(tail);
            byte[] bytes = i % 2 == 0 ? concat(H2.preface(), tail) : withBlock(tail);
            DetectionResult r = detect(detector, bytes, i % 3 == 0 ? LAST : TCP);
            assertThat(r.status()).isNotEqualTo(Status.NO_MATCH);
            if (i % 2 == 1) {
                assertThat(r.status()).isEqualTo(Status.MATCH);
            }
        }
    }

    @Test
    void prefaceOnlyMatchesAtTheEndOfThePreface() {
        Http2Detector prefaceOnly = Http2Detector.prefaceOnly();
        assertThat(prefaceOnly.id()).isEqualTo("http2");
        assertThat(prefaceOnly.maxBytes()).isEqualTo(24);
        byte[] request = H2.resource("curl-h2c-get.bin");
        DetectionResult r = assertDecidesAt(prefaceOnly, request, 24, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(HTTP2_ONLY);
        assertDecidesAt(prefaceOnly, Samples.ascii("PRI * HTTP/1.1\r\n"), 12, Status.NO_MATCH, TCP);
    }
}
