package io.refractium.protocols.http;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects cleartext HTTP/2 with prior knowledge from the client connection preface,
 * {@code "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"} (RFC 9113 §3.4).
 *
 * <p>It compares the bytes with the 24-byte preface one by one: {@link DetectionResult#noMatch() NO_MATCH} on the
 * first byte that differs, {@link DetectionResult#needMore() NEED_MORE} while they are a prefix of it,
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} on its last byte with {@link AttributeKey#HTTP_VERSION}
 * {@code "HTTP/2.0"}. HTTP/2 over TLS is negotiated with ALPN {@code h2} instead, which the TLS detector reports.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes and allocates
 * nothing.
 */
public final class Http2PrefaceDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "http2";

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** The length of the connection preface, {@value} bytes: all the detector reads. */
    public static final int MAX_BYTES = 24;

    private static final DetectionResult MATCH = DetectionResult.match(
            ProtocolAttributes.builder().put(AttributeKey.HTTP_VERSION, "HTTP/2.0").build());

    /** Creates the detector. */
    public Http2PrefaceDetector() {
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
     * Returns {@value #MAX_BYTES}, the length of the preface.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Compares the bytes with the connection preface.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context not used
     * @return {@code MATCH} once the whole preface arrived, {@code NEED_MORE} while the bytes are a prefix of it,
     *         {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int n = Math.min(buf.writerIndex() - start, PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (buf.getByte(start + i) != PREFACE[i]) {
                return DetectionResult.noMatch();
            }
        }
        return n == PREFACE.length ? MATCH : DetectionResult.needMore();
    }
}
