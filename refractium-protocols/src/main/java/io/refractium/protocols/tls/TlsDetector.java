package io.refractium.protocols.tls;

import static io.refractium.protocols.tls.HandshakeCursor.RECORD_HEADER_LENGTH;
import static io.refractium.protocols.tls.HandshakeCursor.seek;
import static io.refractium.protocols.tls.HandshakeCursor.u16;
import static io.refractium.protocols.tls.HandshakeCursor.u32;
import static io.refractium.protocols.tls.HandshakeCursor.u8;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Detects TLS by parsing the client's whole ClientHello, and reports the server name, the ALPN protocols and the
 * highest TLS version the client offers.
 *
 * <p>The ClientHello handshake message (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) may span several handshake records
 * (RFC 8446 §5.1), as large post-quantum hellos do, and may arrive one byte at a time. The detector walks the record
 * headers and parses the message in place, mapping offsets in the message to offsets in the buffer (a comparison
 * per read when one record holds the whole message, the usual case): it never copies the message and allocates
 * nothing until it matches. It checks strictly, so other protocols and random bytes never match:
 * <ul>
 *   <li>every record: content type 22 (handshake), version {@code 0x0300} to {@code 0x0304}, length 1 to 16384;
 *       the records end exactly where the ClientHello ends;</li>
 *   <li>the message: handshake type 1 (client_hello), a length of at least 41 and at most
 *       {@value #MAX_HANDSHAKE_LENGTH} bytes with its header, a legacy version {@code 0x0300} to {@code 0x0304}, a
 *       session id of at most 32 bytes, an even, non-empty cipher suite list, a compression method list that holds
 *       the null method;</li>
 *   <li>the extensions block, when present, ends exactly at the end of the message and each extension fits in it;
 *       {@code server_name} (RFC 6066 §3), {@code application_layer_protocol_negotiation} (RFC 7301 §3.1) and
 *       {@code supported_versions} (RFC 8446 §4.2.1) appear at most once and are well-formed.</li>
 * </ul>
 * It answers {@link DetectionResult#noMatch() NO_MATCH} as soon as a byte breaks one of these rules,
 * {@link DetectionResult#needMore() NEED_MORE} while the bytes are a valid prefix, and
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} on the last byte of the ClientHello. The SSL 2.0
 * compatible hello is not recognized.
 *
 * <p>Attributes of a match:
 * <ul>
 *   <li>{@link AttributeKey#SNI}: the {@code host_name} of the {@code server_name} extension, lower-case, without a
 *       trailing dot; absent when the client sent none, or when it is not a valid host name: dot-separated labels of
 *       1 to 63 letters, digits and hyphens, at most 253 bytes in all (no IP literals, RFC 6066 §3; no underscore,
 *       slash or other byte), so {@code a.example/.b.example} never matches a {@code *.b.example} route;</li>
 *   <li>{@link AttributeKey#ALPN}: the protocol names the client offers, in its order, when it sent the extension;</li>
 *   <li>{@link AttributeKey#TLS_VERSION}: the highest of the {@code supported_versions} the detector knows
 *       ({@code "SSLv3"}, {@code "TLSv1"}, {@code "TLSv1.1"}, {@code "TLSv1.2"}, {@code "TLSv1.3"}; GREASE and
 *       unknown values are skipped), or the legacy version when the extension is absent or names none of them;</li>
 *   <li>{@link AttributeKey#TLS_ECH}: {@code "true"} when the hello carries an {@code encrypted_client_hello}
 *       extension (0xfe0d, draft-ietf-tls-esni), real or GREASE: this is the outer ClientHello, whose SNI is the ECH
 *       public name and not the server the client wants; then {@link AttributeKey#TLS_ECH_PUBLIC_NAME} repeats the
 *       SNI (absent when the outer hello has no valid SNI).</li>
 * </ul>
 *
 * <p>On its last call ({@link DetectionContext#isLastCall()}, for example a hello longer than the peek cap) the
 * detector matches a hello cut in its extensions, provided every byte so far is valid and the cut is not inside a
 * {@code server_name} or ALPN extension: with the SNI, ALPN and ECH flag of the extensions before the cut (the
 * version from {@code supported_versions} if it was complete, else the legacy version). A hello cut earlier, or
 * inside one of those two extensions, does not match.
 *
 * <p>Each call resumes where the previous one on the same connection stopped ({@link DetectionContext#progress()}):
 * at the first record not completely received and at the field of the hello it was waiting for, so a hello that
 * arrives one byte or one record per read costs time linear in its length, not quadratic. The whole message is
 * parsed once more from its start when its last byte arrives, for the attributes, and after a {@code server_name},
 * ALPN or {@code supported_versions} extension that had to be complete before it could be checked. Without a saved
 * progress (a context that keeps none) each call starts from the beginning, with the same answers.
 *
 * <p>Recent matches: the detector keeps up to 256 recent matches, one per slot of a table indexed by a hash of the
 * parts of the hello they came from: the raw host name and ALPN list byte for byte, the version and the ECH
 * flag. A hello whose parts are all equal to those of a kept match, as the hellos of the clients of a few services
 * are, gets that same immutable {@link DetectionResult} and allocates nothing; any other hello gets a new result,
 * which replaces the match in its slot: the attributes, a copy of the raw host name, from which the host name string
 * is made, and the entry (about 250 bytes for a usual hello; the common ALPN lists, {@code h2} and
 * {@code http/1.1}, are shared, other lists are copied and their names made from the copy). Matches whose raw host
 * name and ALPN list together exceed 320 bytes, or with more than 8 ALPN protocol names, are not kept: the table
 * holds about 250 bytes per match for usual hellos and well under 1 MiB in all, however many different names clients
 * send.
 *
 * <p>Thread-safe: the table of recent matches is read and written without locks, which is safe since each entry is
 * immutable and a hello is compared with all of its parts before its match is reused. It reads the buffer with
 * absolute getters, never moves its indexes, and allocates nothing until it matches.
 */
public final class TlsDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "tls";

    /** The longest ClientHello handshake message accepted, its 4-byte header included: {@value} bytes. */
    public static final int MAX_HANDSHAKE_LENGTH = 64 * 1024;

    /**
     * The most bytes the detector reads: {@value}, the longest ClientHello plus the headers of 256 records (a hello
     * of that size cut into records of 256 bytes or more).
     */
    public static final int MAX_BYTES = MAX_HANDSHAKE_LENGTH + 256 * RECORD_HEADER_LENGTH;

    private static final int CONTENT_TYPE_HANDSHAKE = 22;
    private static final int HANDSHAKE_CLIENT_HELLO = 1;
    private static final int MAX_RECORD_LENGTH = 1 << 14;
    private static final int HANDSHAKE_HEADER_LENGTH = 4;
    /** legacy_version, random, an empty session id, one cipher suite, one compression method. */
    private static final int MIN_BODY_LENGTH = 2 + 32 + 1 + 2 + 2 + 1 + 1;
    private static final int MAX_SESSION_ID_LENGTH = 32;

    private static final int EXT_SERVER_NAME = 0;
    private static final int EXT_ALPN = 16;
    private static final int EXT_SUPPORTED_VERSIONS = 43;
    private static final int SEEN_SERVER_NAME = 1;
    private static final int SEEN_ALPN = 2;
    private static final int SEEN_SUPPORTED_VERSIONS = 4;
    private static final int SEEN_ECH = 8;
    private static final int EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d;
    private static final int MAX_HOST_NAME_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;
    private static final int NAME_TYPE_HOST_NAME = 0;

    /** Stages of the parse of the ClientHello, where a call can stop and the next one resume. */
    private static final int START = 0;
    private static final int SESSION_ID = 1;
    private static final int CIPHER_SUITES = 2;
    private static final int COMPRESSION = 3;
    private static final int COMPRESSION_SCAN = 4;
    private static final int EXTENSIONS = 5;
    private static final int EXTENSION = 6;
    private static final int WAIT_EXTENSION = 7;

    private static final int SSL_3_0 = 0x0300;
    private static final int TLS_1_3 = 0x0304;
    private static final String[] VERSION_NAMES = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

    /** Recent matches kept: {@code 1 << RECENT_MATCHES_BITS} slots. */
    private static final int RECENT_MATCHES_BITS = 8;
    /** The longest raw host name plus ALPN list, in bytes, of a match kept among the recent ones. */
    private static final int MAX_RECENT_KEY_LENGTH = 320;
    /** The most ALPN protocol names of a match kept among the recent ones. */
    private static final int MAX_RECENT_ALPN_NAMES = 8;
    private static final long HASH_MULTIPLIER = 0x9E37_79B9_7F4A_7C15L;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /** The ALPN lists most clients send, answered with these lists instead of new ones. */
    private static final List<List<String>> COMMON_ALPN_NAMES =
            List.of(List.of("h2", "http/1.1"), List.of("http/1.1"), List.of("h2"));
    /** The same lists as the client sends them (RFC 7301 §3.1), each behind 8 zero bytes as the keys of matches. */
    private static final byte[][] COMMON_ALPN_LISTS =
            COMMON_ALPN_NAMES.stream().map(TlsDetector::rawAlpnList).toArray(byte[][]::new);
    /** The key part of a match without a host name or without an ALPN list: the 8 zero bytes alone. */
    private static final byte[] NO_PART = new byte[Long.BYTES];

    /**
     * Recent matches, direct-mapped by the hash of their parts; a slot is read and replaced without a lock, which is
     * safe since a {@link RecentMatch} is immutable (final fields) and a reader checks every byte of its key.
     */
    private final RecentMatch[] recent = new RecentMatch[1 << RECENT_MATCHES_BITS];

    /** Creates the detector. */
    public TlsDetector() {
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
     * Returns {@value #MAX_BYTES}: room for a ClientHello of {@value #MAX_HANDSHAKE_LENGTH} bytes and its record
     * headers.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the records and the ClientHello received so far, from where the previous call on the same connection
     * stopped ({@link DetectionContext#progress()}), and saves where this one stops.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context where the previous call stopped; a TLS client always speaks first and sends its whole hello, so
     *        nothing else is used
     * @return {@code MATCH} with SNI, ALPN and version on the last byte of a valid ClientHello, {@code NEED_MORE}
     *         while the bytes are a valid prefix of one, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        int first = start + RECORD_HEADER_LENGTH;
        long progress = context.progress();
        // The records before the saved one were complete and valid: walk on from it.
        int offset = start + Progress.record(progress);
        int declared = Progress.recordStart(progress);
        int received = declared;
        int helloLength = -1;
        int firstLength = -1;
        if (declared >= HANDSHAKE_HEADER_LENGTH) {
            firstLength = buf.getUnsignedShort(start + 3);
            helloLength = HANDSHAKE_HEADER_LENGTH + (firstLength >= HANDSHAKE_HEADER_LENGTH
                    ? buf.getUnsignedShort(first + 2) : u16(buf, HandshakeCursor.first(first), 2));
        }
        int frontier = offset;
        int frontierStart = declared;
        while (helloLength < 0 || declared < helloLength) {
            frontier = offset;
            frontierStart = declared;
            if (end - offset < RECORD_HEADER_LENGTH) {
                if (!isRecordHeaderPrefix(buf, offset, end)) {
                    return DetectionResult.noMatch();
                }
                break;
            }
            // content type, version, the length's high byte; then the length
            int header = buf.getInt(offset);
            if (header >>> 16 != (CONTENT_TYPE_HANDSHAKE << 8 | 3) || (header >>> 8 & 0xFF) > 4) {
                return DetectionResult.noMatch();
            }
            int length = (header & 0xFF) << 8 | buf.getUnsignedByte(offset + 4);
            if (length == 0 || length > MAX_RECORD_LENGTH) {
                return DetectionResult.noMatch();
            }
            if (offset == start) {
                firstLength = length;
            }
            int fragment = offset + RECORD_HEADER_LENGTH;
            int got = Math.min(length, end - fragment);
            if (received == 0 && got >= HANDSHAKE_HEADER_LENGTH) {
                // The whole handshake header in this record: type, then the 24-bit length, whose high byte is 0 for
                // any hello shorter than 64 KiB.
                int handshake = buf.getInt(fragment);
                if (handshake >>> 16 != HANDSHAKE_CLIENT_HELLO << 8) {
                    return DetectionResult.noMatch();
                }
                int bodyLength = handshake & 0xFFFF;
                if (bodyLength < MIN_BODY_LENGTH || bodyLength > MAX_HANDSHAKE_LENGTH - HANDSHAKE_HEADER_LENGTH) {
                    return DetectionResult.noMatch();
                }
                helloLength = HANDSHAKE_HEADER_LENGTH + bodyLength;
            } else if (received == 0 && got > 0 && buf.getUnsignedByte(fragment) != HANDSHAKE_CLIENT_HELLO) {
                return DetectionResult.noMatch();
            }
            received += got;
            declared += length;
            if (helloLength < 0 && received >= 2) {
                long cursor = HandshakeCursor.first(first);
                if (u8(buf, cursor, 1) != 0) {
                    return DetectionResult.noMatch();
                }
                if (received >= HANDSHAKE_HEADER_LENGTH) {
                    int bodyLength = u16(buf, cursor, 2);
                    if (bodyLength < MIN_BODY_LENGTH || bodyLength > MAX_HANDSHAKE_LENGTH - HANDSHAKE_HEADER_LENGTH) {
                        return DetectionResult.noMatch();
                    }
                    helloLength = HANDSHAKE_HEADER_LENGTH + bodyLength;
                }
            }
            if (helloLength >= 0 && declared > helloLength) {
                // The records carry more than the ClientHello: a client's first flight holds nothing else.
                return DetectionResult.noMatch();
            }
            if (got < length) {
                break;
            }
            offset = fragment + length;
        }
        // The first record not completely received, as a cursor: its fragment's buffer offset and logical start.
        long frontierCursor = HandshakeCursor.of(frontierStart, 0, frontier + RECORD_HEADER_LENGTH);
        if (helloLength < 0) {
            if (context.isLastCall() || context.isInputComplete()) {
                return DetectionResult.noMatch();
            }
            save(context, start, frontierCursor, START, 0, 0);
            return DetectionResult.needMore();
        }
        boolean last = context.isLastCall() || context.isInputComplete();
        if (received == helloLength || last) {
            // The whole message is here, or all of it that will come: parse it from its start, once, for the
            // attributes, with a cursor on the first record (and its length, when read already).
            DetectionResult r = parseHello(buf, HandshakeCursor.of(0, Math.max(firstLength, 0), first),
                    START, 0, 0, received, helloLength, start, frontierCursor, context, last);
            return last && r == DetectionResult.needMore() ? DetectionResult.noMatch() : r;
        }
        // Resume on the saved record, or on the first when it holds the whole hello, the usual case: then no read
        // walks a record header.
        long resume = firstLength == helloLength ? HandshakeCursor.of(0, helloLength, first)
                : Progress.cursor(start, progress);
        return parseHello(buf, resume, Progress.stage(progress), Progress.position(progress), Progress.aux(progress), received, helloLength,
                start, frontierCursor, context, false);
    }

    /**
     * Returns whether the bytes of a record header cut short, from {@code offset} to {@code end}, can begin a
     * handshake record: content type 22, version {@code 3.0} to {@code 3.4}, a length's high byte of at most 64.
     */
    private static boolean isRecordHeaderPrefix(ByteBuf buf, int offset, int end) {
        return (offset >= end || buf.getUnsignedByte(offset) == CONTENT_TYPE_HANDSHAKE)
                && (offset + 1 >= end || buf.getUnsignedByte(offset + 1) == 3)
                && (offset + 2 >= end || buf.getUnsignedByte(offset + 2) <= 4)
                && (offset + 3 >= end || buf.getUnsignedByte(offset + 3) <= MAX_RECORD_LENGTH >>> 8);
    }

    /**
     * Parses the ClientHello in the bytes received so far, from a stage reached by an earlier call; when the message
     * is incomplete and still valid, saves where it stopped.
     *
     * <p>The stages and what {@code p} and {@code aux} hold in each: {@link #START} (nothing; the parse begins at the
     * legacy version), {@link #SESSION_ID}, {@link #CIPHER_SUITES}, {@link #COMPRESSION} and {@link #EXTENSIONS} (the
     * offset of the field's length), {@link #COMPRESSION_SCAN} (the next compression method to look at and how many
     * remain), {@link #EXTENSION} (the offset of the next extension and the {@code SEEN_*} flags),
     * {@link #WAIT_EXTENSION} (the end of a server_name, ALPN or supported_versions extension that must be complete
     * before it is checked: once it is, the parse begins again at {@link #START}, since its start is not saved).
     *
     * @param buf the buffer
     * @param c a cursor at or before the record that holds {@code p}
     * @param stage where to begin
     * @param p the logical offset the stage begins at
     * @param aux what else the stage needs
     * @param received how many bytes of the handshake message are in the buffer, at most {@code helloLength}
     * @param helloLength the length of the handshake message, header included
     * @param start the buffer's reader index
     * @param frontier a cursor on the first record not completely received
     * @param context where to save the progress
     * @param last whether no more bytes will come: a hello cut in its extensions, outside a {@code server_name} or
     *        ALPN extension, then matches with what it has
     */
    private DetectionResult parseHello(ByteBuf buf, long c, int stage, int p, int aux, int received,
                                              int helloLength, int start, long frontier, DetectionContext context,
                                              boolean last) {
        int legacyVersion = 0;
        int seen = 0;
        int serverName = -1;
        int serverNameLength = 0;
        int alpn = -1;
        int alpnEnd = 0;
        int supportedVersion = 0;
        while (true) {
            switch (stage) {
                case START:
                    // legacy_version
                    p = HANDSHAKE_HEADER_LENGTH;
                    if (received <= p) {
                        return needMore(buf, c, START, p, 0, start, frontier, context);
                    }
                    if (u8(buf, c, p) != 3) {
                        return DetectionResult.noMatch();
                    }
                    if (received <= p + 1) {
                        return needMore(buf, c, START, p, 0, start, frontier, context);
                    }
                    legacyVersion = SSL_3_0 | u8(buf, c, p + 1);
                    if (legacyVersion > TLS_1_3) {
                        return DetectionResult.noMatch();
                    }
                    p += 2 + 32; // legacy_version, random
                    stage = SESSION_ID;
                    break;
                case SESSION_ID:
                    // legacy_session_id<0..32>
                    if (received <= p) {
                        return needMore(buf, c, SESSION_ID, p, 0, start, frontier, context);
                    }
                    c = seek(buf, c, p);
                    int sessionIdLength = u8(buf, c, p);
                    if (sessionIdLength > MAX_SESSION_ID_LENGTH) {
                        return DetectionResult.noMatch();
                    }
                    p += 1 + sessionIdLength;
                    stage = CIPHER_SUITES;
                    break;
                case CIPHER_SUITES:
                    // cipher_suites<2..2^16-2>
                    if (p + 2 > helloLength) {
                        return DetectionResult.noMatch();
                    }
                    if (received < p + 2) {
                        return needMore(buf, c, CIPHER_SUITES, p, 0, start, frontier, context);
                    }
                    c = seek(buf, c, p);
                    int cipherSuitesLength = u16(buf, c, p);
                    if (cipherSuitesLength < 2 || (cipherSuitesLength & 1) != 0) {
                        return DetectionResult.noMatch();
                    }
                    p += 2 + cipherSuitesLength;
                    stage = COMPRESSION;
                    break;
                case COMPRESSION:
                    // legacy_compression_methods<1..2^8-1>, which must hold the null method
                    if (p + 2 > helloLength) {
                        return DetectionResult.noMatch();
                    }
                    if (received <= p) {
                        return needMore(buf, c, COMPRESSION, p, 0, start, frontier, context);
                    }
                    c = seek(buf, c, p);
                    int compressionLength = u8(buf, c, p);
                    if (compressionLength == 0 || p + 1 + compressionLength > helloLength) {
                        return DetectionResult.noMatch();
                    }
                    p++;
                    aux = compressionLength;
                    stage = COMPRESSION_SCAN;
                    break;
                case COMPRESSION_SCAN: {
                    int compressionEnd = p + aux;
                    int scanEnd = Math.min(compressionEnd, received);
                    boolean hasNull = false;
                    for (; p < scanEnd && !hasNull; p++) {
                        c = seek(buf, c, p);
                        hasNull = u8(buf, c, p) == 0;
                    }
                    if (!hasNull) {
                        if (scanEnd == compressionEnd) {
                            return DetectionResult.noMatch();
                        }
                        return needMore(buf, c, COMPRESSION_SCAN, p, compressionEnd - p, start, frontier, context);
                    }
                    p = compressionEnd;
                    stage = EXTENSIONS;
                    break;
                }
                case EXTENSIONS:
                    // extensions<8..2^16-1>, absent in some TLS 1.2 and older hellos
                    if (p < helloLength) {
                        if (p + 2 > helloLength) {
                            return DetectionResult.noMatch();
                        }
                        if (received < p + 2) {
                            return needMore(buf, c, EXTENSIONS, p, 0, start, frontier, context);
                        }
                        c = seek(buf, c, p);
                        if (p + 2 + u16(buf, c, p) != helloLength) {
                            return DetectionResult.noMatch();
                        }
                        p += 2;
                    }
                    aux = 0;
                    stage = EXTENSION;
                    break;
                case EXTENSION:
                    seen = aux;
                    while (p < helloLength) {
                        if (p + 4 > helloLength) {
                            return DetectionResult.noMatch();
                        }
                        if (received < p + 4) {
                            if (last) {
                                return match(buf, c, start, serverName, serverNameLength, alpn, alpnEnd,
                                        supportedVersion != 0 ? supportedVersion : legacyVersion, seen);
                            }
                            return needMore(buf, c, EXTENSION, p, seen, start, frontier, context);
                        }
                        c = seek(buf, c, p);
                        int header = u32(buf, c, p);
                        int type = header >>> 16;
                        int data = p + 4;
                        int next = data + (header & 0xFFFF);
                        if (next > helloLength) {
                            return DetectionResult.noMatch();
                        }
                        if (type == EXT_ENCRYPTED_CLIENT_HELLO) {
                            seen |= SEEN_ECH;
                        }
                        if (type == EXT_SERVER_NAME || type == EXT_ALPN || type == EXT_SUPPORTED_VERSIONS) {
                            if (received < next) {
                                if (last && type == EXT_SUPPORTED_VERSIONS) {
                                    // cut in supported_versions: the legacy version is all that is known
                                    return match(buf, c, start, serverName, serverNameLength, alpn, alpnEnd,
                                            legacyVersion, seen);
                                }
                                return needMore(buf, c, WAIT_EXTENSION, next, 0, start, frontier, context);
                            }
                            if (type == EXT_SERVER_NAME) {
                                long name = parseServerName(buf, c, data, next);
                                if ((seen & SEEN_SERVER_NAME) != 0 || name < 0) {
                                    return DetectionResult.noMatch();
                                }
                                seen |= SEEN_SERVER_NAME;
                                if (name > 0) {
                                    serverName = (int) (name >>> 32);
                                    serverNameLength = (int) name;
                                }
                            } else if (type == EXT_ALPN) {
                                if ((seen & SEEN_ALPN) != 0 || !isValidAlpn(buf, c, data, next)) {
                                    return DetectionResult.noMatch();
                                }
                                seen |= SEEN_ALPN;
                                alpn = data + 2;
                                alpnEnd = next;
                            } else {
                                int version = parseSupportedVersions(buf, c, data, next);
                                if ((seen & SEEN_SUPPORTED_VERSIONS) != 0 || version < 0) {
                                    return DetectionResult.noMatch();
                                }
                                seen |= SEEN_SUPPORTED_VERSIONS;
                                supportedVersion = version;
                            }
                        }
                        p = next;
                    }
                    if (received < helloLength && !last) {
                        return needMore(buf, c, EXTENSION, p, seen, start, frontier, context);
                    }
                    return match(buf, c, start, serverName, serverNameLength, alpn, alpnEnd,
                            supportedVersion != 0 ? supportedVersion : legacyVersion, seen);
                case WAIT_EXTENSION:
                    if (received < p) {
                        return needMore(buf, c, WAIT_EXTENSION, p, 0, start, frontier, context);
                    }
                    // Where the extension starts is not saved: parse again from the start, once per such extension.
                    c = HandshakeCursor.first(start + RECORD_HEADER_LENGTH);
                    stage = START;
                    break;
                default:
                    throw new IllegalStateException("stage " + stage);
            }
        }
    }

    /**
     * Saves where the parse stopped and answers {@code NEED_MORE}. The saved record is the one that holds {@code p}
     * when it has arrived, so that the parse can seek to it, else the first record not completely received; both
     * are at most a few bytes behind the end of what arrived, so the next call re-reads little.
     */
    private static DetectionResult needMore(ByteBuf buf, long c, int stage, int p, int aux, int start, long frontier,
                                            DetectionContext context) {
        long cursor = p >= HandshakeCursor.start(frontier) ? frontier : seek(buf, c, p);
        save(context, start, cursor, stage, p, aux);
        return DetectionResult.needMore();
    }

    private static void save(DetectionContext context, int start, long cursor, int stage, int p, int aux) {
        context.saveProgress(Progress.of(start, cursor, stage, p, aux));
    }

    /**
     * Answers the match of a hello whose attributes come from the given parts: the recent match with the same parts,
     * byte for byte, when there is one, else a new one, which then takes its slot unless it is too large to keep.
     *
     * <p>A new match copies the raw host name once, into the key it is kept under, and makes the host name string
     * from that copy; an ALPN list the detector knows shares its key and its names with every match that has it.
     *
     * @param c a cursor on the record the parse stands on
     * @param serverName the logical offset of the raw host name, or -1 without one
     * @param alpn the logical offset of the ALPN protocol name list (after its length), or -1 without one
     */
    private DetectionResult match(ByteBuf buf, long c, int start, int serverName, int serverNameLength, int alpn,
                                  int alpnEnd, int version, int seen) {
        long first = HandshakeCursor.start(c) == 0 ? c : HandshakeCursor.first(start + RECORD_HEADER_LENGTH);
        // A host name and an ALPN list are never empty, so a length of 0 means the part is absent.
        int sniLength = serverName >= 0 ? serverNameLength : 0;
        int alpnLength = alpn >= 0 ? alpnEnd - alpn : 0;
        int flags = version << 1 | ((seen & SEEN_ECH) != 0 ? 1 : 0);
        boolean keep = sniLength + alpnLength <= MAX_RECENT_KEY_LENGTH;
        long h = 0;
        int slot = 0;
        if (keep) {
            long seed = (long) flags << 40 | (long) sniLength << 20 | alpnLength;
            h = hash(buf, first, alpn, alpnLength, hash(buf, first, serverName, sniLength, seed));
            slot = (int) (h >>> Long.SIZE - RECENT_MATCHES_BITS);
            RecentMatch m = recent[slot];
            if (m != null && m.hash == h && m.flags == flags && m.name.length == Long.BYTES + sniLength
                    && m.alpn.length == Long.BYTES + alpnLength
                    && sameBytes(buf, first, serverName, m.name, Long.BYTES, sniLength)
                    && sameBytes(buf, first, alpn, m.alpn, Long.BYTES, alpnLength)) {
                return m.result;
            }
        }
        byte[] name = NO_PART;
        if (sniLength > 0) {
            name = new byte[Long.BYTES + sniLength];
            copyBytes(buf, first, serverName, name, Long.BYTES, sniLength);
        }
        byte[] alpnKey = NO_PART;
        List<String> names = null;
        if (alpnLength > 0) {
            int common = commonAlpnList(buf, first, alpn, alpnLength);
            if (common >= 0) {
                alpnKey = COMMON_ALPN_LISTS[common];
                names = COMMON_ALPN_NAMES.get(common);
            } else {
                alpnKey = new byte[Long.BYTES + alpnLength];
                copyBytes(buf, first, alpn, alpnKey, Long.BYTES, alpnLength);
                names = protocolNames(alpnKey);
                keep &= names.size() <= MAX_RECENT_ALPN_NAMES;
            }
        }
        String sni = sniLength > 0 ? hostName(name) : null;
        ProtocolAttributes.Builder attributes = ProtocolAttributes.builder();
        attributes.put(AttributeKey.SNI, sni);
        if ((seen & SEEN_ECH) != 0) {
            attributes.put(AttributeKey.TLS_ECH, "true");
            attributes.put(AttributeKey.TLS_ECH_PUBLIC_NAME, sni);
        }
        attributes.put(AttributeKey.ALPN, names);
        attributes.put(AttributeKey.TLS_VERSION, VERSION_NAMES[version - SSL_3_0]);
        DetectionResult r = DetectionResult.match(attributes.build());
        if (keep) {
            recent[slot] = new RecentMatch(name, alpnKey, flags, h, r);
        }
        return r;
    }

    /**
     * Folds {@code length} bytes of the message into a hash, as big-endian 8-byte words and then the bytes left over
     * as one number; the same for the same bytes however the records cut them.
     */
    private static long hash(ByteBuf buf, long c, int offset, int length, long h) {
        int i = 0;
        for (; i + Long.BYTES <= length; i += Long.BYTES) {
            c = seek(buf, c, offset + i);
            h = (h + word(buf, c, offset + i)) * HASH_MULTIPLIER;
        }
        return (h + rest(buf, c, offset + i, length - i)) * HASH_MULTIPLIER;
    }

    /** Returns whether {@code length} bytes of the message equal those of {@code key} from {@code from}. */
    private static boolean sameBytes(ByteBuf buf, long c, int offset, byte[] key, int from, int length) {
        int i = 0;
        for (; i + Long.BYTES <= length; i += Long.BYTES) {
            c = seek(buf, c, offset + i);
            if (word(buf, c, offset + i) != (long) LONGS.get(key, from + i)) {
                return false;
            }
        }
        // The key has 8 bytes before its first part, so the last word of a part is always in it.
        int n = length - i;
        return n == 0 || rest(buf, c, offset + i, n) == ((long) LONGS.get(key, from + length - Long.BYTES) & mask(n));
    }

    /** Returns the big-endian 8-byte word at a logical offset, with a cursor on the record that holds it. */
    private static long word(ByteBuf buf, long c, int offset) {
        if (offset + Long.BYTES <= HandshakeCursor.end(c)) {
            return buf.getLong(HandshakeCursor.index(c, offset));
        }
        long word = 0;
        for (int j = offset; j < offset + Long.BYTES; j++) {
            c = seek(buf, c, j);
            word = word << 8 | u8(buf, c, j);
        }
        return word;
    }

    /**
     * Returns {@code n} bytes, 0 to 7, at a logical offset as a big-endian number. When the record that holds them
     * holds the 7 bytes before too, it reads the word that ends with them.
     */
    private static long rest(ByteBuf buf, long c, int offset, int n) {
        if (n == 0) {
            return 0;
        }
        c = seek(buf, c, offset);
        int last = offset + n - Long.BYTES;
        if (last >= HandshakeCursor.start(c) && offset + n <= HandshakeCursor.end(c)) {
            return buf.getLong(HandshakeCursor.index(c, last)) & mask(n);
        }
        long rest = 0;
        for (int j = offset; j < offset + n; j++) {
            c = seek(buf, c, j);
            rest = rest << 8 | u8(buf, c, j);
        }
        return rest;
    }

    /** Returns a mask of the low {@code n} bytes, {@code n} from 1 to 7. */
    private static long mask(int n) {
        return (1L << n * Byte.SIZE) - 1;
    }

    /** Copies {@code length} bytes of the message into {@code key} from {@code from}. */
    private static void copyBytes(ByteBuf buf, long c, int offset, byte[] key, int from, int length) {
        if (length == 0) {
            return;
        }
        c = seek(buf, c, offset);
        if (offset + length <= HandshakeCursor.end(c)) {
            buf.getBytes(HandshakeCursor.index(c, offset), key, from, length);
            return;
        }
        for (int i = 0; i < length; i++) {
            c = seek(buf, c, offset + i);
            key[from + i] = (byte) u8(buf, c, offset + i);
        }
    }

    /**
     * Checks a {@code server_name} extension (RFC 6066 §3): a non-empty list of entries, each a name type and a
     * non-empty name, at most one {@code host_name}.
     *
     * @return -1 when malformed; 0 without a host name; else the host name's logical offset (high 32 bits) and length
     */
    private static long parseServerName(ByteBuf buf, long c, int data, int end) {
        if (end - data < 2 || u16(buf, c, data) + 2 != end - data) {
            return -1;
        }
        long host = 0;
        int q = data + 2;
        if (q == end) {
            return -1;
        }
        while (q < end) {
            if (q + 3 > end) {
                return -1;
            }
            c = seek(buf, c, q);
            int type = u8(buf, c, q);
            int length = u16(buf, c, q + 1);
            if (length == 0 || q + 3 + length > end) {
                return -1;
            }
            if (type == NAME_TYPE_HOST_NAME) {
                if (host != 0) {
                    return -1;
                }
                host = (long) (q + 3) << 32 | length;
            }
            q += 3 + length;
        }
        return host;
    }

    /** Checks an ALPN extension (RFC 7301 §3.1): a non-empty list of non-empty protocol names. */
    private static boolean isValidAlpn(ByteBuf buf, long c, int data, int end) {
        if (end - data < 2 || u16(buf, c, data) + 2 != end - data || end - data == 2) {
            return false;
        }
        for (int q = data + 2; q < end; ) {
            c = seek(buf, c, q);
            int length = u8(buf, c, q);
            if (length == 0 || q + 1 + length > end) {
                return false;
            }
            q += 1 + length;
        }
        return true;
    }

    /**
     * Checks a ClientHello {@code supported_versions} extension (RFC 8446 §4.2.1): a list of 1 to 127 versions.
     *
     * @return -1 when malformed; else the highest version from SSL 3.0 to TLS 1.3 in the list, or 0 for none
     */
    private static int parseSupportedVersions(ByteBuf buf, long c, int data, int end) {
        if (end - data < 1) {
            return -1;
        }
        int length = u8(buf, c, data);
        if (length + 1 != end - data || length < 2 || (length & 1) != 0) {
            return -1;
        }
        int best = 0;
        for (int q = data + 1; q < end; q += 2) {
            c = seek(buf, c, q);
            int v = u16(buf, c, q);
            if (v >= SSL_3_0 && v <= TLS_1_3 && v > best) {
                best = v;
            }
        }
        return best;
    }

    /**
     * Returns the host name lower-case without a trailing dot, or {@code null} when it is not a valid host name:
     * dot-separated labels of 1 to 63 letters, digits and hyphens, at most 253 bytes in all (RFC 6066 §3, RFC 1123
     * §2.1).
     *
     * @param raw 8 bytes, then the raw host name, at least one byte
     */
    private static String hostName(byte[] raw) {
        int label = 0;
        boolean upper = false;
        for (int i = Long.BYTES; i < raw.length; i++) {
            int b = raw[i];
            if (b == '.') {
                if (label == 0) {
                    return null;
                }
                label = 0;
            } else if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
                if (++label > MAX_LABEL_LENGTH) {
                    return null;
                }
                upper |= b >= 'A' && b <= 'Z';
            } else {
                return null;
            }
        }
        int n = raw.length - Long.BYTES - (raw[raw.length - 1] == '.' ? 1 : 0);
        if (n == 0 || n > MAX_HOST_NAME_LENGTH) {
            return null;
        }
        // Letters, digits, hyphens and dots only: the root locale's lower case is the ASCII one.
        String name = new String(raw, Long.BYTES, n, StandardCharsets.ISO_8859_1);
        return upper ? name.toLowerCase(Locale.ROOT) : name;
    }

    private static byte[] rawAlpnList(List<String> names) {
        byte[] raw = new byte[Long.BYTES + names.stream().mapToInt(n -> 1 + n.length()).sum()];
        int i = Long.BYTES;
        for (String n : names) {
            raw[i++] = (byte) n.length();
            for (int j = 0; j < n.length(); j++) {
                raw[i++] = (byte) n.charAt(j);
            }
        }
        return raw;
    }

    /** Returns the index of the common ALPN list equal to {@code length} bytes of the message, or -1. */
    private static int commonAlpnList(ByteBuf buf, long c, int offset, int length) {
        for (int i = 0; i < COMMON_ALPN_LISTS.length; i++) {
            if (COMMON_ALPN_LISTS[i].length - Long.BYTES == length
                    && sameBytes(buf, c, offset, COMMON_ALPN_LISTS[i], Long.BYTES, length)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Returns the protocol names of a validated ALPN list, one character per byte.
     *
     * @param raw 8 bytes, then the raw protocol name list (without its length)
     */
    private static List<String> protocolNames(byte[] raw) {
        int count = 0;
        for (int q = Long.BYTES; q < raw.length; q += 1 + (raw[q] & 0xFF)) {
            count++;
        }
        String[] names = new String[count];
        int q = Long.BYTES;
        for (int i = 0; i < count; i++) {
            int length = raw[q] & 0xFF;
            names[i] = new String(raw, q + 1, length, StandardCharsets.ISO_8859_1);
            q += 1 + length;
        }
        return List.of(names);
    }

    /**
     * A match and the parts of the hello it came from: the raw host name and the raw ALPN protocol name list, byte
     * for byte, the version and the ECH flag. Immutable.
     */
    private static final class RecentMatch {

        /** 8 zero bytes, then the raw host name; only the 8 bytes without one. */
        final byte[] name;
        /** 8 zero bytes, then the raw ALPN list; only the 8 bytes without one. */
        final byte[] alpn;
        /** The version, shifted left by one, and the ECH flag in bit 0. */
        final int flags;
        final long hash;
        final DetectionResult result;

        RecentMatch(byte[] name, byte[] alpn, int flags, long hash, DetectionResult result) {
            this.name = name;
            this.alpn = alpn;
            this.flags = flags;
            this.hash = hash;
            this.result = result;
        }
    }

    /**
     * Packs where a call stopped into the {@code long} that {@link DetectionContext#saveProgress(long)} keeps, {@code 0}
     * meaning "from the beginning":
     * <ul>
     *   <li>bits 0-16: the offset from the reader index of the first record to walk, the one not completely received
     *       or one a few bytes before it;</li>
     *   <li>bits 17-33: the logical offset of that record's fragment in the handshake message (the handshake bytes in
     *       the records before it);</li>
     *   <li>bits 34-50: the logical offset the parse resumes at; bits 51-58: what else the stage needs; bits 59-61:
     *       the stage.</li>
     * </ul>
     * Offsets fit in 17 bits up to 128 KiB, twice {@link #MAX_BYTES}; beyond, nothing is saved and the next call
     * starts from the beginning.
     */
    private static final class Progress {

        private static final int BITS = 17;
        private static final int MASK = (1 << BITS) - 1;

        private Progress() {
        }

        static long of(int start, long cursor, int stage, int position, int aux) {
            int record = HandshakeCursor.fragment(cursor) - RECORD_HEADER_LENGTH - start;
            int recordStart = HandshakeCursor.start(cursor);
            if (record > MASK || recordStart > MASK || position > MASK) {
                return 0;
            }
            return record | (long) recordStart << BITS | (long) position << 2 * BITS | (long) aux << 3 * BITS
                    | (long) stage << 3 * BITS + 8;
        }

        static int record(long progress) {
            return (int) progress & MASK;
        }

        static int recordStart(long progress) {
            return (int) (progress >>> BITS) & MASK;
        }

        static int position(long progress) {
            return (int) (progress >>> 2 * BITS) & MASK;
        }

        static int aux(long progress) {
            return (int) (progress >>> 3 * BITS) & 0xff;
        }

        static int stage(long progress) {
            return (int) (progress >>> 3 * BITS + 8) & 7;
        }

        /** Returns a cursor on the saved record. */
        static long cursor(int start, long progress) {
            return HandshakeCursor.of(recordStart(progress), 0, start + record(progress) + RECORD_HEADER_LENGTH);
        }
    }
}
