package io.refractium.protocols.xmpp;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects an XMPP client or server by its opening stream header (RFC 6120 §4.7 and §4.8; XEP-0114 for components).
 *
 * <p>The rules, checked byte by byte: an optional UTF-8 byte order mark; an optional XML declaration, {@code <?xml}
 * and white space, printable characters, {@code ?>} (at most {@value #MAX_DECLARATION_BYTES} bytes); white space;
 * the start tag {@code <stream:stream} or, with the streams namespace as the default one, {@code <stream}, followed
 * by white space or {@code >}; then attributes, each a name, {@code =} (white space around it allowed), and a value in
 * single or double quotes without {@code <}, separated by white space, up to {@code >}. The tag must declare the
 * streams namespace {@value #STREAMS_NAMESPACE} (as {@code xmlns:stream}, or as {@code xmlns} for {@code <stream});
 * an empty-element tag ({@code />}) does not match. The detector answers
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} at the tag's {@code >},
 * {@link DetectionResult#needMore() NEED_MORE} before, and {@link DetectionResult#noMatch() NO_MATCH} at the first
 * byte that breaks a rule (or when the tag runs past {@value #MAX_BYTES} bytes). On its last call
 * ({@link DetectionContext#isLastCall()}), a valid prefix that reaches the attributes of {@code <stream:stream}
 * matches with the attributes complete so far.
 *
 * <p>Attributes of a match: {@link #TO}, the {@code to} attribute (the domain the stream is for, the name to route
 * on), and {@link #NAMESPACE}, the content namespace of {@code <stream:stream} ({@code jabber:client} from a client,
 * {@code jabber:server} from a server, {@code jabber:component:accept} from a component), each when present. The
 * values are the raw bytes between the quotes, decoded as UTF-8; entity references are not expanded.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match. It reads from the first byte on each call (at most {@value #MAX_BYTES} bytes).
 */
public final class XmppDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "xmpp";

    /** The most bytes the detector reads, {@value}: the declaration and the stream header. */
    public static final int MAX_BYTES = 1024;

    /** The longest XML declaration, {@value} bytes. */
    public static final int MAX_DECLARATION_BYTES = 128;

    /** The streams namespace, {@value}. */
    public static final String STREAMS_NAMESPACE = "http://etherx.jabber.org/streams";

    /** The stream header's {@code to} attribute: the domain the stream is for. */
    public static final AttributeKey<String> TO = AttributeKey.of("xmpp.to", String.class);
    /** The content namespace: {@code jabber:client}, {@code jabber:server}, {@code jabber:component:accept}, ... */
    public static final AttributeKey<String> NAMESPACE = AttributeKey.of("xmpp.namespace", String.class);

    private static final byte[] DECLARATION = {'<', '?', 'x', 'm', 'l'};
    private static final byte[] STREAM = {'<', 's', 't', 'r', 'e', 'a', 'm'};
    private static final byte[] STREAMS_NS = STREAMS_NAMESPACE.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ATTR_TO = {'t', 'o'};
    private static final byte[] ATTR_XMLNS = {'x', 'm', 'l', 'n', 's'};
    private static final byte[] ATTR_XMLNS_STREAM = "xmlns:stream".getBytes(StandardCharsets.US_ASCII);

    /** Creates the detector. */
    public XmppDetector() {
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
     * Returns {@value #MAX_BYTES}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Parses the stream header received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call
     * @return {@code MATCH} with the {@code to} attribute and content namespace, {@code NEED_MORE} while the bytes
     *         are a valid prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = Math.min(buf.writerIndex(), start + MAX_BYTES);
        int i = start;
        // An optional byte order mark.
        if (i < end && buf.getUnsignedByte(i) == 0xef) {
            if (!prefix(buf, i, end, 0xef, 0xbb, 0xbf)) {
                return DetectionResult.noMatch();
            }
            if (end - i < 3) {
                return DetectionResult.needMore();
            }
            i += 3;
        }
        if (i == end) {
            return needMore(buf, start);
        }
        if (buf.getByte(i) != '<') {
            return DetectionResult.noMatch();
        }
        // An optional XML declaration: "<?xml", white space, printable bytes, "?>".
        if (i + 1 < end && buf.getByte(i + 1) == '?') {
            int declaration = i;
            for (byte b : DECLARATION) {
                if (i == end) {
                    return needMore(buf, start);
                }
                if (buf.getByte(i++) != b) {
                    return DetectionResult.noMatch();
                }
            }
            if (i == end) {
                return needMore(buf, start);
            }
            if (!space(buf.getByte(i))) {
                return DetectionResult.noMatch();
            }
            for (; ; i++) {
                if (i - declaration >= MAX_DECLARATION_BYTES) {
                    return DetectionResult.noMatch();
                }
                if (i == end) {
                    return needMore(buf, start);
                }
                byte b = buf.getByte(i);
                if (b == '?') {
                    if (i + 1 == end) {
                        return needMore(buf, start);
                    }
                    if (buf.getByte(i + 1) != '>') {
                        return DetectionResult.noMatch();
                    }
                    i += 2;
                    break;
                }
                if (!space(b) && (b < 0x20 || b > 0x7e || b == '<' || b == '>')) {
                    return DetectionResult.noMatch();
                }
            }
            // White space up to the stream tag.
            for (; ; i++) {
                if (i == end) {
                    return needMore(buf, start);
                }
                byte b = buf.getByte(i);
                if (b == '<') {
                    break;
                }
                if (!space(b)) {
                    return DetectionResult.noMatch();
                }
            }
        }
        // "<stream", then ":stream" or not.
        for (byte b : STREAM) {
            if (i == end) {
                return needMore(buf, start);
            }
            if (buf.getByte(i++) != b) {
                return DetectionResult.noMatch();
            }
        }
        if (i == end) {
            return needMore(buf, start);
        }
        boolean prefixed = buf.getByte(i) == ':';
        if (prefixed) {
            i++;
            for (int k = 1; k < STREAM.length; k++) {
                if (i == end) {
                    return needMore(buf, start);
                }
                if (buf.getByte(i++) != STREAM[k]) {
                    return DetectionResult.noMatch();
                }
            }
            if (i == end) {
                return needMore(buf, start);
            }
        }
        byte afterName = buf.getByte(i);
        if (!space(afterName) && afterName != '>') {
            return DetectionResult.noMatch();
        }
        // The attributes, up to '>'.
        int to = -1;
        int toLength = 0;
        int namespace = -1;
        int namespaceLength = 0;
        boolean streamsDeclared = false;
        for (;;) {
            // White space, then '>' or a name (white space required before a name).
            boolean spaced = false;
            for (; i < end && space(buf.getByte(i)); i++) {
                spaced = true;
            }
            if (i == end) {
                return lastCall(buf, context, start, prefixed, to, toLength, namespace, namespaceLength);
            }
            byte b = buf.getByte(i);
            if (b == '>') {
                if (!streamsDeclared) {
                    return DetectionResult.noMatch();
                }
                ProtocolAttributes.Builder a = ProtocolAttributes.builder();
                if (to >= 0) {
                    a.put(TO, buf.toString(to, toLength, StandardCharsets.UTF_8));
                }
                if (namespace >= 0) {
                    a.put(NAMESPACE, buf.toString(namespace, namespaceLength, StandardCharsets.UTF_8));
                }
                return DetectionResult.match(a.build());
            }
            if (!spaced || !nameChar(b)) {
                return DetectionResult.noMatch();
            }
            int name = i;
            for (; i < end && nameChar(buf.getByte(i)); i++) {
                // the name
            }
            int nameLength = i - name;
            for (; i < end && space(buf.getByte(i)); i++) {
                // white space before '='
            }
            if (i == end) {
                return lastCall(buf, context, start, prefixed, to, toLength, namespace, namespaceLength);
            }
            if (buf.getByte(i++) != '=') {
                return DetectionResult.noMatch();
            }
            for (; i < end && space(buf.getByte(i)); i++) {
                // white space after '='
            }
            if (i == end) {
                return lastCall(buf, context, start, prefixed, to, toLength, namespace, namespaceLength);
            }
            byte quote = buf.getByte(i++);
            if (quote != '\'' && quote != '"') {
                return DetectionResult.noMatch();
            }
            int value = i;
            for (; ; i++) {
                if (i == end) {
                    return lastCall(buf, context, start, prefixed, to, toLength, namespace, namespaceLength);
                }
                byte v = buf.getByte(i);
                if (v == quote) {
                    break;
                }
                if (v == '<') {
                    return DetectionResult.noMatch();
                }
            }
            int valueLength = i - value;
            i++;
            if (equals(buf, name, nameLength, ATTR_TO)) {
                to = value;
                toLength = valueLength;
            } else if (equals(buf, name, nameLength, ATTR_XMLNS)) {
                if (prefixed) {
                    namespace = value;
                    namespaceLength = valueLength;
                } else {
                    streamsDeclared = equals(buf, value, valueLength, STREAMS_NS);
                }
            } else if (prefixed && equals(buf, name, nameLength, ATTR_XMLNS_STREAM)) {
                streamsDeclared = equals(buf, value, valueLength, STREAMS_NS);
            }
        }
    }

    /** The bytes ran out inside the attributes: on the last call a {@code <stream:stream} header matches. */
    private static DetectionResult lastCall(ByteBuf buf, DetectionContext context, int start, boolean prefixed,
                                            int to, int toLength, int namespace, int namespaceLength) {
        if (!prefixed || !context.isLastCall()) {
            return needMore(buf, start);
        }
        ProtocolAttributes.Builder a = ProtocolAttributes.builder();
        if (to >= 0) {
            a.put(TO, buf.toString(to, toLength, StandardCharsets.UTF_8));
        }
        if (namespace >= 0) {
            a.put(NAMESPACE, buf.toString(namespace, namespaceLength, StandardCharsets.UTF_8));
        }
        return DetectionResult.match(a.build());
    }

    /** The bytes ran out: more may come, unless the header already reached the most bytes read. */
    private static DetectionResult needMore(ByteBuf buf, int start) {
        return buf.writerIndex() - start >= MAX_BYTES ? DetectionResult.noMatch() : DetectionResult.needMore();
    }

    private static boolean prefix(ByteBuf buf, int i, int end, int... bytes) {
        for (int k = 0; k < bytes.length && i + k < end; k++) {
            if (buf.getUnsignedByte(i + k) != bytes[k]) {
                return false;
            }
        }
        return true;
    }

    private static boolean equals(ByteBuf buf, int at, int length, byte[] expected) {
        if (length != expected.length) {
            return false;
        }
        for (int k = 0; k < length; k++) {
            if (buf.getByte(at + k) != expected[k]) {
                return false;
            }
        }
        return true;
    }

    private static boolean space(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static boolean nameChar(byte b) {
        return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == ':' || b == '_'
                || b == '-' || b == '.' || b < 0;
    }
}
