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
        int i = buf.readerIndex();
        int end = buf.writerIndex();
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != '*') {
            return DetectionResult.noMatch();
        }
        // Element count.
        long count = 0;
        int digits = 0;
        for (; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == '\r') {
                break;
            }
            if (b < '0' || b > '9' || (digits == 0 && b == '0') || ++digits > MAX_COUNT_DIGITS) {
                return DetectionResult.noMatch();
            }
            count = count * 10 + (b - '0');
        }
        if (count > MAX_ELEMENTS) {
            return DetectionResult.noMatch();
        }
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (digits == 0) {
            return DetectionResult.noMatch();
        }
        i++; // '\r'
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != '\n') {
            return DetectionResult.noMatch();
        }
        // The first element: a bulk string header.
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != '$') {
            return DetectionResult.noMatch();
        }
        int length = 0;
        digits = 0;
        for (; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == '\r') {
                break;
            }
            if (b < '0' || b > '9' || (digits == 0 && b == '0') || ++digits > MAX_LENGTH_DIGITS) {
                return DetectionResult.noMatch();
            }
            length = length * 10 + (b - '0');
        }
        if (length > MAX_NAME_LENGTH) {
            return DetectionResult.noMatch();
        }
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (digits == 0) {
            return DetectionResult.noMatch();
        }
        i++; // '\r'
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != '\n') {
            return DetectionResult.noMatch();
        }
        // The command name.
        int nameStart = i;
        for (int n = 0; n < length; n++, i++) {
            if (i == end) {
                return DetectionResult.needMore();
            }
            byte b = buf.getByte(i);
            boolean letter = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
            if (!(letter || (n > 0 && ((b >= '0' && b <= '9') || b == '-' || b == '_')))) {
                return DetectionResult.noMatch();
            }
        }
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != '\r') {
            return DetectionResult.noMatch();
        }
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i) != '\n') {
            return DetectionResult.noMatch();
        }
        char[] name = new char[length];
        for (int n = 0; n < length; n++) {
            name[n] = Character.toUpperCase((char) buf.getByte(nameStart + n));
        }
        return DetectionResult.match(ProtocolAttributes.builder().put(COMMAND, new String(name)).build());
    }

    @Override
    public String toString() {
        return "RedisDetector[" + ID + "]";
    }
}
