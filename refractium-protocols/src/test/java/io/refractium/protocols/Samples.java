package io.refractium.protocols;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** First bytes of real and synthetic clients of each protocol, for the detector tests. */
public final class Samples {

    /** What curl sends. */
    public static final String CURL_REQUEST = "GET /index.html HTTP/1.1\r\n"
            + "Host: example.com\r\n"
            + "User-Agent: curl/8.5.0\r\n"
            + "Accept: */*\r\n"
            + "\r\n";

    /** What a browser sends, with the Host header after others, a port and a trailing dot. */
    public static final String BROWSER_REQUEST = "GET /search?q=refractium&lang=en HTTP/1.1\r\n"
            + "Connection: keep-alive\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0"
            + " Safari/537.36\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
            + "Accept-Encoding: gzip, deflate\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\n"
            + "host:   WWW.Example.ORG.:8080 \r\n"
            + "Cookie: session=0123456789abcdef\r\n"
            + "\r\n";

    /** A proxy request in absolute form: the target's host wins over the Host header. */
    public static final String ABSOLUTE_FORM_REQUEST = "GET http://user@Proxy.Test:8080/a/b?c=d HTTP/1.1\r\n"
            + "Host: other.test\r\n"
            + "\r\n";

    /** An HTTP/1.0 request without a Host header. */
    public static final String HTTP_1_0_REQUEST = "GET / HTTP/1.0\r\n"
            + "User-Agent: Wget/1.21\r\n"
            + "\r\n";

    /** The HTTP/2 connection preface followed by an empty SETTINGS frame. */
    public static final String HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            + "\u0000\u0000\u0000\u0004\u0000\u0000\u0000\u0000\u0000";

