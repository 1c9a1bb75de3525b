package io.refractium.bench.detect;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * Realistic first bytes of clients of each protocol, built in memory (no network): a ClientHello with a
 * post-quantum key share like current browsers send, a browser's HTTP request, an OpenSSH banner and a DNS query;
 * and the worst shapes a hostile client can give them (a ClientHello with a thousand server names, 16 KiB of HTTP
 * headers, a 64 KiB DNS query).
 *
 * <p>The unit tests have their own builders; benchmarks cannot depend on test code.
 */
public final class Samples {

    /** The TLS group X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem). */
    public static final int X25519_MLKEM768 = 0x11ec;

    /** The length of an X25519MLKEM768 client key share: 1184 bytes of ML-KEM-768 key and 32 of X25519. */
    public static final int X25519_MLKEM768_SHARE_LENGTH = 1216;

    /** A browser's request, Host among the first headers as Chrome sends it. */
    public static final String BROWSER_REQUEST = "GET /search?q=refractium&lang=en HTTP/1.1\r\n"
            + "Host: www.example.org\r\n"
            + "Connection: keep-alive\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0"
            + " Safari/537.36\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
            + "Accept-Encoding: gzip, deflate\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\n"
            + "Cookie: session=0123456789abcdef\r\n"
            + "\r\n";

    /** The HTTP/2 connection preface (RFC 9113 §3.4). */
    public static final String HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    /** The HTTP/2 connection preface and an empty SETTINGS frame: a client that has not sent a request yet. */
    public static final String HTTP2_PREFACE_AND_SETTINGS = HTTP2_PREFACE
            + "\u0000\u0000\u0000\u0004\u0000\u0000\u0000\u0000\u0000";

    /**
     * What curl 7.88.1 (nghttp2 1.52.0) sends first for
     * {@code curl --http2-prior-knowledge http://h2c.example.test:8080/api/v1/items?limit=10}: the preface,
     * SETTINGS, WINDOW_UPDATE and the HEADERS of the GET, Huffman-coded (captured bytes, hex).
     */
    private static final String H2C_CURL_GET = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000300000064000402000000000200"
            + "00000000000408000000000001ff00010000340105000000018204906075998ee160c92d28ff2835264c010786418f9c"
            + "445cbe474d7415749509b8f01e077a8825b650c3abbcf2e153032a2f2a";

    /**
     * What the same curl sends first for a gRPC-like POST ({@code -H 'content-type: application/grpc'
     * -H 'te: trailers' --data-binary @/dev/null http://grpc.example.test/helloworld.Greeter/SayHello}), an empty
     * DATA frame last.
     */
    private static final String H2C_CURL_GRPC = "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000012040000000000000300000064000402000000000200"
            + "00000000000408000000000001ff00010000520104000000018304956272d141fc1eca245f15852a4b631b87eb1968a0"
            + "ff86418c9acac8b97c8e9ae82ae92a137a8825b650c3abbcf2e153032a2f2a5f8b1d75d0620d263d4c4d656440027465"
            + "864d833505b11f0f0d0130000000000100000001";

    /** What OpenSSH sends first. */
    public static final String OPENSSH_BANNER = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n";

    private Samples() {
    }

    /**
     * Returns the bytes of a string, one byte per character.
     *
     * @param s the string
     * @return its bytes
     */
    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Returns curl's h2c GET: preface, SETTINGS, WINDOW_UPDATE and a Huffman-coded HEADERS frame (125 bytes).
     *
     * @return the bytes
     */
    public static byte[] h2cCurlGet() {
        return hex(H2C_CURL_GET);
    }

    /**
     * Returns curl's h2c gRPC-like POST: preface, SETTINGS, WINDOW_UPDATE, HEADERS and an empty DATA frame.
     *
     * @return the bytes
     */
    public static byte[] h2cCurlGrpc() {
        return hex(H2C_CURL_GRPC);
    }

