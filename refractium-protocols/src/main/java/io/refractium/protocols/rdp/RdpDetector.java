package io.refractium.protocols.rdp;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects a Microsoft RDP client by its first packet, an X.224 Connection Request in a TPKT ([MS-RDPBCGR] §2.2.1.1).
 *
 * <p>The rules: TPKT version 3, reserved 0, a length of 11 to {@value #MAX_BYTES} (RFC 1006 §6); the X.224 length
 * indicator equal to the TPKT length minus 5; the CR TPDU code {@code 0xE0} (credit 0), destination reference 0,
 * any source reference, class 0 (ITU-T X.224 §13.3). The variable part may start with a routing token or
 * {@code Cookie: mstshash=IDENTIFIER\r\n}, and may end with an RDP Negotiation Request (type 1, length 8). The
 * detector answers {@link DetectionResult#match(ProtocolAttributes) MATCH} once the whole TPKT is there,
 * {@link DetectionResult#needMore() NEED_MORE} before, and {@link DetectionResult#noMatch() NO_MATCH} at the first
 * byte of the headers that breaks a rule.
 *
 * <p>Attribute of a match: {@link #COOKIE}, the {@code mstshash} value, when present.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class RdpDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "rdp";

    /** The longest Connection Request accepted, {@value} bytes. */
    public static final int MAX_BYTES = 1024;

    /** The {@code Cookie: mstshash=} value (usually the user name the client was given). */
    public static final AttributeKey<String> COOKIE = AttributeKey.of("rdp.cookie", String.class);

    private static final byte[] COOKIE_PREFIX = "Cookie: mstshash=".getBytes(StandardCharsets.US_ASCII);
    private static final int VARIABLE_START = 11;

    /** Creates the detector. */
    public RdpDetector() {
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
     * Returns {@value #MAX_BYTES}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the Connection Request received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context unused
     * @return {@code MATCH} with the cookie, {@code NEED_MORE} while the bytes are a valid prefix, {@code NO_MATCH}
     *         otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int available = buf.writerIndex() - start;
        int length = 0;
        for (int n = 0; n < VARIABLE_START; n++) {
            if (n >= available) {
                return DetectionResult.needMore();
            }
            int b = buf.getUnsignedByte(start + n);
            boolean valid = switch (n) {
                case 0 -> b == 3;
                case 1 -> b == 0;
                case 2 -> b <= MAX_BYTES >>> 8;
                case 3 -> (length = buf.getUnsignedShort(start + 2)) >= VARIABLE_START && length <= MAX_BYTES;
                case 4 -> b == length - 5;
                case 5 -> b == 0xe0;
                case 6, 7 -> b == 0;
                case 10 -> b == 0;
                default -> true;
            };
            if (!valid) {
                return DetectionResult.noMatch();
            }
        }
        if (available < length) {
            return DetectionResult.needMore();
        }
        return DetectionResult.match(ProtocolAttributes.builder().put(COOKIE, cookie(buf, start, length)).build());
    }

    private static String cookie(ByteBuf buf, int start, int length) {
        int at = start + VARIABLE_START;
        int end = start + length;
        if (end - at < COOKIE_PREFIX.length) {
            return null;
        }
        for (int k = 0; k < COOKIE_PREFIX.length; k++) {
            if (buf.getByte(at + k) != COOKIE_PREFIX[k]) {
                return null;
            }
        }
        int value = at + COOKIE_PREFIX.length;
        for (int i = value; i + 1 < end; i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n') {
                return buf.toString(value, i - value, StandardCharsets.US_ASCII);
            }
        }
        return null;
    }
}