    /**
     * Returns what curl 7.88.1 sends first with {@code --http2-prior-knowledge} for
     * {@code http://h2c.example.test:8080/api/v1/items?limit=10}: the preface, SETTINGS, WINDOW_UPDATE and the
     * HEADERS of the GET (captured bytes, see {@code io/refractium/protocols/http2/README.md} in the test resources).
     */
    public static byte[] h2cCurlRequest() {
        try (java.io.InputStream in = Samples.class.getResourceAsStream("http2/curl-h2c-get.bin")) {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What OpenSSH sends. */
    public static final String OPENSSH_BANNER = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n";

    private static final int[] CHROME_CIPHER_SUITES = {
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
        0x002f, 0x0035,
    };

    /** The TLS group X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem) and the size of its client key share. */
    public static final int X25519_MLKEM768 = 0x11ec;
    public static final int X25519_MLKEM768_SHARE_LENGTH = 1216;

    private Samples() {
    }

    /** Returns the ASCII bytes of a string. */
    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Returns the bytes of a sample captured from a real client, stored as hex in {@code /samples/NAME.hex} (lines
     * starting with {@code #} say how it was captured).
     */
    public static byte[] captured(String name) {
        try (java.io.InputStream in = Samples.class.getResourceAsStream("/samples/" + name + ".hex")) {
            if (in == null) {
                throw new IllegalArgumentException("no sample " + name);
            }
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (!line.startsWith("#")) {
                    hex.append(line.strip());
                }
            }
            return java.util.HexFormat.of().parseHex(hex);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Returns the bytes of a hex string; spaces are ignored. */
    public static byte[] hex(String hex) {
        return java.util.HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    /** Returns the bytes of several arrays, one after the other. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- TLS

    /**
     * Returns the first handshake record the JDK's TLS client sends.
     *
     * @param serverName the SNI, or {@code null} for none
     * @param alpn the ALPN protocol names, none for no extension
     * @param protocols the enabled protocols, e.g. {@code "TLSv1.2"}; none for the defaults
     */
    public static byte[] jdkClientHello(String serverName, List<String> alpn, String... protocols) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, null, null);
            SSLEngine engine = context.createSSLEngine();
            engine.setUseClientMode(true);
            SSLParameters params = engine.getSSLParameters();
            if (serverName != null) {
                params.setServerNames(List.of(new SNIHostName(serverName)));
            }
            if (!alpn.isEmpty()) {
                params.setApplicationProtocols(alpn.toArray(new String[0]));
            }
            if (protocols.length > 0) {
                params.setProtocols(protocols);
            }
            engine.setSSLParameters(params);
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.beginHandshake();
            engine.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            byte[] bytes = new byte[out.remaining()];
            out.get(bytes);
            return bytes;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Returns a builder of ClientHello messages. */
    public static ClientHello clientHello() {
        return new ClientHello();
    }

    /**
     * A ClientHello like a current browser's with a post-quantum key share (X25519MLKEM768, 1216 bytes, and X25519),
     * SNI {@code a.test}, ALPN {@code h2} and {@code http/1.1}: about 1.8 KB.
     */
    public static ClientHello postQuantumClientHello() {
        Random random = new Random(7);
        byte[] mlkemShare = new byte[X25519_MLKEM768_SHARE_LENGTH];
        random.nextBytes(mlkemShare);
        byte[] x25519Share = new byte[32];
        random.nextBytes(x25519Share);
        byte[] echGrease = new byte[218];
        random.nextBytes(echGrease);
        echGrease[0] = 0; // outer client hello
        return clientHello()
                .cipherSuites(0x4a4a, CHROME_CIPHER_SUITES)
                .extension(0x3a3a, new byte[0])
                .sni("a.test")
                .extension(0x0017, new byte[0])
                .extension(0xff01, new byte[] {0})
                .extension(0x000a, u16List(0x5a5a, X25519_MLKEM768, 0x001d, 0x0017, 0x0018))
                .extension(0x000b, new byte[] {1, 0})
                .extension(0x0023, new byte[0])
                .alpn("h2", "http/1.1")
                .extension(0x0005, new byte[] {1, 0, 0, 0, 0})
                .extension(0x000d, u16List(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601))
                .extension(0x0012, new byte[0])
                .keyShare(new int[] {0x5a5a, X25519_MLKEM768, 0x001d},
                        new byte[][] {{0}, mlkemShare, x25519Share})
                .extension(0x002d, new byte[] {1, 1})
                .supportedVersions(0x6a6a, 0x0304, 0x0303)
                .extension(0x001b, new byte[] {2, 0, 2})
                .extension(0x44cd, new byte[] {0, 3, 2, 'h', '2'})
                .extension(0xfe0d, echGrease)
                .extension(0x8a8a, new byte[] {0});
    }

    /**
     * Splits a handshake message into records of at most {@code fragmentLength} bytes.
     *
     * @param handshake the handshake message, its 4-byte header included
     * @param fragmentLength the most bytes of the message per record
     */
    public static byte[] records(byte[] handshake, int fragmentLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < handshake.length; i += fragmentLength) {
            record(out, 0x0301, handshake, i, Math.min(fragmentLength, handshake.length - i));
        }
        return out.toByteArray();
    }

    /** Splits a handshake message into records of random lengths from 1 to {@code maxFragmentLength}. */
    public static byte[] randomRecords(byte[] handshake, Random random, int maxFragmentLength) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < handshake.length; ) {
            int n = Math.min(1 + random.nextInt(maxFragmentLength), handshake.length - i);
            record(out, 0x0301, handshake, i, n);
            i += n;
        }
        return out.toByteArray();
    }

    private static void record(ByteArrayOutputStream out, int version, byte[] data, int offset, int length) {
        out.write(22);
        out.write(version >>> 8);
        out.write(version);
        out.write(length >>> 8);
        out.write(length);
        out.write(data, offset, length);
    }

    private static byte[] u16List(int... values) {
        byte[] b = new byte[2 + 2 * values.length];
        b[0] = (byte) (2 * values.length >>> 8);
        b[1] = (byte) (2 * values.length);
        for (int i = 0; i < values.length; i++) {
            b[2 + 2 * i] = (byte) (values[i] >>> 8);
            b[3 + 2 * i] = (byte) values[i];
        }
        return b;
    }

    /** Builds a ClientHello handshake message, field by field; setters take raw values so tests can break them. */
    public static final class ClientHello {
        private int legacyVersion = 0x0303;
        private byte[] sessionId = new byte[32];
        private byte[] cipherSuites = u16List(0x1301, 0x1302, 0xc02f);
        private byte[] compressionMethods = {1, 0};
        private final List<byte[]> extensions = new ArrayList<>();
        private boolean withExtensions = true;
        private int extensionsLengthDelta;

        private ClientHello() {
            Arrays.fill(sessionId, (byte) 0x5e);
        }

        /** Sets the legacy_version. */
        public ClientHello legacyVersion(int version) {
            this.legacyVersion = version;
            return this;
        }

        /** Sets the session id. */
        public ClientHello sessionId(byte[] id) {
            this.sessionId = id.clone();
            return this;
        }

        /** Sets the cipher suites. */
        public ClientHello cipherSuites(int first, int... more) {
            int[] all = new int[1 + more.length];
            all[0] = first;
            System.arraycopy(more, 0, all, 1, more.length);
            this.cipherSuites = u16List(all);
            return this;
        }

        /** Sets the cipher suite list as raw bytes, its 2-byte length included. */
        public ClientHello rawCipherSuites(byte[] raw) {
            this.cipherSuites = raw.clone();
            return this;
        }

        /** Sets the compression method list as raw bytes, its 1-byte length included. */
        public ClientHello rawCompressionMethods(byte[] raw) {
            this.compressionMethods = raw.clone();
            return this;
        }

        /** Leaves the extensions block out, as TLS 1.0 clients may. */
        public ClientHello withoutExtensions() {
            this.withExtensions = false;
            return this;
        }

        /** Adds this to the extensions block's length, to make it inconsistent. */
        public ClientHello extensionsLengthDelta(int delta) {
            this.extensionsLengthDelta = delta;
            return this;
        }

        /** Adds an extension. */
        public ClientHello extension(int type, byte[] data) {
            byte[] e = new byte[4 + data.length];
            e[0] = (byte) (type >>> 8);
            e[1] = (byte) type;
            e[2] = (byte) (data.length >>> 8);
            e[3] = (byte) data.length;
            System.arraycopy(data, 0, e, 4, data.length);
            extensions.add(e);
            return this;
        }

        /** Adds an extension as raw bytes, type and length included. */
        public ClientHello rawExtension(byte[] raw) {
            extensions.add(raw.clone());
            return this;
        }

        /** Adds a server_name extension with one host_name. */
        public ClientHello sni(String hostName) {
            byte[] name = ascii(hostName);
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            d.write(name.length + 3 >>> 8);
            d.write(name.length + 3);
            d.write(0);
            d.write(name.length >>> 8);
            d.write(name.length);
            d.writeBytes(name);
            return extension(0, d.toByteArray());
        }

        /** Adds an ALPN extension. */
        public ClientHello alpn(String... protocols) {
            ByteArrayOutputStream list = new ByteArrayOutputStream();
            for (String p : protocols) {
                list.write(p.length());
                list.writeBytes(ascii(p));
            }
            byte[] l = list.toByteArray();
            return extension(16, concat(new byte[] {(byte) (l.length >>> 8), (byte) l.length}, l));
        }

        /** Adds a supported_versions extension. */
        public ClientHello supportedVersions(int... versions) {
            byte[] d = new byte[1 + 2 * versions.length];
            d[0] = (byte) (2 * versions.length);
            for (int i = 0; i < versions.length; i++) {
                d[1 + 2 * i] = (byte) (versions[i] >>> 8);
                d[2 + 2 * i] = (byte) versions[i];
            }
            return extension(43, d);
        }

        /** Adds a key_share extension with one share per group. */
        public ClientHello keyShare(int[] groups, byte[][] shares) {
            ByteArrayOutputStream list = new ByteArrayOutputStream();
            for (int i = 0; i < groups.length; i++) {
                list.write(groups[i] >>> 8);
                list.write(groups[i]);
                list.write(shares[i].length >>> 8);
                list.write(shares[i].length);
                list.writeBytes(shares[i]);
            }
            byte[] l = list.toByteArray();
            return extension(51, concat(new byte[] {(byte) (l.length >>> 8), (byte) l.length}, l));
        }

        /** Returns the handshake message, its 4-byte header included. */
        public byte[] handshake() {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(legacyVersion >>> 8);
            body.write(legacyVersion);
            for (int i = 0; i < 32; i++) {
                body.write(0x20 + i);
            }
            body.write(sessionId.length);
            body.writeBytes(sessionId);
            body.writeBytes(cipherSuites);
            body.writeBytes(compressionMethods);
            if (withExtensions) {
                byte[] e = concat(extensions.toArray(new byte[0][]));
                int length = e.length + extensionsLengthDelta;
                body.write(length >>> 8);
                body.write(length);
                body.writeBytes(e);
            }
            byte[] b = body.toByteArray();
            return concat(new byte[] {1, (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length}, b);
        }

        /** Returns the handshake message in one record. */
        public byte[] record() {
            return records(handshake(), 16384);
        }
    }

    // ---------------------------------------------------------------- DNS

    /**
     * Returns a DNS query message (RFC 1035 §4.1) with recursion desired.
     *
     * @param name the question name, e.g. {@code "example.com"}; {@code ""} for the root
     * @param type the question type, e.g. 1 for A
     * @param edns whether to add an EDNS OPT record (RFC 6891) with a 1232-byte payload size and a cookie option
     */
    public static byte[] dnsQuery(String name, int type, boolean edns) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xbe, (byte) 0xef, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, (byte) (edns ? 1 : 0)});
        out.writeBytes(dnsName(name));
        out.writeBytes(new byte[] {(byte) (type >>> 8), (byte) type, 0, 1});
        if (edns) {
            out.writeBytes(new byte[] {0, 0, 41, 0x04, (byte) 0xd0, 0, 0, 0, 0, 0, 12,
                0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
        }
        return out.toByteArray();
    }

    /** Returns a name in wire format: length-prefixed labels and the root label. */
    public static byte[] dnsName(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                out.write(label.length());
                out.writeBytes(ascii(label));
            }
        }
        out.write(0);
        return out.toByteArray();
    }

