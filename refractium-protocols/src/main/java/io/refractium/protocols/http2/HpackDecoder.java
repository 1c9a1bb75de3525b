package io.refractium.protocols.http2;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes the first header block of an HTTP/2 connection (HPACK, RFC 7541) far enough to find {@code :authority},
 * {@code host}, {@code :method}, {@code :path} and {@code content-type}.
 *
 * <p>It handles every representation (RFC 7541 §6): indexed fields from the static table (Appendix A) and from the
 * dynamic table, literals with incremental indexing, without indexing and never indexed, with a literal or an
 * indexed name, and dynamic table size updates; strings raw or Huffman-coded (Appendix B). The dynamic table is
 * the one the block itself fills (the first block of a connection starts with an empty table of 4,096 bytes, the
 * default {@code SETTINGS_HEADER_TABLE_SIZE}), kept exactly, evictions included, with the values of the five fields
 * above and only the sizes of the others. Values of other fields that are not added to the table are skipped
 * without being decoded.
 *
 * <p>Not thread-safe: each thread has its own instance ({@link #current()}), whose arrays are reused from one block
 * to the next; a block costs no allocation but the strings of the attributes. The arrays grow with the largest
 * block a thread has decoded, to about 2.6 times {@link Http2Detector#MAX_BYTES} at most (84 KiB per thread).
 */
final class HpackDecoder {

    /** The block decoded completely, or up to its end for an incomplete block. */
    static final int OK = 0;
    /** The block is malformed: a decoding error (RFC 7541), which the server treats as a connection error. */
    static final int MALFORMED = 1;

    private static final ThreadLocal<HpackDecoder> DECODERS = ThreadLocal.withInitial(HpackDecoder::new);

    /** The table size a connection starts with (RFC 9113 §6.5.2) and the most a size update may ask for. */
    private static final int MAX_TABLE_SIZE = 4096;
    /** Entries hold at least 32 bytes, so the table holds at most this many. */
    private static final int MAX_ENTRIES = MAX_TABLE_SIZE / 32;
    private static final int ENTRY_OVERHEAD = 32;

    private static final int OTHER = 0;
    private static final int AUTHORITY = 1;
    private static final int METHOD = 2;
    private static final int PATH = 3;
    private static final int HOST = 4;
    private static final int CONTENT_TYPE = 5;
    private static final byte[][] NAMES = {
        null, ascii(":authority"), ascii(":method"), ascii(":path"), ascii("host"), ascii("content-type"),
    };

    /** The static table, RFC 7541 Appendix A: names, then values, from index 1. */
    private static final String[] STATIC_NAMES = {
        null, ":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme", ":status", ":status",
        ":status", ":status", ":status", ":status", ":status", "accept-charset", "accept-encoding", "accept-language",
        "accept-ranges", "accept", "access-control-allow-origin", "age", "allow", "authorization", "cache-control",
        "content-disposition", "content-encoding", "content-language", "content-length", "content-location",
        "content-range", "content-type", "cookie", "date", "etag", "expect", "expires", "from", "host", "if-match",
        "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link", "location",
        "max-forwards", "proxy-authenticate", "proxy-authorization", "range", "referer", "refresh", "retry-after",
        "server", "set-cookie", "strict-transport-security", "transfer-encoding", "user-agent", "vary", "via",
        "www-authenticate",
    };
    private static final String[] STATIC_VALUES = new String[STATIC_NAMES.length];
    private static final int[] STATIC_NAME_IDS = new int[STATIC_NAMES.length];
    static final int STATIC_TABLE_LENGTH = STATIC_NAMES.length - 1;

    static {
        STATIC_VALUES[2] = "GET";
        STATIC_VALUES[3] = "POST";
        STATIC_VALUES[4] = "/";
        STATIC_VALUES[5] = "/index.html";
        STATIC_VALUES[6] = "http";
        STATIC_VALUES[7] = "https";
        String[] status = {"200", "204", "206", "304", "400", "404", "500"};
        System.arraycopy(status, 0, STATIC_VALUES, 8, status.length);
        STATIC_VALUES[16] = "gzip, deflate";
        for (int i = 1; i < STATIC_NAMES.length; i++) {
            for (int id = 1; id < NAMES.length; id++) {
                if (STATIC_NAMES[i].equals(new String(NAMES[id], StandardCharsets.US_ASCII))) {
                    STATIC_NAME_IDS[i] = id;
                }
            }
        }
    }

    private static final String GRPC = "application/grpc";

    private byte[] block = new byte[512];
    private int blockLength;
    /** Decoded strings: the values kept, one after the other, and scratch space after them. */
    private byte[] out = new byte[1024];
    private int outLength;
    private int position;

    // the dynamic table, a ring of entries; the newest at head
    private final int[] entryName = new int[MAX_ENTRIES];
    private final int[] entrySize = new int[MAX_ENTRIES];
    private final int[] entryValueOffset = new int[MAX_ENTRIES];
    private final int[] entryValueLength = new int[MAX_ENTRIES];
    private int head;
    private int entries;
    private int tableSize;
    private int maxTableSize;

    // the first value of each interesting field: a constant from the static table, or a range of out
    private final String[] valueConstant = new String[NAMES.length];
    private final int[] valueOffset = new int[NAMES.length];
    private final int[] valueLength = new int[NAMES.length];

    private HpackDecoder() {
    }

    /** Returns this thread's decoder, emptied. */
    static HpackDecoder current() {
        HpackDecoder d = DECODERS.get();
        d.blockLength = 0;
        d.outLength = 0;
        d.head = 0;
        d.entries = 0;
        d.tableSize = 0;
        d.maxTableSize = MAX_TABLE_SIZE;
        for (int i = 0; i < NAMES.length; i++) {
            d.valueConstant[i] = null;
            d.valueOffset[i] = -1;
        }
        return d;
    }

    /** Appends a fragment of the header block. */
    void append(ByteBuf buf, int index, int length) {
        if (blockLength + length > block.length) {
            byte[] bigger = new byte[Math.max(blockLength + length, block.length * 2)];
            System.arraycopy(block, 0, bigger, 0, blockLength);
            block = bigger;
        }
        buf.getBytes(index, block, blockLength, length);
        blockLength += length;
    }

    /**
     * Decodes the block appended so far.
     *
     * @param complete whether the block is complete; when it is not, a field cut by the end of the bytes ends the
     *                 decoding with what came before it
     * @return {@link #OK} or {@link #MALFORMED}
     */
    int decode(boolean complete) {
        // each decoded string is at most 8/5 of its coded length (the shortest code has 5 bits)
        int room = blockLength * 8 / 5 + 16;
        if (out.length < room) {
            out = new byte[room];
        }
        position = 0;
        boolean fieldSeen = false;
        while (position < blockLength) {
            int b = block[position] & 0xff;
            int r;
            if (b >= 0x80) {
                r = indexed();
            } else if (b >= 0x40) {
                r = literal(6, true);
            } else if (b >= 0x20) {
                // a dynamic table size update, only at the start of a block (RFC 7541 §4.2)
                int size = integer(5);
                if (size == TRUNCATED) {
                    r = TRUNCATED;
                } else if (fieldSeen || size < 0 || size > MAX_TABLE_SIZE) {
                    r = MALFORMED;
                } else {
                    maxTableSize = size;
                    evict(0);
                    continue;
                }
            } else {
                r = literal(4, false);
            }
            if (r == TRUNCATED) {
                return complete ? MALFORMED : OK;
            }
            if (r != OK) {
                return MALFORMED;
            }
            fieldSeen = true;
        }
        return OK;
    }

    private static final int TRUNCATED = -1;
    private static final int TOO_LARGE = -2;

    /** Reads an integer with an N-bit prefix (RFC 7541 §5.1), or returns {@link #TRUNCATED} or {@link #TOO_LARGE}. */
    private int integer(int prefixBits) {
        int mask = (1 << prefixBits) - 1;
        int value = block[position++] & mask;
        if (value < mask) {
            return value;
        }
        for (int shift = 0; ; shift += 7) {
            if (position >= blockLength) {
                return TRUNCATED;
            }
            int b = block[position++];
            if (shift > 21) {
                return TOO_LARGE;
            }
            value += (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
    }

    /** An indexed field (RFC 7541 §6.1). */
    private int indexed() {
        int index = integer(7);
        if (index == TRUNCATED) {
            return TRUNCATED;
        }
        if (index <= 0) {
            return MALFORMED;
        }
        if (index <= STATIC_TABLE_LENGTH) {
            int name = STATIC_NAME_IDS[index];
            if (name != OTHER && valueConstant[name] == null && valueOffset[name] < 0) {
                if (STATIC_VALUES[index] == null) {
                    valueOffset[name] = 0; // an empty value
                    valueLength[name] = 0;
                } else {
                    valueConstant[name] = STATIC_VALUES[index];
                }
            }
            return OK;
        }
        int entry = entry(index);
        if (entry < 0) {
            return MALFORMED;
        }
        int name = entryName[entry];
        if (name != OTHER) {
            keep(name, entryValueOffset[entry], entryValueLength[entry]);
        }
        return OK;
    }

    /** A literal field (RFC 7541 §6.2), added to the dynamic table or not. */
    private int literal(int prefixBits, boolean add) {
        int index = integer(prefixBits);
        if (index == TRUNCATED) {
            return TRUNCATED;
        }
        if (index < 0) {
            return MALFORMED;
        }
        int name;
        int nameLength;
        if (index == 0) {
            if (position >= blockLength) {
                return TRUNCATED;
            }
            boolean huffman = (block[position] & 0x80) != 0;
            int length = stringLength();
            if (length < 0) {
                return length == TRUNCATED ? TRUNCATED : MALFORMED;
            }
            if (huffman) {
                nameLength = Huffman.decode(block, position, length, out, outLength);
                if (nameLength < 0) {
                    return MALFORMED;
                }
                name = nameId(out, outLength, nameLength);
            } else {
                nameLength = length;
                name = nameId(block, position, length);
            }
            position += length;
        } else if (index <= STATIC_TABLE_LENGTH) {
            name = STATIC_NAME_IDS[index];
            nameLength = STATIC_NAMES[index].length();
        } else {
            int entry = entry(index);
            if (entry < 0) {
                return MALFORMED;
            }
            name = entryName[entry];
            nameLength = entrySize[entry] - ENTRY_OVERHEAD - entryValueLength[entry];
        }

        if (position >= blockLength) {
            return TRUNCATED;
        }
        boolean huffman = (block[position] & 0x80) != 0;
        int length = stringLength();
        if (length < 0) {
            return length == TRUNCATED ? TRUNCATED : MALFORMED;
        }
        int valueLength;
        int offset = outLength;
        if (name != OTHER || add) {
            if (huffman) {
                valueLength = Huffman.decode(block, position, length, out, outLength);
                if (valueLength < 0) {
                    return MALFORMED;
                }
            } else {
                valueLength = length;
                if (name != OTHER) {
                    System.arraycopy(block, position, out, outLength, length);
                }
            }
            if (name != OTHER) {
                outLength += valueLength;
                keep(name, offset, valueLength);
            }
            if (add) {
                add(name, nameLength, offset, valueLength);
            }
        }
        position += length;
        return OK;
    }

    /**
     * Reads the length of a string literal (RFC 7541 §5.2), at least one byte of which is there, and checks that
     * the string is there; leaves the position at its first byte.
     */
    private int stringLength() {
        int length = integer(7);
        if (length < 0) {
            return length;
        }
        return length > blockLength - position ? TRUNCATED : length;
    }

    /** Returns the slot of the dynamic table entry at an index past the static table, or -1. */
    private int entry(int index) {
        int d = index - STATIC_TABLE_LENGTH - 1;
        return d < entries ? (head - d) & (MAX_ENTRIES - 1) : -1;
    }

    /** Adds an entry, evicting the oldest ones to make room (RFC 7541 §4.4). */
    private void add(int name, int nameLength, int valueOffset, int valueLength) {
        int size = nameLength + valueLength + ENTRY_OVERHEAD;
        if (size > maxTableSize) {
            evict(maxTableSize);
            return;
        }
        evict(size);
        head = (head + 1) & (MAX_ENTRIES - 1);
        entries++;
        tableSize += size;
        entryName[head] = name;
        entrySize[head] = size;
        entryValueOffset[head] = valueOffset;
        entryValueLength[head] = valueLength;
    }

    /** Evicts the oldest entries until {@code room} more bytes fit. */
    private void evict(int room) {
        while (entries > 0 && tableSize + room > maxTableSize) {
            int oldest = (head - entries + 1) & (MAX_ENTRIES - 1);
            tableSize -= entrySize[oldest];
            entries--;
        }
    }

    private void keep(int name, int offset, int length) {
        if (valueConstant[name] == null && valueOffset[name] < 0) {
            valueOffset[name] = offset;
            valueLength[name] = length;
        }
    }

    private static int nameId(byte[] bytes, int offset, int length) {
        for (int id = 1; id < NAMES.length; id++) {
            byte[] n = NAMES[id];
            if (n.length == length && Arrays.equals(bytes, offset, offset + length, n, 0, length)) {
                return id;
            }
        }
        return OTHER;
    }

    /** Returns the attributes: the version, and the method, path, host and gRPC flag when the block gave them. */
    ProtocolAttributes attributes() {
        String host = valueOffset[AUTHORITY] >= 0 ? host(valueOffset[AUTHORITY], valueLength[AUTHORITY], true) : null;
        if (host == null && valueOffset[HOST] >= 0) {
            host = host(valueOffset[HOST], valueLength[HOST], false);
        }
        return ProtocolAttributes.builder()
                .put(AttributeKey.HTTP_VERSION, Http2Detector.HTTP_2_0)
                .put(AttributeKey.HTTP_METHOD, string(METHOD))
                .put(AttributeKey.HTTP_PATH, string(PATH))
                .put(AttributeKey.HTTP_HOST, host)
                .put(Http2Detector.GRPC, isGrpc() ? Boolean.TRUE : null)
                .build();
    }

    private String string(int name) {
        if (valueConstant[name] != null) {
            return valueConstant[name];
        }
        int length = valueLength[name];
        if (valueOffset[name] < 0 || length == 0) {
            return null;
        }
        int offset = valueOffset[name];
        if (name == METHOD) {
            if (length == 3 && out[offset] == 'G' && out[offset + 1] == 'E' && out[offset + 2] == 'T') {
                return "GET";
            }
        } else if (length == 1 && out[offset] == '/') {
            return "/";
        }
        return new String(out, offset, length, StandardCharsets.ISO_8859_1);
    }

    /** Whether the content type is {@code application/grpc}, alone or followed by {@code +} or {@code ;}. */
    private boolean isGrpc() {
        int offset = valueOffset[CONTENT_TYPE];
        int length = valueLength[CONTENT_TYPE];
        if (offset < 0 || length < GRPC.length()) {
            return false;
        }
        for (int i = 0; i < GRPC.length(); i++) {
            if (out[offset + i] != GRPC.charAt(i)) {
                return false;
            }
        }
        return length == GRPC.length() || out[offset + GRPC.length()] == '+' || out[offset + GRPC.length()] == ';';
    }

    /**
     * Returns the host of an authority ({@code [userinfo@]host[:port]}, brackets around an IPv6 literal) or of a
     * {@code host} value, lower-case, without the port and a trailing dot; {@code null} when empty or holding bytes
     * outside printable ASCII.
     */
    private String host(int start, int length, boolean authority) {
        int end = start + length;
        if (!authority) {
            while (start < end && (out[start] == ' ' || out[start] == '\t')) {
                start++;
            }
            while (end > start && (out[end - 1] == ' ' || out[end - 1] == '\t')) {
                end--;
            }
        }
        for (int i = end - 1; i >= start; i--) {
            if (out[i] == '@') {
                start = i + 1;
                break;
            }
        }
        if (start >= end) {
            return null;
        }
        int hostStart = start;
        int hostEnd = end;
        if (out[start] == '[') {
            hostStart = start + 1;
            hostEnd = -1;
            for (int i = hostStart; i < end; i++) {
                if (out[i] == ']') {
                    hostEnd = i;
                    break;
                }
            }
            if (hostEnd < 0) {
                return null;
            }
        } else {
            for (int i = start; i < end; i++) {
                if (out[i] == ':') {
                    hostEnd = i;
                    break;
                }
            }
        }
        if (hostEnd > hostStart && out[hostEnd - 1] == '.') {
            hostEnd--;
        }
        if (hostEnd <= hostStart) {
            return null;
        }
        for (int i = hostStart; i < hostEnd; i++) {
            int b = out[i];
            if (b < 0x21 || b > 0x7e) {
                return null;
            }
            if (b >= 'A' && b <= 'Z') {
                out[i] = (byte) (b + ('a' - 'A'));
            }
        }
        return new String(out, hostStart, hostEnd - hostStart, StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
