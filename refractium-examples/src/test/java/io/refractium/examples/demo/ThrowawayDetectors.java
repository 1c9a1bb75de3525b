package io.refractium.examples.demo;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Minimal detectors for tls, http and ssh, enough to run the demo in tests; registered explicitly, so they win over
 * any discovered detector with the same id.
 */
final class ThrowawayDetectors {

    private ThrowawayDetectors() {
    }

    static List<RefractiumProtocol> all() {
        return List.of(new Tls(), new Http(), new Ssh());
    }

    private abstract static class Base implements RefractiumProtocol {
        private final String id;

        Base(String id) {
            this.id = id;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public int maxBytes() {
            return 16 * 1024 + 5;
        }
    }

    /** A TLS ClientHello in one record; reports the SNI. */
    static final class Tls extends Base {
        Tls() {
            super("tls");
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            int r = buf.readerIndex();
            int n = buf.readableBytes();
            if (n == 0) {
                return DetectionResult.needMore();
            }
            if (buf.getByte(r) != 0x16) {
                return DetectionResult.noMatch();
            }
            if (n < 5) {
                return DetectionResult.needMore();
            }
            int length = buf.getUnsignedShort(r + 3);
            if (n < 5 + length) {
                return DetectionResult.needMore();
            }
            int p = r + 5;
            if (buf.getByte(p) != 1) {
                return DetectionResult.noMatch();
            }
            p += 4 + 2 + 32;
            p += 1 + buf.getUnsignedByte(p);
            p += 2 + buf.getUnsignedShort(p);
            p += 1 + buf.getUnsignedByte(p);
            int end = p + 2 + buf.getUnsignedShort(p);
            p += 2;
            String sni = null;
            while (p + 4 <= end) {
                int type = buf.getUnsignedShort(p);
                int len = buf.getUnsignedShort(p + 2);
                if (type == 0) {
                    int nameLength = buf.getUnsignedShort(p + 4 + 3);
                    sni = buf.toString(p + 4 + 5, nameLength, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
                }
                p += 4 + len;
            }
            return DetectionResult.match(ProtocolAttributes.builder().put(AttributeKey.SNI, sni).build());
        }
    }

    /** An HTTP/1.x request head; reports the Host without its port. */
    static final class Http extends Base {
        Http() {
            super("http");
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            String text = buf.toString(StandardCharsets.ISO_8859_1);
            for (String method : List.of("GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ")) {
                if (method.startsWith(text) && text.length() < method.length()) {
                    return DetectionResult.needMore();
                }
                if (text.startsWith(method)) {
                    int end = text.indexOf("\r\n\r\n");
                    if (end < 0) {
                        return DetectionResult.needMore();
                    }
                    String host = null;
                    for (String line : text.substring(0, end).split("\r\n")) {
                        if (line.toLowerCase(Locale.ROOT).startsWith("host:")) {
                            host = line.substring(5).trim().toLowerCase(Locale.ROOT).replaceFirst(":\\d+$", "");
                        }
                    }
                    return DetectionResult.match(ProtocolAttributes.builder().put(AttributeKey.HTTP_HOST, host).build());
                }
            }
            return DetectionResult.noMatch();
        }
    }

    /** An SSH client's version line prefix. */
    static final class Ssh extends Base {
        Ssh() {
            super("ssh");
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            String text = buf.toString(buf.readerIndex(), Math.min(4, buf.readableBytes()), StandardCharsets.ISO_8859_1);
            if (!"SSH-".startsWith(text)) {
                return DetectionResult.noMatch();
            }
            return text.length() < 4 ? DetectionResult.needMore() : DetectionResult.match();
        }
    }
}