    /** Returns a DNS message behind its 2-byte TCP length prefix (RFC 1035 §4.2.2). */
    public static byte[] tcp(byte[] message) {
        return concat(new byte[] {(byte) (message.length >>> 8), (byte) message.length}, message);
    }

    // ---------------------------------------------------------------- Minecraft

    /**
     * Returns a Minecraft: Java Edition Handshake packet, built by hand from the protocol description (wiki.vg,
     * "Handshaking"): VarInt length, packet id 0, VarInt protocol version, VarInt-prefixed UTF-8 address, unsigned
     * short port, VarInt next state.
     */
    public static byte[] minecraftHandshake(int protocol, String address, int port, int nextState) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0);
        varInt(body, protocol);
        byte[] a = address.getBytes(StandardCharsets.UTF_8);
        varInt(body, a.length);
        body.writeBytes(a);
        body.write(port >>> 8);
        body.write(port);
        varInt(body, nextState);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varInt(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    /** Writes a VarInt: 7 bits a byte, least significant first, the high bit set on all but the last. */
    public static void varInt(ByteArrayOutputStream out, int value) {
        while ((value & ~0x7f) != 0) {
            out.write(value & 0x7f | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }

    /** What {@code dig +tcp ixfr=2024010101 example.com} (BIND 9.18) sends: an SOA in authority, an OPT record. */
    public static final byte[] DIG_IXFR = hex("0056c24d00000001000000010001076578616d706c6503636f6d0000fb0001c00c"
            + "00060001000000000016000078a3f1750000000000000000000000000000000000002904d000000000000c000a0008"
            + "d9548e31d04abca9");

    /** What {@code dig +tcp -y hmac-sha256:tsig-key.example:... example.com A} sends: OPT, then TSIG. */
    public static final byte[] DIG_TSIG = hex("008d4caf01200001000000000002076578616d706c6503636f6d000001000100002904d0"
            + "00000000000c000a00085296735505383b4308747369672d6b6579076578616d706c650000fa00ff00000000003d0b"
            + "686d61632d7368613235360000006b0f6219012c0020b94699f7c86b9710946e0d79d4f285744db82208bcc3d1b9f4bb8cb0f8b646594caf"
            + "00000000");

    /**
     * What {@code dig +header-only +cookie=0102030405060708} sends (over UDP; here behind a TCP length prefix): no
     * question, one OPT record with a client cookie (RFC 7873 §5.4).
     */
    public static final byte[] DIG_COOKIE = tcp(hex("0a420120000000000000000100002904d000000000000c000a0008"
            + "0102030405060708"));

    /** Returns a DNS header with the ID 0x1234 and the given flags and counts. */
    public static byte[] dnsHeader(int flags, int qd, int an, int ns, int ar) {
        return new byte[] {0x12, 0x34, (byte) (flags >>> 8), (byte) flags, (byte) (qd >>> 8), (byte) qd,
            (byte) (an >>> 8), (byte) an, (byte) (ns >>> 8), (byte) ns, (byte) (ar >>> 8), (byte) ar};
    }

    /** Returns a question: name, type, class. */
    public static byte[] dnsQuestion(String name, int type, int qclass) {
        return concat(dnsName(name), new byte[] {(byte) (type >>> 8), (byte) type, (byte) (qclass >>> 8),
            (byte) qclass});
    }

    /** A DSO Keepalive request (RFC 8490 §5.4, RFC 8490 §7.1): counts 0, one TLV of type 1 with two timeouts. */
    public static final byte[] DSO_KEEPALIVE = tcp(concat(dnsHeader(0x3000, 0, 0, 0, 0),
            new byte[] {0, 1, 0, 8, 0, 0, 0x3a, (byte) 0x98, 0, 0, 0x3a, (byte) 0x98}));

    /** A query with an OPT record and a SIG(0) (RFC 2931 §3): owner root, class ANY, TTL 0, ECDSA P-256. */
    public static byte[] sig0Query() {
        byte[] sigData = concat(new byte[] {0, 0, 13, 0, 0, 0, 0, 0, 0x66, 0, 0, 0, 0x65, 0, 0, 0, 0x30, 0x39},
                dnsName("key.example"), new byte[64]);
        return tcp(concat(dnsHeader(0x0100, 1, 0, 0, 2), dnsQuestion("example.com", 1, 1),
                new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 0},
                new byte[] {0, 0, 24, 0, (byte) 255, 0, 0, 0, 0, 0, (byte) sigData.length}, sigData));
    }
}
