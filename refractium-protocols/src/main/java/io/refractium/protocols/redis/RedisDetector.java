package io.refractium.protocols.redis;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;

/**
 * Detects Redis clients by the first command they send, a RESP array of bulk strings or an inline command, and
 * reports the command name.
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
 * there.
 *
 * <p>Inline commands (RESP §"Inline commands": {@code PING\r\n} typed into telnet or sent by health checks) are
 * accepted only for the command names in {@link #INLINE_COMMANDS}, as a whole word, in any case, followed by a
 * space and at least one argument of printable bytes (tab and bytes from {@code 0x80} allowed), then the line end
 * ({@code \n}, optionally after {@code \r}); only {@code PING} may come alone on its line, since a bare word such
 * as {@code hello} or {@code quit} is more likely some other text protocol. They match at the line end (or on the last call, once the name and a
 * space are there). A line whose last word starts with {@code HTTP/}, or a {@code GET /...} line, is an HTTP request
 * and does not match; the priority, {@value #PRIORITY}, lets the HTTP detector win any other tie.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters and never changes its indexes or
 * reference count. Registered for {@code discoverProtocols()} in
 * {@code META-INF/services/io.refractium.spi.RefractiumProtocol}, with the id {@value #ID}.
 *
 * <p>Attribute of a match: {@link #COMMAND}.
 */
public final class RedisDetector implements RefractiumProtocol {

    /** The protocol id routes use. */
    public static final String ID = "redis";

    /** The command name of the first command, upper case, e.g. {@code "PING"} or {@code "HELLO"}. */
    public static final AttributeKey<String> COMMAND = AttributeKey.of("redis.command", String.class);

    /** The detector's priority, {@value}: below HTTP, whose request lines look like inline commands. */
    public static final int PRIORITY = -1;

    /** The command names accepted as inline commands (upper case; matched in any case). */
    public static final java.util.List<String> INLINE_COMMANDS = java.util.List.of("APPEND", "AUTH", "BGSAVE",
            "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DBSIZE", "DECR", "DEL", "DISCARD", "ECHO", "EVAL", "EXEC",
            "EXISTS", "EXPIRE", "FLUSHALL", "FLUSHDB", "GET", "HGET", "HGETALL", "HSET", "INCR", "INFO", "KEYS",
            "LPUSH", "LRANGE", "MGET", "MONITOR", "MSET", "MULTI", "PING", "PSUBSCRIBE", "PSYNC", "PUBLISH", "QUIT",
            "REPLCONF", "REPLICAOF", "RPUSH", "SADD", "SAVE", "SCAN", "SELECT", "SET", "SHUTDOWN", "SLAVEOF",
            "SMEMBERS", "SUBSCRIBE", "SYNC", "TTL", "TYPE", "WATCH", "ZADD", "ZRANGE");

    /** The longest inline command line read, {@value} bytes. */
    public static final int MAX_INLINE_BYTES = 1024;

    private static final byte[][] INLINE = INLINE_COMMANDS.stream()
            .map(c -> c.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).toArray(byte[][]::new);

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

    /** Returns {@value #PRIORITY}. */
    @Override
    public int priority() {
        return PRIORITY;
    }

    /** Returns the longest first command this detector reads: {@value #MAX_INLINE_BYTES} bytes (an inline line). */
    @Override
    public int maxBytes() {
        return Math.max(MAX_BYTES, MAX_INLINE_BYTES);
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
        if (end > buf.readerIndex() && buf.getByte(buf.readerIndex()) != '*') {
            return inline(buf, buf.readerIndex(), end, context.isLastCall());
        }
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

    private static DetectionResult inline(ByteBuf buf, int start, int end, boolean lastCall) {
        // The name: a prefix of a known command, then a space or the line end.
        int i = start;
        int nameEnd = -1;
        while (i < end && nameEnd < 0) {
            int b = buf.getUnsignedByte(i);
            int n = i - start;
            if (b == ' ' || b == '\r' || b == '\n') {
                if (!isName(buf, start, n)) {
                    return DetectionResult.noMatch();
                }
                nameEnd = i;
                break;
            }
            if (!isNamePrefix(buf, start, n + 1)) {
                return DetectionResult.noMatch();
            }
            i++;
        }
        if (nameEnd < 0) {
            return DetectionResult.needMore();
        }
        // The arguments, then the line end.
        int lastWord = -1;
        for (; i < end; i++) {
            int b = buf.getUnsignedByte(i);
            if (b == '\n' || b == '\r') {
                if (b == '\r') {
                    if (i + 1 == end) {
                        return DetectionResult.needMore();
                    }
                    if (buf.getByte(i + 1) != '\n') {
                        return DetectionResult.noMatch();
                    }
                }
                if (lastWord < 0 && !isPing(buf, start, nameEnd)) {
                    return DetectionResult.noMatch();              // a bare word other than PING
                }
                return isHttp(buf, start, nameEnd, lastWord, i) ? DetectionResult.noMatch()
                        : inlineMatch(buf, start, nameEnd);
            }
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return DetectionResult.noMatch();
            }
            if (b != ' ' && buf.getByte(i - 1) == ' ') {
                lastWord = i;
            }
            if (i - start + 1 >= MAX_INLINE_BYTES) {
                return lastCall ? inlineMatch(buf, start, nameEnd) : DetectionResult.noMatch();
            }
        }
        return lastCall && lastWord > 0 && !isHttp(buf, start, nameEnd, lastWord, end)
                ? inlineMatch(buf, start, nameEnd) : DetectionResult.needMore();
    }

    /** Returns whether the line is an HTTP request: a last word starting with "HTTP/", or "GET /..." (HTTP/0.9). */
    private static boolean isHttp(ByteBuf buf, int start, int nameEnd, int lastWord, int lineEnd) {
        if (lastWord > nameEnd && lineEnd - lastWord >= 5 && buf.getByte(lastWord) == 'H'
                && buf.getByte(lastWord + 1) == 'T' && buf.getByte(lastWord + 2) == 'T'
                && buf.getByte(lastWord + 3) == 'P' && buf.getByte(lastWord + 4) == '/') {
            return true;
        }
        return nameEnd - start == 3 && nameEnd + 1 < lineEnd && buf.getByte(nameEnd + 1) == '/';
    }

    private static boolean isPing(ByteBuf buf, int start, int nameEnd) {
        return nameEnd - start == 4 && sameIgnoringCase(buf, start, INLINE[INLINE_COMMANDS.indexOf("PING")], 4);
    }

    private static boolean isNamePrefix(ByteBuf buf, int start, int length) {
        for (byte[] name : INLINE) {
            if (name.length >= length && sameIgnoringCase(buf, start, name, length)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isName(ByteBuf buf, int start, int length) {
        for (byte[] name : INLINE) {
            if (name.length == length && sameIgnoringCase(buf, start, name, length)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameIgnoringCase(ByteBuf buf, int start, byte[] name, int length) {
        for (int k = 0; k < length; k++) {
            int b = buf.getByte(start + k);
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != name[k]) {
                return false;
            }
        }
        return true;
    }

    private static DetectionResult inlineMatch(ByteBuf buf, int start, int nameEnd) {
        String name = buf.toString(start, nameEnd - start, java.nio.charset.StandardCharsets.US_ASCII);
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(COMMAND, name.toUpperCase(java.util.Locale.ROOT)).build());
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
