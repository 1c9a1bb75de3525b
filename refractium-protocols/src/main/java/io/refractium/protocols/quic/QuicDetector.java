package io.refractium.protocols.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.SocketAddress;
import java.security.GeneralSecurityException;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Detects a QUIC client (version 1, RFC 9000, or version 2, RFC 9369) by its first Initial packets, and reports the
 * server name and ALPN protocols of the TLS ClientHello they carry, without terminating the connection: a client's
 * Initial packets are protected with keys that anyone can derive from the packet itself (RFC 9001 §5.2).
 *
 * <p>The detector looks at the flow's first datagrams, as the engine offers them ({@link DetectionContext#datagrams()},
 * {@link DetectionContext#datagramEnd(int)}; a context that tells none is one datagram). First the checks that cost
 * nothing, on the first datagram, so that other protocols are rejected before any cryptography:
 * <ul>
 *   <li>the datagram holds at least {@value #MIN_DATAGRAM_LENGTH} bytes, as every datagram carrying a client's
 *       Initial must (RFC 9000 §14.1);</li>
 *   <li>it begins with a long header (RFC 9000 §17.2) of version 1 or 2 and the Initial packet type ({@code 0b00} in
 *       version 1, {@code 0b01} in version 2, RFC 9369 §3.2);</li>
 *   <li>a Destination Connection ID of 8 to 20 bytes (RFC 9000 §7.2), a Source Connection ID of at most 20, a token
 *       and a length that fit in the datagram.</li>
 * </ul>
 * Then it derives the client's Initial keys from the Destination Connection ID ({@code HKDF} with HMAC-SHA256 from
 * {@code javax.crypto}), removes the header protection (AES-ECB, RFC 9001 §5.4) and decrypts the payload (AES-128-GCM,
 * RFC 9001 §5.3). The first packet must decrypt and hold only PADDING, PING, ACK and CRYPTO frames (RFC 9000 §12.4);
 * otherwise the answer is {@link DetectionResult#noMatch() NO_MATCH}, never an exception.
 *
 * <p>The ClientHello may span several Initial packets, coalesced in one datagram or spread over several (a
 * post-quantum key share makes it larger than one packet), and its CRYPTO frames may come in any order. The detector
 * reads every Initial packet of the same version and Destination Connection ID in the offered datagrams (a later
 * datagram shorter than {@value #MIN_DATAGRAM_LENGTH} bytes, a packet that does not decrypt and the packets after a
 * different connection ID in a datagram are skipped, as a server would; other long-header packets such as 0-RTT are
 * stepped over) and reassembles the first {@value #MAX_CRYPTO_BYTES} bytes of the CRYPTO stream (at most
 * {@value #MAX_CRYPTO_FRAMES} frames; data beyond is ignored). Once the whole ClientHello is there it is parsed by
 * {@link TlsDetector}, with the same rules and attributes as a ClientHello over TCP. While bytes of the hello are
 * missing, a gap or its end, the answer is {@link DetectionResult#needMore() NEED_MORE}; on the
 * {@linkplain DetectionContext#isLastCall() last call} (or when the {@linkplain DetectionContext#isInputComplete()
 * input is complete}), and for a hello longer than {@value #MAX_CRYPTO_BYTES} bytes, the bytes from the start of the
 * stream to the first gap are parsed as {@link TlsDetector} parses a hello cut by the peek cap: it matches when the
 * cut falls in the extensions after the server name and ALPN.
 *
 * <p>Attributes of a match: those of {@link TlsDetector} ({@link AttributeKey#SNI}, {@link AttributeKey#ALPN},
 * {@link AttributeKey#TLS_VERSION}, {@link AttributeKey#TLS_ECH}, {@link AttributeKey#TLS_ECH_PUBLIC_NAME}), so a
 * route by SNI or ALPN reads the same for {@code quic} as for {@code tls}; and {@link #VERSION} and {@link #DCID}.
 *
 * <p>Work per call is bounded: at most {@value #MAX_DATAGRAMS} datagrams and {@value #MAX_BYTES} bytes are read, each
 * Initial packet is decrypted once per call, and a call on other protocols' bytes reads a few header bytes and
 * allocates nothing. Each call reads the offered datagrams from the first; no progress is saved.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters and never moves its indexes. The
 * {@code Mac} and {@code Cipher} instances and scratch arrays are kept per thread.
 */
public final class QuicDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "quic";

    /** The most bytes the detector reads, {@value}: the first datagrams of a flow. */
    public static final int MAX_BYTES = 64 * 1024;

    /** The shortest datagram that may carry a client's Initial packet, {@value} bytes (RFC 9000 §14.1). */
    public static final int MIN_DATAGRAM_LENGTH = 1200;

    /** How many bytes of the CRYPTO stream are reassembled, {@value}: enough for a post-quantum ClientHello. */
    public static final int MAX_CRYPTO_BYTES = 16 * 1024;

    /** The most CRYPTO frames kept per call, {@value}; later frames are ignored. */
    public static final int MAX_CRYPTO_FRAMES = 256;

    /** The most datagrams read per call, {@value}. */
    public static final int MAX_DATAGRAMS = 32;

    /** The QUIC version of the Initial packets: {@code "1"} (RFC 9000) or {@code "2"} (RFC 9369). */
    public static final AttributeKey<String> VERSION = AttributeKey.of("quic.version", String.class);

    /** The Destination Connection ID of the client's first Initial packet, in lower-case hex. */
    public static final AttributeKey<String> DCID = AttributeKey.of("quic.dcid", String.class);

    private static final Set<Transport> TRANSPORTS = Set.of(Transport.UDP);
    private static final TlsDetector TLS = new TlsDetector();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final int MIN_INITIAL_DCID_LENGTH = 8;
    private static final int MAX_CID_LENGTH = 20;
    private static final int TLS_RECORD_HEADER_LENGTH = 5;
    private static final int GCM_TAG_LENGTH = 16;
    private static final int SAMPLE_LENGTH = 16;
    private static final int HANDSHAKE_CLIENT_HELLO = 1;

    /** What {@link #header} finds at an offset. */
    private static final int MALFORMED = -1;
    private static final int OTHER = -2;

    /** Creates the detector. */
    public QuicDetector() {
    }

    /**
     * Returns {@value #ID}.
     *
     * @return the protocol id
     */
    @Override
    public String id() {
        return ID;
    }

    /**
     * Returns UDP.
     *
     * @return the transports the detector identifies
     */
    @Override
    public Set<Transport> transports() {
        return TRANSPORTS;
    }

    /**
     * Returns {@value #MAX_BYTES}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Decrypts the Initial packets in the offered datagrams and parses the ClientHello they carry.
     *
     * @param buf the flow's first datagrams, concatenated, from its reader index to its writer index; not modified
     * @param context where each datagram ends, and whether more will come
     * @return {@code MATCH} with the ClientHello's attributes, {@code NEED_MORE} while parts of the hello are
     *         missing, {@code NO_MATCH} when the first datagram is not a client's Initial
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int count = context.datagrams();
        int firstEnd = count > 0 ? start + context.datagramEnd(0) : end;
        if (firstEnd > end || firstEnd - start < MIN_DATAGRAM_LENGTH) {
            return DetectionResult.noMatch();
        }
        int b0 = buf.getUnsignedByte(start);
        if ((b0 & 0x80) == 0) {
            return DetectionResult.noMatch();
        }
        int version = buf.getInt(start + 1);
        if (version != InitialKeys.VERSION_1 && version != InitialKeys.VERSION_2) {
            return DetectionResult.noMatch();
        }
        int dcidLength = buf.getUnsignedByte(start + 5);
        if ((b0 >>> 4 & 3) != initialType(version) || dcidLength < MIN_INITIAL_DCID_LENGTH
                || dcidLength > MAX_CID_LENGTH) {
            return DetectionResult.noMatch();
        }
        Flight flight = new Flight(buf, version, start + 6, dcidLength);
        if (flight.header(start, firstEnd) < 0) {
            return DetectionResult.noMatch();
        }
        // The first packet passed every check that costs nothing: now the keys.
        Scratch s = SCRATCH.get();
        flight.begin(s);
        int datagrams = Math.min(Math.max(count, 1), MAX_DATAGRAMS);
        int datagramStart = start;
        for (int d = 0; d < datagrams; d++) {
            int datagramEnd = count > 0 ? start + context.datagramEnd(d) : end;
            if (datagramEnd <= datagramStart || datagramEnd > end || datagramEnd - start > MAX_BYTES) {
                break;
            }
            if (d == 0 || datagramEnd - datagramStart >= MIN_DATAGRAM_LENGTH) {
                for (int p = datagramStart; p < datagramEnd; ) {
                    int packetEnd = flight.header(p, datagramEnd);
                    if (packetEnd < 0) {
                        // a short header, another connection or version, garbage: the rest of the datagram
                        break;
                    }
                    if (flight.type == initialType(version) && !flight.decrypt(s, p, packetEnd) && p == start) {
                        return DetectionResult.noMatch();
                    }
                    p = packetEnd;
                }
            }
            datagramStart = datagramEnd;
        }
        return flight.decide(s, context);
    }

    private static int initialType(int version) {
        return version == InitialKeys.VERSION_2 ? 1 : 0;
    }

    /** Reads a variable-length integer (RFC 9000 §16) at {@code q}; -1 when it does not fit before {@code limit}. */
    private static long varint(ByteBuf buf, int q, int limit) {
        if (q >= limit) {
            return -1;
        }
        int first = buf.getUnsignedByte(q);
        int length = 1 << (first >>> 6);
        if (q + length > limit) {
            return -1;
        }
        long v = first & 0x3f;
        for (int i = 1; i < length; i++) {
            v = v << 8 | buf.getUnsignedByte(q + i);
        }
        return v;
    }

    private static int varintLength(int firstByte) {
        return 1 << (firstByte >>> 6);
    }

    /** The Initial packets of one call: their version and connection ID, their keys, the CRYPTO frames found. */
    private static final class Flight {
        private final ByteBuf buf;
        private final int version;
        private final int dcid;
        private final int dcidLength;
        private InitialKeys keys;
        /** What {@link #header} found: the packet type and where the packet number starts. */
        int type;
        int pnOffset;
        private int frames;
        private boolean decrypted;

        Flight(ByteBuf buf, int version, int dcid, int dcidLength) {
            this.buf = buf;
            this.version = version;
            this.dcid = dcid;
            this.dcidLength = dcidLength;
        }

        /**
         * Parses a long header at {@code p} (RFC 9000 §17.2) of this flight's version and connection ID, and sets
         * {@link #type} and {@link #pnOffset}.
         *
         * @return where the packet ends, {@link #MALFORMED}, or {@link #OTHER} for a short header, another version
         *         or another connection ID
         */
        int header(int p, int limit) {
            int b0 = buf.getUnsignedByte(p);
            if ((b0 & 0x80) == 0 || p + 7 > limit) {
                return (b0 & 0x80) == 0 ? OTHER : MALFORMED;
            }
            if (buf.getInt(p + 1) != version) {
                return OTHER;
            }
            int q = p + 5;
            int length = buf.getUnsignedByte(q);
            if (length != dcidLength || q + 1 + length >= limit) {
                return OTHER;
            }
            if (p != dcid - 6 && !ByteBufUtil.equals(buf, dcid, buf, q + 1, length)) {
                return OTHER;
            }
            q += 1 + length;
            length = buf.getUnsignedByte(q);
            if (length > MAX_CID_LENGTH) {
                return MALFORMED;
            }
            q += 1 + length;
            type = b0 >>> 4 & 3;
            if (type == initialType(version)) {
                long token = varint(buf, q, limit);
                if (token < 0 || token > limit - q) {
                    return MALFORMED;
                }
                q += varintLength(buf.getUnsignedByte(q)) + (int) token;
            } else if (type == (version == InitialKeys.VERSION_2 ? 0 : 3)) {
                // Retry: only a server sends it
                return MALFORMED;
            }
            long length2 = varint(buf, q, limit);
            if (length2 < 0) {
                return MALFORMED;
            }
            q += varintLength(buf.getUnsignedByte(q));
            // a packet number of at least one byte, and room for the sample: 4 bytes after its start, 16 long
            if (length2 > limit - q || length2 < 4 + SAMPLE_LENGTH) {
                return MALFORMED;
            }
            pnOffset = q;
            return q + (int) length2;
        }

        void begin(Scratch s) {
            byte[] id = new byte[dcidLength];
            buf.getBytes(dcid, id);
            keys = InitialKeys.client(version, id, 0, dcidLength, s.mac);
        }

        /**
         * Removes the header protection of the Initial packet at {@code p}, decrypts its payload and records its
         * CRYPTO frames.
         *
         * @return whether it decrypted and held only frames allowed in an Initial packet
         */
        boolean decrypt(Scratch s, int p, int packetEnd) {
            int length = packetEnd - p;
            byte[] packet = s.packet(length);
            buf.getBytes(p, packet, 0, length);
            int pn = pnOffset - p;
            byte[] mask;
            try {
                s.ecb.init(Cipher.ENCRYPT_MODE, keys.hp);
                mask = s.ecb.doFinal(packet, pn + 4, SAMPLE_LENGTH);
            } catch (GeneralSecurityException e) {
                return false;
            }
            int first = (packet[0] ^ mask[0] & 0x0f) & 0xff;
            if ((first & 0x0c) != 0) {
                // the reserved bits are zero (RFC 9000 §17.2)
                return false;
            }
            packet[0] = (byte) first;
            int pnLength = (first & 3) + 1;
            byte[] nonce = s.nonce;
            System.arraycopy(keys.iv, 0, nonce, 0, nonce.length);
            for (int i = 0; i < pnLength; i++) {
                packet[pn + i] ^= mask[1 + i];
                nonce[nonce.length - pnLength + i] ^= packet[pn + i];
            }
            int header = pn + pnLength;
            int payload = length - header - GCM_TAG_LENGTH;
            if (payload <= 0) {
                return false;
            }
            byte[] plain = s.plain(payload);
            try {
                s.gcm.init(Cipher.DECRYPT_MODE, keys.key, new GCMParameterSpec(128, nonce));
                s.gcm.updateAAD(packet, 0, header);
                if (s.gcm.doFinal(packet, header, length - header, plain, 0) != payload) {
                    return false;
                }
            } catch (GeneralSecurityException | IllegalStateException e) {
                return false;
            }
            if (!frames(s, plain, payload)) {
                return false;
            }
            decrypted = true;
            return true;
        }

        /**
         * Walks the frames of a decrypted Initial payload: PADDING, PING, ACK (with or without ECN counts) and
         * CRYPTO, the frames a client's Initial packet may hold besides CONNECTION_CLOSE (RFC 9000 §12.4), which
         * ends the connection and so does not match.
         */
        private boolean frames(Scratch s, byte[] plain, int n) {
            int saved = frames;
            int i = 0;
            while (i < n) {
                int t = plain[i] & 0xff;
                if (t == 0x00 || t == 0x01) {
                    i++;
                    continue;
                }
                if (t == 0x02 || t == 0x03) {
                    i++;
                    // largest acknowledged, ack delay, range count, first range
                    long ranges = 0;
                    for (int f = 0; f < 4 && i >= 0; f++) {
                        if (f == 2) {
                            ranges = varint(plain, i, n);
                        }
                        i = skipVarint(plain, i, n);
                    }
                    for (long r = 0; r < 2 * ranges + (t == 0x03 ? 3 : 0) && i >= 0; r++) {
                        i = skipVarint(plain, i, n);
                    }
                    if (i < 0 || ranges < 0 || ranges > n) {
                        frames = saved;
                        return false;
                    }
                    continue;
                }
                if (t != 0x06) {
                    frames = saved;
                    return false;
                }
                i++;
                long offset = varint(plain, i, n);
                i = skipVarint(plain, i, n);
                long length = varint(plain, i, n);
                i = skipVarint(plain, i, n);
                if (i < 0 || offset < 0 || length < 0 || length > n - i) {
                    frames = saved;
                    return false;
                }
                if (offset < MAX_CRYPTO_BYTES && length > 0 && frames < MAX_CRYPTO_FRAMES) {
                    int from = (int) offset;
                    int to = (int) Math.min(offset + length, MAX_CRYPTO_BYTES);
                    System.arraycopy(plain, i, s.stream, TLS_RECORD_HEADER_LENGTH + from, to - from);
                    s.rangeStart[frames] = from;
                    s.rangeEnd[frames] = to;
                    frames++;
                }
                i += (int) length;
            }
            return true;
        }

        /** Decides on what the CRYPTO frames gave. */
        DetectionResult decide(Scratch s, DetectionContext context) {
            if (!decrypted) {
                return DetectionResult.noMatch();
            }
            boolean last = context.isLastCall() || context.isInputComplete();
            int contiguous = s.contiguous(frames);
            byte[] stream = s.stream;
            int h = TLS_RECORD_HEADER_LENGTH;
            if (contiguous >= 1 && stream[h] != HANDSHAKE_CLIENT_HELLO) {
                return DetectionResult.noMatch();
            }
            if (contiguous < 4) {
                return last ? DetectionResult.noMatch() : DetectionResult.needMore();
            }
            int helloLength = 4 + ((stream[h + 1] & 0xff) << 16 | (stream[h + 2] & 0xff) << 8 | stream[h + 3] & 0xff);
            int wanted = Math.min(helloLength, MAX_CRYPTO_BYTES);
            if (contiguous < wanted && !last) {
                return DetectionResult.needMore();
            }
            int available = Math.min(contiguous, wanted);
            // The hello as the TLS detector reads it: one handshake record, cut where the stream is cut.
            stream[0] = 22;
            stream[1] = 3;
            stream[2] = 1;
            stream[3] = (byte) (wanted >>> 8);
            stream[4] = (byte) wanted;
            ByteBuf record = Unpooled.wrappedBuffer(stream, 0, h + available);
            DetectionResult tls;
            try {
                tls = TLS.detect(record, new HelloContext(context, available < helloLength));
            } finally {
                record.release();
            }
            if (!tls.isMatch()) {
                return DetectionResult.noMatch();
            }
            ProtocolAttributes a = tls.attributes();
            byte[] id = new byte[dcidLength];
            buf.getBytes(dcid, id);
            return DetectionResult.match(ProtocolAttributes.builder()
                    .put(AttributeKey.SNI, a.get(AttributeKey.SNI))
                    .put(AttributeKey.ALPN, a.get(AttributeKey.ALPN))
                    .put(AttributeKey.TLS_VERSION, a.get(AttributeKey.TLS_VERSION))
                    .put(AttributeKey.TLS_ECH, a.get(AttributeKey.TLS_ECH))
                    .put(AttributeKey.TLS_ECH_PUBLIC_NAME, a.get(AttributeKey.TLS_ECH_PUBLIC_NAME))
                    .put(VERSION, version == InitialKeys.VERSION_2 ? "2" : "1")
                    .put(DCID, ByteBufUtil.hexDump(id))
                    .build());
        }
    }

    /** Reads a variable-length integer at {@code i} of a decrypted payload; -1 when it does not fit before {@code n}. */
    private static long varint(byte[] b, int i, int n) {
        if (i < 0 || i >= n) {
            return -1;
        }
        int length = varintLength(b[i] & 0xff);
        if (i + length > n) {
            return -1;
        }
        long v = b[i] & 0x3f;
        for (int k = 1; k < length; k++) {
            v = v << 8 | b[i + k] & 0xff;
        }
        return v;
    }

    /** Returns the offset after the variable-length integer at {@code i}, or -1 when it does not fit. */
    private static int skipVarint(byte[] b, int i, int n) {
        if (i < 0 || i >= n) {
            return -1;
        }
        int next = i + varintLength(b[i] & 0xff);
        return next > n ? -1 : next;
    }

    /** The context the ClientHello is parsed with: its cut, if any, is final. */
    private static final class HelloContext implements DetectionContext {
        private final DetectionContext flow;
        private final boolean cut;

        HelloContext(DetectionContext flow, boolean cut) {
            this.flow = flow;
            this.cut = cut;
        }

        @Override
        public Transport transport() {
            return Transport.UDP;
        }

        @Override
        public SocketAddress remoteAddress() {
            return flow.remoteAddress();
        }

        @Override
        public SocketAddress localAddress() {
            return flow.localAddress();
        }

        @Override
        public boolean isInputComplete() {
            return cut;
        }

        @Override
        public boolean isLastCall() {
            return cut;
        }
    }

    /** Per-thread instances and buffers: the JCA objects are costly to create and not thread-safe. */
    private static final class Scratch {
        final Mac mac = InitialKeys.newMac();
        final Cipher ecb = cipher("AES/ECB/NoPadding");
        final Cipher gcm = cipher("AES/GCM/NoPadding");
        final byte[] nonce = new byte[12];
        /** A TLS record header, then the CRYPTO stream. */
        final byte[] stream = new byte[TLS_RECORD_HEADER_LENGTH + MAX_CRYPTO_BYTES];
        final int[] rangeStart = new int[MAX_CRYPTO_FRAMES];
        final int[] rangeEnd = new int[MAX_CRYPTO_FRAMES];
        private byte[] packet = new byte[2048];
        private byte[] plain = new byte[2048];

        byte[] packet(int length) {
            if (packet.length < length) {
                packet = new byte[length];
            }
            return packet;
        }

        byte[] plain(int length) {
            if (plain.length < length) {
                plain = new byte[length];
            }
            return plain;
        }

        /** Returns how many bytes from the start of the CRYPTO stream the first {@code n} ranges cover without a gap. */
        int contiguous(int n) {
            // insertion sort by start: frames mostly come in order, and there are few
            for (int i = 1; i < n; i++) {
                int s = rangeStart[i];
                int e = rangeEnd[i];
                int j = i - 1;
                while (j >= 0 && rangeStart[j] > s) {
                    rangeStart[j + 1] = rangeStart[j];
                    rangeEnd[j + 1] = rangeEnd[j];
                    j--;
                }
                rangeStart[j + 1] = s;
                rangeEnd[j + 1] = e;
            }
            int reach = 0;
            for (int i = 0; i < n && rangeStart[i] <= reach; i++) {
                reach = Math.max(reach, rangeEnd[i]);
            }
            return reach;
        }

        private static Cipher cipher(String transformation) {
            try {
                return Cipher.getInstance(transformation);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(transformation, e);
            }
        }
    }
}
