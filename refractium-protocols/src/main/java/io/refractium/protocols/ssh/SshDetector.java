package io.refractium.protocols.ssh;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects an SSH client from its identification string, {@code SSH-protoversion-softwareversion SP comments CR LF}
 * (RFC 4253 §4.2).
 *
 * <p>The protocol version is {@code 2.0}, or {@code 1.99} for a client that also speaks SSH 1 (RFC 4253 §5.1);
 * {@code SSH-1.5-} and other versions do not match. The software version is one or more printable US-ASCII
 * characters without whitespace; the comments, after a space, hold printable characters and tabs. The line ends with
 * CR LF, or a bare LF as some clients send. The detector answers {@link DetectionResult#noMatch() NO_MATCH} on the
 * first byte that breaks these rules, and {@link DetectionResult#match(ProtocolAttributes) MATCH} at the end of the
 * line; also, with a non-empty software version, when the line reaches the {@value #MAX_BYTES} bytes RFC 4253 allows
 * without ending, or when the client has finished sending ({@link DetectionContext#isInputComplete()}).
 *
 * <p>Attributes of a match: {@link AttributeKey#SSH_VERSION} ({@code "2.0"} or {@code "1.99"}) and
 * {@link AttributeKey#SSH_SOFTWARE} (the software version, up to the space or the line end).
 *
 * <p>An SSH client that waits for the server's banner before sending its own sends nothing; route such clients with
 * a silent-client target ({@code RefractiumBuilder.onSilence}).
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class SshDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "ssh";

    /** The longest identification string, CR LF included (RFC 4253 §4.2): {@value} bytes. */
    public static final int MAX_BYTES = 255;

    private static final byte[] SSH_2_0 = "SSH-2.0-".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SSH_1_99 = "SSH-1.99-".getBytes(StandardCharsets.US_ASCII);
    /** The index of the byte where the two prefixes differ. */
    private static final int VERSION_INDEX = 4;

    /** Creates the detector. */
    public SshDetector() {
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
     * Returns {@value #MAX_BYTES}, the longest identification string.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the identification string received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether the client has finished sending
     * @return {@code MATCH} with the protocol and software versions, {@code NEED_MORE} while the bytes are a valid
     *         prefix of an identification string, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        boolean capped = buf.writerIndex() - start >= MAX_BYTES;
        int end = capped ? start + MAX_BYTES : buf.writerIndex();

        byte[] prefix = SSH_2_0;
        for (int i = 0; i < prefix.length; i++) {
            if (start + i >= end) {
                return DetectionResult.needMore();
            }
            byte b = buf.getByte(start + i);
            if (i == VERSION_INDEX && b == SSH_1_99[i]) {
                prefix = SSH_1_99;
            }
            if (b != prefix[i]) {
                return DetectionResult.noMatch();
            }
        }

        int software = start + prefix.length;
        int i = software;
        while (i < end) {
            int b = buf.getUnsignedByte(i);
            if (b == ' ' || b == '\r' || b == '\n') {
                break;
            }
            if (b < 0x21 || b > 0x7e) {
                return DetectionResult.noMatch();
            }
            i++;
        }
        int softwareEnd = i;
        if (softwareEnd == software && softwareEnd < end) {
            return DetectionResult.noMatch();
        }
        while (i < end) {
            int b = buf.getUnsignedByte(i);
            if (b == '\n') {
                return match(buf, prefix, software, softwareEnd);
            }
            if (b == '\r') {
                if (i + 1 >= end) {
                    break;
                }
                if (buf.getByte(i + 1) != '\n') {
                    return DetectionResult.noMatch();
                }
                return match(buf, prefix, software, softwareEnd);
            }
            if (b < 0x20 && b != '\t' || b > 0x7e) {
                return DetectionResult.noMatch();
            }
            i++;
        }
        if (softwareEnd > software && (capped || context.isInputComplete())) {
            return match(buf, prefix, software, softwareEnd);
        }
        return capped ? DetectionResult.noMatch() : DetectionResult.needMore();
    }

    private static DetectionResult match(ByteBuf buf, byte[] prefix, int software, int softwareEnd) {
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(AttributeKey.SSH_VERSION, prefix == SSH_2_0 ? "2.0" : "1.99")
                .put(AttributeKey.SSH_SOFTWARE, buf.toString(software, softwareEnd - software, StandardCharsets.US_ASCII))
                .build());
    }
}
