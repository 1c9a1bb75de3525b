package io.refractium.protocols.postgres;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects a PostgreSQL client by its first message, which has no type byte: an {@code Int32} length (itself
 * included), then an {@code Int32} code (PostgreSQL documentation, "Frontend/Backend Protocol", §55.2.1 Start-up and
 * §55.7 Message Formats):
 * <ul>
 *   <li>SSLRequest: length 8, code {@code 80877103} ({@code 0x04d2162f});</li>
 *   <li>GSSENCRequest: length 8, code {@code 80877104} ({@code 0x04d21630});</li>
 *   <li>CancelRequest: length 16 (protocol 3.0; up to 12 + 256 with the longer keys of protocol 3.2), code
 *       {@code 80877102} ({@code 0x04d2162e});</li>
 *   <li>StartupMessage: length of at most {@value #MAX_BYTES} (the server's {@code MAX_STARTUP_PACKET_LENGTH}),
 *       protocol major version 3 (code {@code 196608} for 3.0, any minor version), then parameter name and value
 *       pairs, each a NUL-terminated string, and a final NUL that is the message's last byte. Names are printable
 *       ASCII; a {@code user} parameter is required.</li>
 * </ul>
 * The detector answers {@link DetectionResult#noMatch() NO_MATCH} on the first byte that breaks these rules (the
 * first byte of every such message is {@code 0}), {@link DetectionResult#needMore() NEED_MORE} while the bytes are a
 * valid prefix, and {@link DetectionResult#match(ProtocolAttributes) MATCH} on the message's last byte; on its last
 * call ({@link DetectionContext#isLastCall()}) a StartupMessage whose 8-byte header is valid matches with the
 * parameters received whole.
 *
 * <p>Attributes of a match: {@link #REQUEST} always; {@link #USER}, {@link #DATABASE} and {@link #APPLICATION_NAME}
 * for a StartupMessage that carries them (values decoded as UTF-8).
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class PostgresDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "postgres";

    /** The longest StartupMessage, {@value} bytes (the server's {@code MAX_STARTUP_PACKET_LENGTH}). */
    public static final int MAX_BYTES = 10000;

    /** The kind of first message: {@code "startup"}, {@code "ssl"}, {@code "gssenc"} or {@code "cancel"}. */
    public static final AttributeKey<String> REQUEST = AttributeKey.of("postgres.request", String.class);
    /** The {@code user} parameter of a StartupMessage. */
    public static final AttributeKey<String> USER = AttributeKey.of("postgres.user", String.class);
    /** The {@code database} parameter of a StartupMessage (the server defaults it to the user name). */
    public static final AttributeKey<String> DATABASE = AttributeKey.of("postgres.database", String.class);
    /** The {@code application_name} parameter of a StartupMessage. */
    public static final AttributeKey<String> APPLICATION_NAME =
            AttributeKey.of("postgres.application_name", String.class);

    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;
    private static final int CANCEL_REQUEST = 80877102;
    private static final int PROTOCOL_3 = 3;
    private static final int MAX_CANCEL_LENGTH = 12 + 256;

    private static final ProtocolAttributes SSL = ProtocolAttributes.builder().put(REQUEST, "ssl").build();
    private static final ProtocolAttributes GSSENC = ProtocolAttributes.builder().put(REQUEST, "gssenc").build();
    private static final ProtocolAttributes CANCEL = ProtocolAttributes.builder().put(REQUEST, "cancel").build();

    private static final byte[] USER_NAME = ascii("user");
    private static final byte[] DATABASE_NAME = ascii("database");
    private static final byte[] APPLICATION_NAME_NAME = ascii("application_name");

    /** Creates the detector. */
    public PostgresDetector() {
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
     * Returns {@value #MAX_BYTES}, the longest StartupMessage.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the first message received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call
     * @return {@code MATCH} with the request kind (and the startup parameters), {@code NEED_MORE} while the bytes
     *         are a valid prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int available = buf.writerIndex() - start;
        // The length, big-endian: at most 10000 (0x2710), so the first two bytes are 0 and the third at most 0x27.
        if (available < 1) {
            return DetectionResult.needMore();
        }
        for (int i = 0; i < 3; i++) {
            if (i >= available) {
                return DetectionResult.needMore();
            }
            if (buf.getUnsignedByte(start + i) > (i < 2 ? 0 : MAX_BYTES >>> 8)) {
                return DetectionResult.noMatch();
            }
        }
        if (available < 4) {
            return DetectionResult.needMore();
        }
        int length = buf.getInt(start);
        if (length < 8 || length > MAX_BYTES) {
            return DetectionResult.noMatch();
        }
        // The code, checked byte by byte so a wrong one fails on its first wrong byte.
        int code = 0;
        for (int i = 0; i < 4; i++) {
            if (4 + i >= available) {
                return codePrefixValid(code, i, length) ? DetectionResult.needMore() : DetectionResult.noMatch();
            }
            code = code << 8 | buf.getUnsignedByte(start + 4 + i);
            if (!codePrefixValid(code, i + 1, length)) {
                return DetectionResult.noMatch();
            }
        }
        if (code == SSL_REQUEST) {
            return DetectionResult.match(SSL);
        }
        if (code == GSSENC_REQUEST) {
            return DetectionResult.match(GSSENC);
        }
        if (code == CANCEL_REQUEST) {
            return available >= length ? DetectionResult.match(CANCEL) : DetectionResult.needMore();
        }
        return startup(buf, start, Math.min(available, length), length, context.isLastCall());
    }

    /** Returns whether the first {@code bytes} bytes of the code (in {@code prefix}) fit the message length. */
    private static boolean codePrefixValid(int prefix, int bytes, int length) {
        if (bytes == 0) {
            return true;
        }
        int shift = 8 * (4 - bytes);
        if (length == 8) {
            return prefix == SSL_REQUEST >>> shift || prefix == GSSENC_REQUEST >>> shift;
        }
        if (prefix == CANCEL_REQUEST >>> shift && length >= 16 && length <= MAX_CANCEL_LENGTH) {
            return true;
        }
        // StartupMessage: major version 3 in the first two bytes, any minor version; at least "user" NUL x NUL NUL.
        if (length < 8 + 5 + 2 + 1) {
            return false;
        }
        return bytes == 1 ? prefix == 0 : prefix >>> 8 * (bytes - 2) == PROTOCOL_3;
    }

    private static DetectionResult startup(ByteBuf buf, int start, int available, int length, boolean lastCall) {
        int end = start + available;
        int i = start + 8;
        int user = -1;
        int database = -1;
        int application = -1;
        while (true) {
            if (i >= end) {
                break;
            }
            if (buf.getByte(i) == 0) {
                // The terminator: it must be the message's last byte.
                if (i != start + length - 1) {
                    return DetectionResult.noMatch();
                }
                return user < 0 ? DetectionResult.noMatch() : match(buf, user, database, application);
            }
            int name = i;
            while (i < end) {
                int b = buf.getUnsignedByte(i);
                if (b == 0) {
                    break;
                }
                if (b < 0x21 || b > 0x7e) {
                    return DetectionResult.noMatch();
                }
                i++;
            }
            if (i >= end) {
                break;
            }
            int nameLength = i - name;
            int value = ++i;
            while (i < end && buf.getByte(i) != 0) {
                i++;
            }
            if (i >= end) {
                break;
            }
            if (i >= start + length - 1) {
                return DetectionResult.noMatch();     // the value's NUL must leave room for the terminator
            }
            if (is(buf, name, nameLength, USER_NAME)) {
                user = value;
            } else if (is(buf, name, nameLength, DATABASE_NAME)) {
                database = value;
            } else if (is(buf, name, nameLength, APPLICATION_NAME_NAME)) {
                application = value;
            }
            i++;
        }
        if (available >= length) {
            return DetectionResult.noMatch();        // unreachable: the terminator is the last byte
        }
        return lastCall ? match(buf, user, database, application) : DetectionResult.needMore();
    }

    private static boolean is(ByteBuf buf, int at, int length, byte[] name) {
        if (length != name.length) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            if (buf.getByte(at + k) != name[k]) {
                return false;
            }
        }
        return true;
    }

    private static DetectionResult match(ByteBuf buf, int user, int database, int application) {
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(REQUEST, "startup")
                .put(USER, string(buf, user))
                .put(DATABASE, string(buf, database))
                .put(APPLICATION_NAME, string(buf, application))
                .build());
    }

    private static String string(ByteBuf buf, int at) {
        if (at < 0) {
            return null;
        }
        int end = buf.indexOf(at, buf.writerIndex(), (byte) 0);
        return buf.toString(at, end - at, StandardCharsets.UTF_8);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
