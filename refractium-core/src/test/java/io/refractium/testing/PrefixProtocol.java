package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * A test detector: matches when the stream starts with a fixed ASCII prefix, reporting the rest of the first line
 * (up to a space or CR/LF) as the {@link AttributeKey#SNI} attribute so routing conditions can be tested.
 */
public final class PrefixProtocol implements RefractiumProtocol {

    private final String id;
    private final byte[] prefix;
    private final int priority;
    private final boolean withName;

    public PrefixProtocol(String id, String prefix) {
        this(id, prefix, 0, false);
    }

    public PrefixProtocol(String id, String prefix, int priority, boolean withName) {
        this.id = id;
        this.prefix = prefix.getBytes(StandardCharsets.US_ASCII);
        this.priority = priority;
        this.withName = withName;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public int maxBytes() {
        return prefix.length + 256;
    }

    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int r = buf.readerIndex();
        int n = buf.readableBytes();
        for (int i = 0; i < prefix.length; i++) {
            if (i >= n) {
                return DetectionResult.needMore();
            }
            if (buf.getByte(r + i) != prefix[i]) {
                return DetectionResult.noMatch();
            }
        }
        if (!withName) {
            return DetectionResult.match();
        }
        for (int i = prefix.length; i < n; i++) {
            byte b = buf.getByte(r + i);
            if (b == '\n' || b == '\r' || b == ' ') {
                String name = buf.toString(r + prefix.length, i - prefix.length, StandardCharsets.US_ASCII);
                return DetectionResult.match(ProtocolAttributes.builder().put(AttributeKey.SNI, name).build());
            }
        }
        return DetectionResult.needMore();
    }
}