    private static byte[] hex(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(hex, 2 * i, 2 * i + 2, 16);
        }
        return b;
    }

    /**
     * Returns a ClientHello handshake message (RFC 8446 §4.1.2), header included, shaped like a current browser's:
     * GREASE values, SNI {@code a.test}, ALPN {@code h2} and {@code http/1.1}, key shares for X25519MLKEM768
     * (1216 bytes) and X25519, and an ECH GREASE extension; about 1.8 KB.
     *
     * @return the handshake message
     */
    public static byte[] postQuantumClientHello() {
        return clientHello(true, "a.test");
    }

    /**
     * Returns the same post-quantum ClientHello with another SNI.
     *
     * @param serverName the host name of the {@code server_name} extension
     * @return the handshake message
     */
    public static byte[] postQuantumClientHello(String serverName) {
        return clientHello(true, serverName);
    }

    /**
     * Returns the same ClientHello without the post-quantum key share (X25519 only), as browsers sent it before
     * ML-KEM: about 600 bytes.
     *
     * @return the handshake message
     */
    public static byte[] x25519ClientHello() {
        return clientHello(false, "a.test");
    }

    /**
     * Returns a ClientHello whose server_name extension (RFC 6066 §3) holds 999 entries of other name types (one
     * byte each) before the {@code host_name} {@code a.test}, with ALPN {@code h2} and TLS 1.3: about 4 KB, the
     * shape a hostile client sends to make a parser work.
     *
     * @return the handshake message
     */
    public static byte[] thousandServerNamesClientHello() {
        ByteArrayOutputStream names = new ByteArrayOutputStream();
        for (int i = 0; i < 999; i++) {
            names.writeBytes(new byte[] {(byte) (1 + i % 255), 0, 1, 'x'});
        }
        byte[] host = ascii("a.test");
        names.writeBytes(concat(new byte[] {0}, u16(host.length), host));
        byte[] list = names.toByteArray();
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        extension(ext, 0x0000, concat(u16(list.length), list));
        byte[] alpn = concat(new byte[] {2}, ascii("h2"));
        extension(ext, 0x0010, concat(u16(alpn.length), alpn));
        extension(ext, 0x002b, new byte[] {2, 3, 4});
        byte[] extensions = ext.toByteArray();
        byte[] body = concat(new byte[] {3, 3}, new byte[32], new byte[] {0}, u16List(0x1301, 0x1302),
                new byte[] {1, 0}, u16(extensions.length), extensions);
        return concat(new byte[] {1, (byte) (body.length >>> 16)}, u16(body.length), body);
    }

    /**
     * Returns a request whose header section holds about 16 KiB of header lines before its {@code Host} header, just
     * below the HTTP detector's cap: the most a client can make it search.
     *
     * @return the request
     */
    public static byte[] sixteenKibHeaderRequest() {
        StringBuilder request = new StringBuilder("GET /index.html HTTP/1.1\r\n");
        for (int i = 0; request.length() < 16_000; i++) {
            request.append(String.format("X-Padding-%03d: %064d\r\n", i, i));
        }
        return ascii(request.append("Host: late.test\r\n\r\n").toString());
    }

    /**
     * Returns a DNS query for {@code example.com} over TCP whose EDNS OPT record fills the longest message (64 KiB)
     * with empty options, 4 bytes each.
     *
     * @return the length prefix and the message
     */
    public static byte[] longestDnsQueryOverTcp() {
        int length = (65535 - 12 - 17 - 11) / 4 * 4;
        byte[] message = concat(
                new byte[] {(byte) 0xbe, (byte) 0xef, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1},
                new byte[] {7}, ascii("example"), new byte[] {3}, ascii("com"), new byte[] {0},
                new byte[] {0, 1, 0, 1},
                new byte[] {0, 0, 41, 0x04, (byte) 0xd0, 0, 0, 0, 0}, u16(length), new byte[length]);
        return concat(u16(message.length), message);
    }

    private static byte[] clientHello(boolean postQuantum, String serverName) {
        Random random = new Random(7);
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        extension(ext, 0x3a3a, new byte[0]);
        byte[] name = ascii(serverName);
        extension(ext, 0x0000, concat(u16(name.length + 3), new byte[] {0}, u16(name.length), name));
        extension(ext, 0x0017, new byte[0]);
        extension(ext, 0xff01, new byte[] {0});
        extension(ext, 0x000a, postQuantum
                ? u16List(0x5a5a, X25519_MLKEM768, 0x001d, 0x0017, 0x0018)
                : u16List(0x5a5a, 0x001d, 0x0017, 0x0018));
        extension(ext, 0x000b, new byte[] {1, 0});
        extension(ext, 0x0023, new byte[0]);
        byte[] alpn = concat(new byte[] {2}, ascii("h2"), new byte[] {8}, ascii("http/1.1"));
        extension(ext, 0x0010, concat(u16(alpn.length), alpn));
        extension(ext, 0x0005, new byte[] {1, 0, 0, 0, 0});
        extension(ext, 0x000d, u16List(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601));
        extension(ext, 0x0012, new byte[0]);
        byte[] mlkem = new byte[X25519_MLKEM768_SHARE_LENGTH];
        random.nextBytes(mlkem);
        byte[] x25519 = new byte[32];
        random.nextBytes(x25519);
        byte[] shares = postQuantum
                ? concat(u16(0x5a5a), u16(1), new byte[] {0},
                        u16(X25519_MLKEM768), u16(mlkem.length), mlkem,
                        u16(0x001d), u16(x25519.length), x25519)
                : concat(u16(0x5a5a), u16(1), new byte[] {0}, u16(0x001d), u16(x25519.length), x25519);
        extension(ext, 0x0033, concat(u16(shares.length), shares));
        extension(ext, 0x002d, new byte[] {1, 1});
        extension(ext, 0x002b, new byte[] {6, 0x6a, 0x6a, 3, 4, 3, 3});
        extension(ext, 0x001b, new byte[] {2, 0, 2});
        extension(ext, 0x44cd, new byte[] {0, 3, 2, 'h', '2'});
        byte[] ech = new byte[218];
        random.nextBytes(ech);
        ech[0] = 0;
        extension(ext, 0xfe0d, ech);
        extension(ext, 0x8a8a, new byte[] {0});
        byte[] extensions = ext.toByteArray();

        byte[] randomBytes = new byte[32];
        random.nextBytes(randomBytes);
        byte[] sessionId = new byte[32];
        random.nextBytes(sessionId);
        byte[] body = concat(new byte[] {3, 3}, randomBytes, new byte[] {32}, sessionId,
                u16List(0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                        0xc014, 0x009c, 0x009d, 0x002f, 0x0035),
                new byte[] {1, 0}, u16(extensions.length), extensions);
        return concat(new byte[] {1, (byte) (body.length >>> 16)}, u16(body.length), body);
    }

    /**
     * Wraps a handshake message in TLS handshake records (RFC 8446 §5.1) of at most {@code fragmentLength} bytes.
     *
     * @param handshake the handshake message
     * @param fragmentLength the most bytes of the message per record, at most 16384
     * @return the records
     */
    public static byte[] records(byte[] handshake, int fragmentLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < handshake.length; i += fragmentLength) {
            int n = Math.min(fragmentLength, handshake.length - i);
            out.write(22);
            out.write(3);
            out.write(1);
            out.writeBytes(u16(n));
            out.write(handshake, i, n);
        }
        return out.toByteArray();
    }

    /**
     * Returns a DNS query for {@code example.com} type A with an EDNS OPT record, behind its TCP length prefix
     * (RFC 1035 §4.2.2, RFC 6891).
     *
     * @return the length prefix and the message
     */
    public static byte[] dnsQueryOverTcp() {
        byte[] message = concat(
                new byte[] {(byte) 0xbe, (byte) 0xef, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1},
                new byte[] {7}, ascii("example"), new byte[] {3}, ascii("com"), new byte[] {0},
                new byte[] {0, 1, 0, 1},
                new byte[] {0, 0, 41, 0x04, (byte) 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
        return concat(u16(message.length), message);
    }

    private static void extension(ByteArrayOutputStream out, int type, byte[] data) {
        out.writeBytes(u16(type));
        out.writeBytes(u16(data.length));
        out.writeBytes(data);
    }

    private static byte[] u16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    private static byte[] u16List(int... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(u16(2 * values.length));
        for (int v : values) {
            out.writeBytes(u16(v));
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
