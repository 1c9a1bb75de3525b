package io.refractium.protocols.http2;

import java.util.Arrays;

/**
 * The HPACK Huffman code (RFC 7541 §5.2 and Appendix B), decoding only.
 *
 * <p>The code is canonical: within a length, codes follow the order of the symbols, and the codes of each length
 * start right after the last code of the length before, shifted left. So the table is just the code length of each
 * of the 257 symbols (256 octets and EOS). A code of up to 10 bits is decoded by looking up the next 10 bits in a
 * table; a longer one by comparing a window of the next 32 bits with the first code too large for each length,
 * shortest first.
 *
 * <p>Stateless and thread-safe; decoding allocates nothing.
 */
final class Huffman {

    /** The code length in bits of each symbol, 0 to 255 then EOS (256), from RFC 7541 Appendix B. */
    private static final byte[] LENGTHS = {
        // 0-15
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        // 16-31
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        // 32-47
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        // 48-63
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        // 64-79
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        // 80-95
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        // 96-111
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        // 112-127
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        // 128-143
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        // 144-159
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        // 160-175
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        // 176-191
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        // 192-207
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        // 208-223
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        // 224-239
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        // 240-255
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        // 256-256
        30,
    };

    static final int EOS = 256;
    private static final int MAX_LENGTH = 30;

    /** The symbols ordered by code length, then by value: the order of their codes. */
    private static final short[] SYMBOLS = new short[257];
    /** For each length, the first code of that length. */
    private static final int[] FIRST = new int[MAX_LENGTH + 1];
    /** For each length, the index in {@link #SYMBOLS} of the symbol with the first code of that length. */
    private static final int[] BASE = new int[MAX_LENGTH + 1];
    /**
     * For each length, the first code too large for it, left-aligned in 32 bits: a 32-bit window below it starts
     * with a code of that length or shorter.
     */
    private static final long[] LIMIT = new long[MAX_LENGTH + 1];

    /** The bits of the window that {@link #FAST} looks up. */
    private static final int FAST_BITS = 10;
    /**
     * For each value of the next {@value #FAST_BITS} bits that starts with a code of at most that many bits (all the
     * letters, digits and common punctuation), the symbol shifted left by 4 and the code length; else 0.
     */
    private static final short[] FAST = new short[1 << FAST_BITS];

    static {
        int index = 0;
        int code = 0;
        for (int length = 1; length <= MAX_LENGTH; length++) {
            FIRST[length] = code;
            BASE[length] = index;
            for (int symbol = 0; symbol <= EOS; symbol++) {
                if (LENGTHS[symbol] == length) {
                    SYMBOLS[index++] = (short) symbol;
                    if (length <= FAST_BITS) {
                        int from = code << (FAST_BITS - length);
                        Arrays.fill(FAST, from, from + (1 << (FAST_BITS - length)), (short) (symbol << 4 | length));
                    }
                    code++;
                }
            }
            LIMIT[length] = (long) code << (32 - length);
            code <<= 1;
        }
        if (index != SYMBOLS.length || LIMIT[MAX_LENGTH] != 1L << 32) {
            throw new AssertionError("not a complete canonical code");
        }
    }

    private Huffman() {
    }

    /**
     * Returns the code length of a symbol, for tests.
     *
     * @param symbol 0 to 256
     * @return the length in bits
     */
    static int codeLength(int symbol) {
        return LENGTHS[symbol];
    }

    /**
     * Decodes a Huffman-coded string into {@code dst}, which must have room for {@code length * 8 / 5} bytes.
     *
     * @return the decoded length, or -1 when the string is malformed: an EOS symbol, or padding longer than 7 bits
     *         or not made of the most significant bits of EOS (RFC 7541 §5.2)
     */
    static int decode(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
        int in = offset;
        int inEnd = offset + length;
        int out = dstOffset;
        long bits = 0; // the next bits, left-aligned: count of them from the most significant one, then zeros
        int count = 0;
        while (true) {
            while (count <= 56 && in < inEnd) {
                bits |= (long) (src[in++] & 0xff) << (56 - count);
                count += 8;
            }
            if (count == 0) {
                return out - dstOffset;
            }
            // the next 32 bits, padded with ones past the end
            long window = bits >>> 32;
            if (count < 32) {
                window |= 0xffffffffL >>> count;
            }
            int fast = FAST[(int) (window >>> (32 - FAST_BITS))];
            int codeLength;
            int symbol;
            if (fast != 0) {
                codeLength = fast & 0xf;
                symbol = fast >>> 4;
            } else {
                codeLength = FAST_BITS + 1;
                while (window >= LIMIT[codeLength]) {
                    codeLength++;
                }
                symbol = SYMBOLS[BASE[codeLength] + (int) (window >>> (32 - codeLength)) - FIRST[codeLength]];
            }
            if (codeLength > count) {
                // padding: at most 7 bits, all ones (then the padded window is all ones)
                return count <= 7 && window == 0xffffffffL ? out - dstOffset : -1;
            }
            if (symbol == EOS) {
                return -1;
            }
            dst[out++] = (byte) symbol;
            bits <<= codeLength;
            count -= codeLength;
        }
    }
}
