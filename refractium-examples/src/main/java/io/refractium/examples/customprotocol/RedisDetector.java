package io.refractium.examples.customprotocol;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;

/**
 * Detects Redis clients by the first command they send, a RESP array of bulk strings, and reports the command name.
 *
 * <p>A client library sends every command as {@code *<count>\r\n$<length>\r\n<name>\r\n...}
 * (<a href="https://redis.io/docs/latest/develop/reference/protocol-spec/">RESP</a>): an array of one or more
 * bulk strings whose first element is the command name. This detector checks that prefix strictly, byte by byte:
 * <ul>
 *   <li>{@code *}, then an element count of 1 to 1048576 in decimal without a leading zero, then {@code \r\n};</li>
 *   <li>{@code $}, then the name's length, 1 to {@value #MAX_NAME_LENGTH}, without a leading zero, then
 *       {@code \r\n};</li>
 *   <li>the name: a letter, then letters, digits, {@code -} or {@code _} (e.g. {@code PING}, {@code HELLO},
 *       {@code CLIENT}), then {@code \r\n}.</li>
 * </ul>
 * It answers {@code NO_MATCH} at the first byte that breaks these rules, {@code NEED_MORE} while the bytes are a
 * valid prefix, and {@code MATCH} with {@link #COMMAND} (the name in upper case) once the name's {@code \r\n} is
 * there. Inline commands ({@code PING\r\n} typed into telnet) are not detected: they are indistinguishable from
 * many text protocols.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters and never changes its indexes or
 * reference count. Registered for {@code discoverProtocols()} in
 * {@code META-INF/services/io.refractium.spi.RefractiumProtocol}, with the id {@value #ID}.
 */
public final class RedisDetector implements RefractiumProtocol {

    /** The protocol id routes use. */
    public static final String ID = "redis";

    /** The command name of the first command, upper case, e.g. {@code "PING"} or {@code "HELLO"}. */
    public static final AttributeKey<String> COMMAND = AttributeKey.of("redis.command", String.class);

    /** The longest command name accepted. */
    public static final int MAX_NAME_LENGTH = 32;

    private static final int NEED_MORE = -1;
    private static final int NO_MATCH = -2;
    private static final int MAX_ELEMENTS = 1024 * 1024;
    private static final int MAX_COUNT_DIGITS = 7;
    private static final int MAX_LENGTH_DIGITS = 2;
    /** {@code *} + count + CRLF + {@code $} + length + CRLF + name + CRLF. */
    private static final int MAX_BYTES = 1 + MAX_COUNT_DIGITS + 2 + 1 + MAX_LENGTH_DIGITS + 2 + MAX_NAME_LENGTH + 2;

    /** Creates the detector; {@link java.util.ServiceLoader} uses this constructor. */
    public RedisDetector() {
    }

    /** Returns {@value #ID}. */
    @Override
    public String id() {
        return ID;
    }

    /** Returns the longest first command this detector reads: {@value #MAX_BYTES} bytes. */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Looks for the start of a RESP command array.
     *
     * @param buf the first bytes of the connection; not modified
     * @param context unused
     * @return {@code MATCH} with {@link #COMMAND}, {@code NEED_MORE} or {@code NO_MATCH}
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int end = buf.writerIndex();
        // The array header, then the first element's bulk string header: "*<count>\r\n$<length>\r\n".
        long count = header(buf, buf.readerIndex(), end, '*', MAX_COUNT_DIGITS, MAX_ELEMENTS);
        if (count < 0) {
            return count == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
        }
        long length = header(buf, (int) count, end, '$', MAX_LENGTH_DIGITS, MAX_NAME_LENGTH);
        if (length < 0) {
            return length == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
        }
        int nameLength = (int) (length >>> 32);
        int nameStart = (int) length;
        // The command name, then its "\r\n".
        int i = nameStart;
        for (int n = 0; n < nameLength; n++, i++) {
            if (i == end) {
                return DetectionResult.needMore();
            }
            byte b = buf.getByte(i);
            boolean letter = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
            if (!(letter || (n > 0 && ((b >= '0' && b <= '9') || b == '-' || b == '_')))) {
                return DetectionResult.noMatch();
            }
        }
        int afterCrLf = crLf(buf, i, end);
        if (afterCrLf < 0) {
            return afterCrLf == NEED_MORE ? DetectionResult.needMore() : DetectionResult.noMatch();
        }
        char[] name = new char[nameLength];
        for (int n = 0; n < nameLength; n++) {
            name[n] = Character.toUpperCase((char) buf.getByte(nameStart + n));
        }
        return DetectionResult.match(ProtocolAttributes.builder().put(COMMAND, new String(name)).build());
    }

    /**
     * Reads {@code <type><number>\r\n} at {@code i}: a positive decimal without a leading zero, of at most
     * {@code maxDigits} digits and at most {@code max}.
     *
     * @return the number in the high 32 bits and the index after the line in the low 32 bits, or {@link #NEED_MORE}
     *         or {@link #NO_MATCH}
     */
    private static long header(ByteBuf buf, int i, int end, char type, int maxDigits, int max) {
        if (i == end) {
            return NEED_MORE;
        }
        if (buf.getByte(i++) != type) {
            return NO_MATCH;
        }
        long value = 0;
        int digits = 0;
        for (; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == '\r') {
                break;
            }
            if (b < '0' || b > '9' || (digits == 0 && b == '0') || ++digits > maxDigits) {
                return NO_MATCH;
            }
            value = value * 10 + (b - '0');
        }
        if (value > max) {
            return NO_MATCH;
        }
        if (i == end) {
            return NEED_MORE;
        }
        if (digits == 0) {
            return NO_MATCH;
        }
        int next = crLf(buf, i, end);
        return next < 0 ? next : value << 32 | next;
    }

    /** Returns the index after a {@code \r\n} at {@code i}, or {@link #NEED_MORE} or {@link #NO_MATCH}. */
    private static int crLf(ByteBuf buf, int i, int end) {
        if (i == end) {
            return NEED_MORE;
        }
        if (buf.getByte(i) != '\r') {
            return NO_MATCH;
        }
        if (i + 1 == end) {
            return NEED_MORE;
        }
        return buf.getByte(i + 1) == '\n' ? i + 2 : NO_MATCH;
    }

    @Override
    public String toString() {
        return "RedisDetector[" + ID + "]";
    }
}
