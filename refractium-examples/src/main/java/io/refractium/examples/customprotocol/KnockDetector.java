package io.refractium.examples.customprotocol;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects the example's made-up "knock" protocol: the client's first line is {@code KNOCK <name>\n}, where the name
 * is 1 to {@value #MAX_NAME_LENGTH} letters, digits, {@code -} or {@code _}.
 *
 * <p>It answers {@code NO_MATCH} at the first byte that breaks the rule, {@code NEED_MORE} while the bytes are a
 * valid prefix, and {@code MATCH} with {@link #NAME} at the line end. Stateless and thread-safe; it reads the buffer
 * with absolute getters and never changes its indexes or reference count. Registered for
 * {@code discoverProtocols()} in {@code META-INF/services/io.refractium.spi.RefractiumProtocol}, with the id
 * {@value #ID}.
 */
public final class KnockDetector implements RefractiumProtocol {

    /** The protocol id routes use. */
    public static final String ID = "knock";

    /** The name the client knocks with. */
    public static final AttributeKey<String> NAME = AttributeKey.of("knock.name", String.class);

    /** The longest name accepted. */
    public static final int MAX_NAME_LENGTH = 32;

    private static final byte[] PREFIX = "KNOCK ".getBytes(StandardCharsets.US_ASCII);

    /** Creates the detector; {@link java.util.ServiceLoader} uses this constructor. */
    public KnockDetector() {
    }

    /** Returns {@value #ID}. */
    @Override
    public String id() {
        return ID;
    }

    /** Returns the longest line: the prefix, the longest name and the line feed. */
    @Override
    public int maxBytes() {
        return PREFIX.length + MAX_NAME_LENGTH + 1;
    }

    /**
     * Looks for the knock line.
     *
     * @param buf the first bytes of the connection; not modified
     * @param context unused
     * @return {@code MATCH} with {@link #NAME}, {@code NEED_MORE} or {@code NO_MATCH}
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        for (int i = 0; i < PREFIX.length; i++) {
            if (start + i == end) {
                return DetectionResult.needMore();
            }
            if (buf.getByte(start + i) != PREFIX[i]) {
                return DetectionResult.noMatch();
            }
        }
        int name = start + PREFIX.length;
        for (int i = name; i < end; i++) {
            byte b = buf.getByte(i);
            if (b == '\n' && i > name) {
                return DetectionResult.match(ProtocolAttributes.builder()
                        .put(NAME, buf.toString(name, i - name, StandardCharsets.US_ASCII)).build());
            }
            boolean valid = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_';
            if (!valid || i - name == MAX_NAME_LENGTH) {
                return DetectionResult.noMatch();
            }
        }
        return DetectionResult.needMore();
    }

    @Override
    public String toString() {
        return "KnockDetector[" + ID + "]";
    }
}
