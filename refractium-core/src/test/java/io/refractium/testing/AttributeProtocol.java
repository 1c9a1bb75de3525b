package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A test detector that reports arbitrary attributes: it matches a first line {@code ID k=v k2=a,b\n} and reports
 * each pair as the attribute {@code ID.k}; a value with commas becomes a list-valued attribute.
 */
public final class AttributeProtocol implements RefractiumProtocol {

    private final String id;
    private final byte[] prefix;

    public AttributeProtocol(String id) {
        this.id = id;
        this.prefix = (id + " ").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxBytes() {
        return 512;
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
        int eol = buf.indexOf(r + prefix.length, r + n, (byte) '\n');
        if (eol < 0) {
            return DetectionResult.needMore();
        }
        String line = buf.toString(r + prefix.length, eol - r - prefix.length, StandardCharsets.US_ASCII).trim();
        ProtocolAttributes.Builder b = ProtocolAttributes.builder();
        for (String pair : line.split(" ")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = id + "." + pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            if (value.indexOf(',') >= 0) {
                b.put(AttributeKey.listOf(key), Arrays.asList(value.split(",")));
            } else {
                b.put(AttributeKey.of(key, String.class), value);
            }
        }
        return DetectionResult.match(b.build());
    }
}
