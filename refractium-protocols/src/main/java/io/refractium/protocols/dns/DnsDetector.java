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
 * message per datagram, RFC 1035 §4.2.1), and reports the name it asks about.
 *
 * <p>DNS has no magic bytes, so the detector checks the message closely enough that random bytes and other
 * protocols do not pass (RFC 1035 §4.1):
 * <ul>
 *   <li>a message of at least 17 bytes (header, root name, type and class); over TCP the length prefix says so, and
 *       the detector waits for the whole message;</li>
 *   <li>header: QR 0 (a request), opcode QUERY (0), NOTIFY (4, RFC 1996) or UPDATE (5, RFC 2136), the Z bit 0,
 *       RCODE 0, exactly one question (zone for UPDATE); a QUERY has no answer or authority records and at most one
 *       additional record (the EDNS OPT record, RFC 6891 §6.1.1);</li>
 *   <li>question: a name of labels of at most 63 bytes and 255 bytes in all, without compression pointers; a type
 *       other than 0 (SOA for the zone of an UPDATE, RFC 2136 §2.3); class IN, CH, HS or ANY;</li>
 *   <li>a QUERY ends exactly with its question, or with its one additional record (an OPT record with the root
 *       name, extended RCODE 0 and well-formed options); the message of a NOTIFY or UPDATE holds at least its
 *       question.</li>
 * </ul>
 * Answers are {@link DetectionResult#noMatch() NO_MATCH} on the first byte that breaks a rule,
 * {@link DetectionResult#needMore() NEED_MORE} (over TCP only) while the message is incomplete, and
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} on its last byte. The priority, {@value #PRIORITY}, is
 * below the other built-in detectors: DNS over TCP cannot be ruled out on its first byte.
 *
 * <p>Attribute of a match: {@link #QNAME}.
 *
 * <p>Over TCP each call resumes where the previous one on the same connection stopped
 * ({@link DetectionContext#progress()}) once the header and the question are complete: in the options of the OPT
 * record, or waiting for the rest of the message; so a message of up to 64 KiB that arrives one byte per read costs
 * time linear in its length, not quadratic. Without a saved progress each call starts from the beginning, with the
 * same answers.
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
    private static final int TYPE_SOA = 6;
    private static final int TYPE_OPT = 41;
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
     * @param buf the first bytes of the connection (TCP) or the first datagram (UDP), from its reader index to its
     *        writer index; not modified
     * @param context gives the transport (over UDP the buffer is the whole message, without a length prefix) and,
     *        over TCP, where the previous call stopped
     * @return {@code MATCH} with the question name, {@code NEED_MORE} (TCP only) while the bytes are a valid prefix
     *         of a request, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (context.transport() == Transport.UDP) {
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
        if (length < MIN_MESSAGE_LENGTH) {
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
        if (Progress.stage(progress) == Progress.OPTIONS) {
            int p = options(buf, m, m + Progress.option(progress), m + Progress.dataEnd(progress), end, tcp);
            if (p < 0) {
                return p == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
            }
            return p != messageEnd ? DetectionResult.noMatch() : complete(buf, m, end, messageEnd, tcp);
        }
        if (Progress.stage(progress) == Progress.REST) {
            return complete(buf, m, end, messageEnd, tcp);
        }
        // ID (2 bytes, any), then QR|Opcode|AA|TC|RD
        if (end <= m + 2) {
            return DetectionResult.needMore();
        }
        int flags = buf.getUnsignedByte(m + 2);
        int opcode = flags >>> 3 & 0xf;
        if ((flags & 0x80) != 0 || opcode != OPCODE_QUERY && opcode != OPCODE_NOTIFY && opcode != OPCODE_UPDATE) {
            return DetectionResult.noMatch();
        }
        // RA|Z|AD|CD|RCODE
        if (end <= m + 3) {
            return DetectionResult.needMore();
        }
        if ((buf.getUnsignedByte(m + 3) & 0x4f) != 0) {
            return DetectionResult.noMatch();
        }
        // QDCOUNT == 1; for QUERY: ANCOUNT == 0, NSCOUNT == 0, ARCOUNT <= 1
        int countsEnd = opcode == OPCODE_QUERY ? m + HEADER_LENGTH : m + 6;
        for (int i = m + 4; i < countsEnd; i++) {
            if (i >= end) {
                return DetectionResult.needMore();
            }
            int b = buf.getUnsignedByte(i);
            int max = i == m + 5 || i == m + 11 ? 1 : 0;
            if (b > max || i == m + 5 && b != 1) {
                return DetectionResult.noMatch();
            }
        }
        boolean query = opcode == OPCODE_QUERY;
        int additional = query ? buf.getUnsignedByte(m + 11) : 0;

        // question: QNAME, QTYPE, QCLASS
        int name = m + HEADER_LENGTH;
        int p = name;
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
        if (type == 0 || opcode == OPCODE_UPDATE && type != TYPE_SOA) {
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

        if (query) {
            if (additional == 1) {
                p = additionalRecord(buf, m, p, end, messageEnd, tcp);
                if (p < 0) {
                    return p == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
                }
            }
            if (p != messageEnd) {
                return DetectionResult.noMatch();
            }
        }
        return complete(buf, m, end, messageEnd, tcp);
    }

    /** The message is valid up to its last bytes, which the detector does not check: wait for them. */
    private static DetectionResult complete(ByteBuf buf, int m, int end, int messageEnd, DetectionContext tcp) {
        if (end < messageEnd) {
            if (tcp != null) {
                tcp.saveProgress(Progress.of(Progress.REST, 0, 0));
            }
            return DetectionResult.needMore();
        }
        return DetectionResult.match(ProtocolAttributes.builder().put(QNAME, qname(buf, m + HEADER_LENGTH)).build());
    }

    /**
     * Parses the additional record of a QUERY; an OPT record must have the root name, extended RCODE 0 and
     * well-formed options (RFC 6891 §6.1).
     *
     * @return the offset after the record, {@link #NEED_MORE} or {@link #NO_MATCH}
     */
    private static int additionalRecord(ByteBuf buf, int m, int p, int end, int messageEnd, DetectionContext tcp) {
        int name = p;
        while (true) {
            if (p >= messageEnd) {
                return NO_MATCH;
            }
            if (p >= end) {
                return NEED_MORE;
            }
            int label = buf.getUnsignedByte(p);
            if ((label & 0xc0) == 0xc0) {
                // a compression pointer to an earlier name in the message ends the name
                if (p + 2 > messageEnd) {
                    return NO_MATCH;
                }
                if (p + 2 > end) {
                    return NEED_MORE;
                }
                int target = (buf.getUnsignedShort(p) & 0x3fff) + m;
                if (target < m + HEADER_LENGTH || target >= name) {
                    return NO_MATCH;
                }
                p += 2;
                break;
            }
            if (label > MAX_LABEL_LENGTH || p + 1 + label - name > MAX_NAME_LENGTH) {
                return NO_MATCH;
            }
            p += 1 + label;
            if (label == 0) {
                break;
            }
        }
        if (p + RR_FIXED_LENGTH > messageEnd) {
            return NO_MATCH;
        }
        if (end < p + RR_FIXED_LENGTH) {
            return NEED_MORE;
        }
        int type = buf.getUnsignedShort(p);
        int dataStart = p + RR_FIXED_LENGTH;
        int dataEnd = dataStart + buf.getUnsignedShort(p + 8);
        if (dataEnd > messageEnd) {
            return NO_MATCH;
        }
        if (type == TYPE_OPT) {
            // root owner name; TTL = extended RCODE, version, flags
            if (p != name + 1 || buf.getUnsignedByte(p + 4) != 0) {
                return NO_MATCH;
            }
            return options(buf, m, dataStart, dataEnd, end, tcp);
        }
        return dataEnd;
    }

    /**
     * Checks the options of an OPT record (RFC 6891 §6.1.2) from the one at {@code o}: each fits in the record data.
     *
     * @return the end of the record data, {@link #NEED_MORE} (having saved where to resume) or {@link #NO_MATCH}
     */
    private static int options(ByteBuf buf, int m, int o, int dataEnd, int end, DetectionContext tcp) {
        while (o < dataEnd) {
            if (o + 4 > dataEnd) {
                return NO_MATCH;
            }
            if (end < o + 4) {
                if (tcp != null) {
                    tcp.saveProgress(Progress.of(Progress.OPTIONS, o - m, dataEnd - m));
                }
                return NEED_MORE;
            }
            o += 4 + buf.getUnsignedShort(o + 2);
            if (o > dataEnd) {
                return NO_MATCH;
            }
        }
        return dataEnd;
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
     *   <li>bits 32-33: the stage.</li>
     * </ul>
     */
    private static final class Progress {

        /** Nothing saved. */
        static final int START = 0;
        /** Header, question and the OPT record's fixed part are valid; its options are being checked. */
        static final int OPTIONS = 1;
        /** Everything the detector checks is valid; it waits for the rest of the message. */
        static final int REST = 2;

        private Progress() {
        }

        static long of(int stage, int option, int dataEnd) {
            return option | (long) dataEnd << 16 | (long) stage << 32;
        }

        static int option(long progress) {
            return (int) progress & 0xffff;
        }

        static int dataEnd(long progress) {
            return (int) (progress >>> 16) & 0xffff;
        }

        static int stage(long progress) {
            return (int) (progress >>> 32) & 3;
        }
    }
}
