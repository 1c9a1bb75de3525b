package io.refractium.protocols.dns;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Set;

/**
 * Detects a DNS request over TCP (each message behind a 2-byte length, RFC 1035 §4.2.2, RFC 7766 §8) or UDP (one
 * message per datagram, RFC 1035 §4.2.1: the flow's first datagram must hold exactly one request), and reports the
 * name it asks about.
 *
 * <p>DNS has no magic bytes, so the detector checks the message closely enough that random bytes and other
 * protocols do not pass (RFC 1035 §4.1):
 * <ul>
 *   <li>a message of at least 17 bytes (header, root name, type and class), 16 for DSO; over TCP the length prefix
 *       says so, and the detector waits for the whole message;</li>
 *   <li>header: QR 0 (a request), opcode QUERY (0), NOTIFY (4, RFC 1996), UPDATE (5, RFC 2136) or, over TCP only,
 *       DSO (6, RFC 8490), the Z bit 0, RCODE 0. A NOTIFY or UPDATE has exactly one question (zone for UPDATE). A
 *       QUERY has at most one question, no answer records, at most one authority record (only in an IXFR, RFC 1995
 *       §3) and at most three additional records; without a question it is a query for a server cookie (RFC 7873
 *       §5.4): no authority record and exactly one additional record, an OPT with a COOKIE option. A DSO message has
 *       all four counts 0 and no other header bit set (RFC 8490 §5.4);</li>
 *   <li>question: a name of labels of at most 63 bytes and 255 bytes in all, without compression pointers; a type
 *       other than 0 (SOA for the zone of an UPDATE, RFC 2136 §2.3; IXFR, 251, when there is an authority record);
 *       class IN, CH, HS or ANY;</li>
 *   <li>a QUERY ends exactly with its last record. Each record has an owner name of labels, possibly ended by a
 *       compression pointer back to an earlier name, and data that fits in the message. The authority record of an
 *       IXFR is an SOA whose data holds exactly two names and five 32-bit fields. Among the additional records: at
 *       most one OPT record (RFC 6891 §6.1.1), with the root name, extended RCODE 0 and well-formed options, a COOKIE
 *       option (RFC 7873 §4) having 8 or 16 to 40 bytes; TSIG (RFC 8945 §4.2) and SIG(0) (RFC 2931 §3) records with
 *       class ANY and TTL 0; any other type as long as it is well-formed;</li>
 *   <li>a DSO message holds TLVs (type, length, data) that end exactly with it, the first (primary) one of a type
 *       other than 0;</li>
 *   <li>the message of a NOTIFY or UPDATE holds at least its question.</li>
 * </ul>
 * Answers are {@link DetectionResult#noMatch() NO_MATCH} on the first byte that breaks a rule,
 * {@link DetectionResult#needMore() NEED_MORE} (over TCP only) while the message is incomplete, and
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} on its last byte. The priority, {@value #PRIORITY}, is
 * below the other built-in detectors: DNS over TCP cannot be ruled out on its first byte.
 *
 * <p>Attribute of a match: {@link #QNAME}, when the message has a question (not for a server cookie query or
 * DSO).
 *
 * <p>Over TCP each call resumes where the previous one on the same connection stopped
 * ({@link DetectionContext#progress()}) once the header and the question are complete: at the record not completely
 * received (whose name and fixed part, at most a few hundred bytes, are read again), in the options of the OPT
 * record, at the next DSO TLV, or waiting for the rest of the message; so a message of up to 64 KiB that arrives
 * one byte per read costs time linear in its length, not quadratic. Without a saved progress each call starts from
 * the beginning, with the same answers.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class DnsDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "dns";

    /** The detector's priority, {@value}: asked after the detectors that decide on their first bytes. */
    public static final int PRIORITY = -10;

    /** The most bytes the detector reads, {@value}: the length prefix and the longest message. */
    public static final int MAX_BYTES = 2 + 65535;

    /**
     * The name of the question, in presentation format: labels joined by dots, lower-case, without the trailing dot
     * ({@code "example.com"}), {@code "."} for the root; bytes other than printable ASCII as {@code \DDD}, and a dot
     * or backslash inside a label escaped with a backslash (RFC 4343 §2.1).
     */
    public static final AttributeKey<String> QNAME = AttributeKey.of("dns.qname", String.class);

    private static final Set<Transport> TRANSPORTS = Set.of(Transport.TCP, Transport.UDP);

    private static final int HEADER_LENGTH = 12;
    private static final int MIN_MESSAGE_LENGTH = HEADER_LENGTH + 1 + 2 + 2;
    private static final int MAX_LABEL_LENGTH = 63;
    private static final int MAX_NAME_LENGTH = 255;
    private static final int OPCODE_QUERY = 0;
    private static final int OPCODE_NOTIFY = 4;
    private static final int OPCODE_UPDATE = 5;
    private static final int OPCODE_DSO = 6;
    private static final int TYPE_SOA = 6;
    private static final int TYPE_SIG = 24;
    private static final int TYPE_OPT = 41;
    private static final int TYPE_TSIG = 250;
    private static final int TYPE_IXFR = 251;
    private static final int CLASS_ANY = 255;
    private static final int OPTION_COOKIE = 10;
    /** The most additional records of a QUERY: OPT, TSIG or SIG(0), and one more. */
    private static final int MAX_ADDITIONAL = 3;
    /** Two names and five 32-bit fields. */
    private static final int MAX_SOA_DATA_LENGTH = 2 * MAX_NAME_LENGTH + 20;
    /** A DSO message: the header and one TLV without data. */
    private static final int MIN_DSO_LENGTH = HEADER_LENGTH + 4;
    private static final int SEEN_OPT = 1;
    private static final int SEEN_COOKIE = 2;
    private static final int RR_FIXED_LENGTH = 10;
    private static final int NEED_MORE = -1;
    private static final int NO_MATCH = -2;

    /** Creates the detector. */
    public DnsDetector() {
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
     * Returns TCP and UDP.
     *
     * @return the transports the detector identifies
     */
    @Override
    public Set<Transport> transports() {
        return TRANSPORTS;
    }

    /**
     * Returns {@value #PRIORITY}.
     *
     * @return the priority
     */
    @Override
    public int priority() {
        return PRIORITY;
    }

    /**
     * Returns {@value #MAX_BYTES}, room for the longest message over TCP.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the DNS message received so far.
     *
     * @param buf the first bytes of the connection (TCP) or the first datagrams of the flow (UDP), from its reader
     *        index to its writer index; not modified
     * @param context gives the transport (over UDP the first datagram, {@link DetectionContext#datagramEnd(int)
     *        datagramEnd(0)}, or the whole buffer when the context tells no datagrams, is the whole message, without a
     *        length prefix) and, over TCP, where the previous call stopped
     * @return {@code MATCH} with the question name (when there is a question), {@code NEED_MORE} (TCP only) while
     *         the bytes are a valid prefix of a request, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (context.transport() == Transport.UDP) {
            // the first datagram is the message; later ones offered with it are not looked at
            if (context.datagrams() > 0) {
                end = Math.min(end, start + context.datagramEnd(0));
            }
            if (end - start < MIN_MESSAGE_LENGTH) {
                return DetectionResult.noMatch();
            }
            DetectionResult r = parse(buf, start, end, end, null);
            return r == DetectionResult.needMore() ? DetectionResult.noMatch() : r;
        }
        if (end - start < 2) {
            return DetectionResult.needMore();
        }
        int length = buf.getUnsignedShort(start);
        if (length < MIN_DSO_LENGTH) {
            return DetectionResult.noMatch();
        }
        int message = start + 2;
        int messageEnd = message + length;
        return parse(buf, message, Math.min(end, messageEnd), messageEnd, context);
    }

    /**
     * Parses one message, from where the previous call on the same connection stopped when its header and question
     * were complete, and saves where this one stops after them: the bytes after the question can be as long as the
     * message, so a call does not read them again.
     *
     * @param m the offset of the message
     * @param end where the bytes received so far end, at most {@code messageEnd}
     * @param messageEnd where the message ends
     * @param tcp the context that keeps the progress over TCP, {@code null} for a datagram
     */
    private static DetectionResult parse(ByteBuf buf, int m, int end, int messageEnd, DetectionContext tcp) {
        long progress = tcp != null ? tcp.progress() : 0;
        int stage = Progress.stage(progress);
        if (stage == Progress.REST) {
            return complete(buf, m, end, messageEnd, tcp);
        }
        if (stage == Progress.DSO) {
            return dso(buf, m, m + Progress.record(progress), end, messageEnd, tcp);
        }
        if (stage == Progress.RECORDS || stage == Progress.OPTIONS) {
            return records(buf, m, end, messageEnd, progress, tcp);
        }
        // ID (2 bytes, any), then QR|Opcode|AA|TC|RD
        if (end <= m + 2) {
            return DetectionResult.needMore();
        }
        int flags = buf.getUnsignedByte(m + 2);
        int opcode = flags >>> 3 & 0xf;
        boolean dso = opcode == OPCODE_DSO;
        if ((flags & 0x80) != 0 || opcode != OPCODE_QUERY && opcode != OPCODE_NOTIFY && opcode != OPCODE_UPDATE
                && !dso || dso && ((flags & 0x07) != 0 || tcp == null)) {
            return DetectionResult.noMatch();
        }
        if (!dso && messageEnd - m < MIN_MESSAGE_LENGTH) {
            return DetectionResult.noMatch();
        }
        // RA|Z|AD|CD|RCODE; all zero in a DSO request
        if (end <= m + 3) {
            return DetectionResult.needMore();
        }
        if ((buf.getUnsignedByte(m + 3) & (dso ? 0xff : 0x4f)) != 0) {
            return DetectionResult.noMatch();
        }
        // QUERY: QDCOUNT <= 1, ANCOUNT 0, NSCOUNT <= 1, ARCOUNT <= 3; NOTIFY, UPDATE: QDCOUNT 1; DSO: all 0
        boolean query = opcode == OPCODE_QUERY;
        int countsEnd = query || dso ? m + HEADER_LENGTH : m + 6;
        for (int i = m + 4; i < countsEnd; i++) {
            if (i >= end) {
                return DetectionResult.needMore();
            }
            int b = buf.getUnsignedByte(i);
            int max = dso ? 0 : i == m + 5 || i == m + 9 ? 1 : i == m + 11 ? MAX_ADDITIONAL : 0;
            if (b > max || i == m + 5 && !query && !dso && b != 1) {
                return DetectionResult.noMatch();
            }
        }
        if (dso) {
            return dso(buf, m, m + HEADER_LENGTH, end, messageEnd, tcp);
        }
        int questions = buf.getUnsignedByte(m + 5);
        int authority = query ? buf.getUnsignedByte(m + 9) : 0;
        int additional = query ? buf.getUnsignedByte(m + 11) : 0;
        if (questions == 0 && (authority != 0 || additional != 1)) {
            // without a question, only a query for a server cookie (RFC 7873 §5.4): one OPT record
            return DetectionResult.noMatch();
        }

        // question: QNAME, QTYPE, QCLASS
        int p = m + HEADER_LENGTH;
        if (questions == 1) {
            int name = p;
            while (true) {
                if (p >= messageEnd) {
                    return DetectionResult.noMatch();
                }
                if (p >= end) {
                    return DetectionResult.needMore();
                }
                int label = buf.getUnsignedByte(p);
                if (label > MAX_LABEL_LENGTH || p + 1 + label - name > MAX_NAME_LENGTH) {
                    return DetectionResult.noMatch();
                }
                p += 1 + label;
                if (label == 0) {
                    break;
                }
            }
            if (p + 4 > messageEnd) {
                return DetectionResult.noMatch();
            }
            if (end < p + 2) {
                return DetectionResult.needMore();
            }
            int type = buf.getUnsignedShort(p);
            if (type == 0 || opcode == OPCODE_UPDATE && type != TYPE_SOA || authority == 1 && type != TYPE_IXFR) {
                return DetectionResult.noMatch();
            }
            if (end <= p + 2) {
                return DetectionResult.needMore();
            }
            if (buf.getUnsignedByte(p + 2) != 0) {
                return DetectionResult.noMatch();
            }
            if (end <= p + 3) {
                return DetectionResult.needMore();
            }
            int qclass = buf.getUnsignedByte(p + 3);
            if (qclass != 1 && qclass != 3 && qclass != 4 && qclass != 255) {
                return DetectionResult.noMatch();
            }
            p += 4;
        }
        if (query) {
            return records(buf, m, end, messageEnd, Progress.of(Progress.RECORDS, p - m, 0, 0, 0, 0), tcp);
        }
        return complete(buf, m, end, messageEnd, tcp);
    }

    /**
     * Parses the records after the question of a QUERY, from the one the progress names: the authority record of an
     * IXFR (an SOA, RFC 1995 §3), then the additional records, at most {@value #MAX_ADDITIONAL}: at most one OPT
     * record (root owner name, extended RCODE 0, well-formed options, RFC 6891 §6.1), which must hold a COOKIE option
     * (RFC 7873 §4) when there is no question; TSIG (RFC 8945 §4.2) and SIG(0) (RFC 2931 §3) records with class ANY
     * and TTL 0; records of other types as long as they are well-formed. The message must end with the last record.
     * While incomplete, saves where to resume: the record not completely received (its fixed part and, for an SOA,
     * its data are read again, a few hundred bytes at most), or the next OPT option to check.
     */
    private static DetectionResult records(ByteBuf buf, int m, int end, int messageEnd, long progress,
                                           DetectionContext tcp) {
        int authority = buf.getUnsignedByte(m + 9);
        int total = authority + buf.getUnsignedByte(m + 11);
        boolean hasQuestion = buf.getUnsignedByte(m + 5) != 0;
        int index = Progress.index(progress);
        int seen = Progress.seen(progress);
        int p = m + Progress.record(progress);
        if (Progress.stage(progress) == Progress.OPTIONS) {
            int dataEnd = m + Progress.dataEnd(progress);
            int o = options(buf, m, m + Progress.option(progress), dataEnd, end, p, index, seen, tcp);
            if (o < 0) {
                return o == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
            }
            seen |= o & SEEN_COOKIE;
            p = dataEnd;
            index++;
        }
        for (; index < total; index++) {
            int record = p;
            // owner name: labels, possibly ended by a compression pointer to an earlier name
            while (true) {
                if (p >= messageEnd) {
                    return DetectionResult.noMatch();
                }
                if (p >= end) {
                    return waitForRecord(m, record, index, seen, tcp);
                }
                int label = buf.getUnsignedByte(p);
                if ((label & 0xc0) == 0xc0) {
                    if (p + 2 > messageEnd) {
                        return DetectionResult.noMatch();
                    }
                    if (p + 2 > end) {
                        return waitForRecord(m, record, index, seen, tcp);
                    }
                    if (!isBackPointer(buf, m, p)) {
                        return DetectionResult.noMatch();
                    }
                    p += 2;
                    break;
                }
                if (label > MAX_LABEL_LENGTH || p + 1 + label - record > MAX_NAME_LENGTH) {
                    return DetectionResult.noMatch();
                }
                p += 1 + label;
                if (label == 0) {
                    break;
                }
            }
            if (p + RR_FIXED_LENGTH > messageEnd) {
                return DetectionResult.noMatch();
            }
            if (end < p + RR_FIXED_LENGTH) {
                return waitForRecord(m, record, index, seen, tcp);
            }
            int type = buf.getUnsignedShort(p);
            int rclass = buf.getUnsignedShort(p + 2);
            long ttl = buf.getUnsignedInt(p + 4);
            int dataStart = p + RR_FIXED_LENGTH;
            int dataEnd = dataStart + buf.getUnsignedShort(p + 8);
            if (dataEnd > messageEnd) {
                return DetectionResult.noMatch();
            }
            if (index < authority) {
                // the SOA of an IXFR's authority section: MNAME, RNAME, five 32-bit fields
                if (type != TYPE_SOA || dataEnd - dataStart > MAX_SOA_DATA_LENGTH) {
                    return DetectionResult.noMatch();
                }
                if (end < dataEnd) {
                    return waitForRecord(m, record, index, seen, tcp);
                }
                int q = name(buf, m, dataStart, dataEnd);
                q = q < 0 ? q : name(buf, m, q, dataEnd);
                if (q < 0 || q + 20 != dataEnd) {
                    return DetectionResult.noMatch();
                }
            } else if (type == TYPE_OPT) {
                // root owner name; TTL = extended RCODE, version, flags; at most one
                if (p != record + 1 || (ttl & 0xff000000L) != 0 || (seen & SEEN_OPT) != 0) {
                    return DetectionResult.noMatch();
                }
                seen |= SEEN_OPT;
                int o = options(buf, m, dataStart, dataEnd, end, record, index, seen, tcp);
                if (o < 0) {
                    return o == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
                }
                seen |= o & SEEN_COOKIE;
            } else if ((type == TYPE_TSIG || type == TYPE_SIG) && (rclass != CLASS_ANY || ttl != 0)) {
                return DetectionResult.noMatch();
            }
            p = dataEnd;
        }
        if (p != messageEnd || !hasQuestion && (seen & SEEN_COOKIE) == 0) {
            return DetectionResult.noMatch();
        }
        return complete(buf, m, end, messageEnd, tcp);
    }

    private static DetectionResult waitForRecord(int m, int record, int index, int seen, DetectionContext tcp) {
        if (tcp != null) {
            tcp.saveProgress(Progress.of(Progress.RECORDS, record - m, index, 0, 0, seen));
        }
        return DetectionResult.needMore();
    }

    /** Returns whether the compression pointer at {@code p} points back to a name after the header. */
    private static boolean isBackPointer(ByteBuf buf, int m, int p) {
        int target = (buf.getUnsignedShort(p) & 0x3fff) + m;
        return target >= m + HEADER_LENGTH && target < p;
    }

    /**
     * Checks a name inside record data, complete in the buffer: labels ended by the root or by a pointer back.
     *
     * @return the offset after the name, or {@link #NO_MATCH}
     */
    private static int name(ByteBuf buf, int m, int p, int end) {
        int name = p;
        while (true) {
            if (p >= end) {
                return NO_MATCH;
            }
            int label = buf.getUnsignedByte(p);
            if ((label & 0xc0) == 0xc0) {
                return p + 2 <= end && isBackPointer(buf, m, p) ? p + 2 : NO_MATCH;
            }
            if (label > MAX_LABEL_LENGTH || p + 1 + label - name > MAX_NAME_LENGTH) {
                return NO_MATCH;
            }
            p += 1 + label;
            if (label == 0) {
                return p;
            }
        }
    }

    /**
     * Checks the options of an OPT record (RFC 6891 §6.1.2) from the one at {@code o}: each fits in the record data;
     * a COOKIE option (RFC 7873 §4) has a client cookie of 8 bytes, alone or with a server cookie of 8 to 32.
     *
     * @return {@link #SEEN_COOKIE} when a cookie was found, else 0; {@link #NEED_MORE} (having saved where to
     *         resume) or {@link #NO_MATCH}
     */
    private static int options(ByteBuf buf, int m, int o, int dataEnd, int end, int record, int index, int seen,
                               DetectionContext tcp) {
        while (o < dataEnd) {
            if (o + 4 > dataEnd) {
                return NO_MATCH;
            }
            if (end < o + 4) {
                if (tcp != null) {
                    tcp.saveProgress(Progress.of(Progress.OPTIONS, record - m, index, o - m, dataEnd - m, seen));
                }
                return NEED_MORE;
            }
            int code = buf.getUnsignedShort(o);
            int length = buf.getUnsignedShort(o + 2);
            if (code == OPTION_COOKIE) {
                if (length != 8 && (length < 16 || length > 40)) {
                    return NO_MATCH;
                }
                seen |= SEEN_COOKIE;
            }
            o += 4 + length;
            if (o > dataEnd) {
                return NO_MATCH;
            }
        }
        return seen & SEEN_COOKIE;
    }

    /**
     * Checks the TLVs of a DSO message (RFC 8490 §5.4) from the one at {@code t}: a primary TLV of a type other
     * than 0, then any, each fitting in the message, the last one ending it.
     */
    private static DetectionResult dso(ByteBuf buf, int m, int t, int end, int messageEnd, DetectionContext tcp) {
        while (t < messageEnd) {
            if (t + 4 > messageEnd) {
                return DetectionResult.noMatch();
            }
            if (end < t + 4) {
                if (t > m + HEADER_LENGTH) {
                    tcp.saveProgress(Progress.of(Progress.DSO, t - m, 0, 0, 0, 0));
                }
                return DetectionResult.needMore();
            }
            if (t == m + HEADER_LENGTH && buf.getUnsignedShort(t) == 0) {
                return DetectionResult.noMatch();
            }
            t += 4 + buf.getUnsignedShort(t + 2);
        }
        if (t != messageEnd) {
            return DetectionResult.noMatch();
        }
        return complete(buf, m, end, messageEnd, tcp);
    }

    /** The message is valid up to its last bytes, which the detector does not check: wait for them. */
    private static DetectionResult complete(ByteBuf buf, int m, int end, int messageEnd, DetectionContext tcp) {
        if (end < messageEnd) {
            if (tcp != null) {
                tcp.saveProgress(Progress.of(Progress.REST, 0, 0, 0, 0, 0));
            }
            return DetectionResult.needMore();
        }
        if (buf.getUnsignedByte(m + 5) == 0) {
            return DetectionResult.match();
        }
        return DetectionResult.match(ProtocolAttributes.builder().put(QNAME, qname(buf, m + HEADER_LENGTH)).build());
    }

    /** Returns the question name in presentation format. */
    private static String qname(ByteBuf buf, int name) {
        StringBuilder sb = new StringBuilder(64);
        int p = name;
        for (int label = buf.getUnsignedByte(p); label != 0; label = buf.getUnsignedByte(p)) {
            if (sb.length() > 0) {
                sb.append('.');
            }
            for (int i = p + 1; i <= p + label; i++) {
                int b = buf.getUnsignedByte(i);
                if (b >= 'A' && b <= 'Z') {
                    sb.append((char) (b + ('a' - 'A')));
                } else if (b == '.' || b == '\\') {
                    sb.append('\\').append((char) b);
                } else if (b > 0x20 && b < 0x7f) {
                    sb.append((char) b);
                } else {
                    sb.append('\\').append((char) ('0' + b / 100)).append((char) ('0' + b / 10 % 10))
                            .append((char) ('0' + b % 10));
                }
            }
            p += 1 + label;
        }
        return sb.length() == 0 ? "." : sb.toString();
    }

    /**
     * Packs where a call over TCP stopped into the {@code long} that {@link DetectionContext#saveProgress(long)}
     * keeps, {@code 0} meaning "from the beginning" (the header and the question, at most a few hundred bytes, are
     * read again until they are complete). Offsets are from the start of the message, after the length prefix:
     * <ul>
     *   <li>bits 0-15: in {@link #OPTIONS}, the next option of the OPT record to check;</li>
     *   <li>bits 16-31: in {@link #OPTIONS}, the end of the OPT record's data;</li>
     *   <li>bits 32-47: in {@link #RECORDS} and {@link #OPTIONS}, the start of the record being read; in
     *       {@link #DSO}, the next TLV;</li>
     *   <li>bits 48-50: the index of that record among the authority and additional records; bits 51-52: the
     *       {@code SEEN_*} flags; bits 53-55: the stage.</li>
     * </ul>
     */
    private static final class Progress {

        /** Nothing saved. */
        static final int START = 0;
        /** Header, question and the records before the saved one are valid; that record is being read. */
        static final int RECORDS = 1;
        /** Header, question and the OPT record's fixed part are valid; its options are being checked. */
        static final int OPTIONS = 2;
        /** Everything the detector checks is valid; it waits for the rest of the message. */
        static final int REST = 3;
        /** The header of a DSO message and the TLVs before the saved one are valid. */
        static final int DSO = 4;

        private Progress() {
        }

        static long of(int stage, int record, int index, int option, int dataEnd, int seen) {
            return option | (long) dataEnd << 16 | (long) record << 32 | (long) index << 48 | (long) seen << 51
                    | (long) stage << 53;
        }

        static int option(long progress) {
            return (int) progress & 0xffff;
        }

        static int dataEnd(long progress) {
            return (int) (progress >>> 16) & 0xffff;
        }

        static int record(long progress) {
            return (int) (progress >>> 32) & 0xffff;
        }

        static int index(long progress) {
            return (int) (progress >>> 48) & 7;
        }

        static int seen(long progress) {
            return (int) (progress >>> 51) & 3;
        }

        static int stage(long progress) {
            return (int) (progress >>> 53) & 7;
        }
    }
}
