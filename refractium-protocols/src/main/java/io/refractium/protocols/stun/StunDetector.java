package io.refractium.protocols.stun;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Set;

/**
 * Detects a STUN (RFC 8489, formerly RFC 5389) or TURN (RFC 8656, RFC 6062) client over TCP or UDP by the header of
 * its first message (RFC 8489 §5).
 *
 * <p>The rules, checked byte by byte: the message type's top two bits are zero, and the type is one a client sends
 * first: a request of the methods Binding ({@code 0x001}), Allocate ({@code 0x003}), Refresh ({@code 0x004}),
 * CreatePermission ({@code 0x008}), ChannelBind ({@code 0x009}), Connect ({@code 0x00a}) or ConnectionBind
 * ({@code 0x00b}), or a Binding or Send indication (so the first byte is {@code 0x00}); the message length is a
 * multiple of 4; the magic cookie {@code 0x2112A442} follows. The detector answers
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} at the cookie's last byte (the 8th), before the transaction
 * id and the attributes, {@link DetectionResult#noMatch() NO_MATCH} at the first byte that breaks a rule, and
 * {@link DetectionResult#needMore() NEED_MORE} before. Responses, which only a server sends, and the classic STUN of
 * RFC 3489, which has no magic cookie, do not match.
 *
 * <p>Over UDP the flow's first datagram must hold exactly one such message: the same header, a length that is the
 * datagram's length less the 20-byte header, and attributes (type, length, value padded to 4 bytes, RFC 8489 §14)
 * that end exactly with it. The answer is {@code MATCH} or {@code NO_MATCH} at once.
 *
 * <p>Attributes of a match: {@link #METHOD} and {@link #CLASS}.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * nothing (the attributes of each message type are shared).
 */
public final class StunDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "stun";

    /** The most bytes the detector reads, {@value}: the type, length and magic cookie. */
    public static final int MAX_BYTES = 8;

    /** The magic cookie, {@value}. */
    public static final int MAGIC_COOKIE = 0x2112A442;

    /**
     * The method, in lower case with underscores: {@code binding}, {@code allocate}, {@code refresh},
     * {@code create_permission}, {@code channel_bind}, {@code connect}, {@code connection_bind} or {@code send}.
     */
    public static final AttributeKey<String> METHOD = AttributeKey.of("stun.method", String.class);
    /** The class: {@code request} or {@code indication}. */
    public static final AttributeKey<String> CLASS = AttributeKey.of("stun.class", String.class);

    /** The length of the message header, {@value}: type, length, magic cookie, transaction id. */
    public static final int HEADER_LENGTH = 20;

    private static final Set<Transport> TRANSPORTS = Set.of(Transport.TCP, Transport.UDP);

    /** The answer for each value of the type's second byte; {@code null} for a type this detector rejects. */
    private static final DetectionResult[] BY_TYPE = new DetectionResult[256];

    static {
        String[] methods = {null, "binding", null, "allocate", "refresh", null, null, null, "create_permission",
            "channel_bind", "connect", "connection_bind"};
        for (int m = 0; m < methods.length; m++) {
            if (methods[m] != null) {
                BY_TYPE[m] = result(methods[m], "request");
            }
        }
        BY_TYPE[0x10 | 0x001] = result("binding", "indication");
        BY_TYPE[0x10 | 0x006] = result("send", "indication");
    }

    private static DetectionResult result(String method, String messageClass) {
        return DetectionResult.match(ProtocolAttributes.builder().put(METHOD, method).put(CLASS, messageClass)
                .build());
    }

    /** Creates the detector. */
    public StunDetector() {
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
     * Returns TCP and UDP.
     *
     * @return the transports the detector identifies
     */
    @Override
    public Set<Transport> transports() {
        return TRANSPORTS;
    }

    /**
     * Returns {@value #MAX_BYTES} over TCP; over UDP the whole first datagram is read, however long.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Checks the message header received so far.
     *
     * @param buf the first bytes of the connection or the first datagrams of the flow, from its reader index to its
     *        writer index; not modified
     * @param context the transport and, over UDP, where the first datagram ends
     * @return {@code MATCH} with the method and class, {@code NEED_MORE} (TCP only) while the bytes are a valid
     *         prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        if (context.transport() == Transport.UDP) {
            int end = context.datagrams() > 0 ? start + context.datagramEnd(0) : buf.writerIndex();
            return datagram(buf, start, Math.min(end, buf.writerIndex()));
        }
        return header(buf, start, Math.min(buf.writerIndex() - start, MAX_BYTES));
    }

    /** Checks the first {@code n} bytes of the header, at most {@value #MAX_BYTES}. */
    private static DetectionResult header(ByteBuf buf, int start, int n) {
        for (int i = 0; i < n; i++) {
            int b = buf.getUnsignedByte(start + i);
            boolean ok = switch (i) {
                case 0 -> b == 0;
                case 1 -> BY_TYPE[b] != null;
                case 2 -> true;
                case 3 -> (b & 3) == 0;
                default -> b == (MAGIC_COOKIE >>> 8 * (7 - i) & 0xff);
            };
            if (!ok) {
                return DetectionResult.noMatch();
            }
        }
        return n < MAX_BYTES ? DetectionResult.needMore() : BY_TYPE[buf.getUnsignedByte(start + 1)];
    }

    /** Checks that a datagram holds exactly one message with a valid header and well-formed attributes. */
    private static DetectionResult datagram(ByteBuf buf, int start, int end) {
        if (end - start < HEADER_LENGTH || end - start != HEADER_LENGTH + buf.getUnsignedShort(start + 2)) {
            return DetectionResult.noMatch();
        }
        DetectionResult r = header(buf, start, MAX_BYTES);
        if (!r.isMatch()) {
            return DetectionResult.noMatch();
        }
        int p = start + HEADER_LENGTH;
        while (p < end) {
            if (end - p < 4) {
                return DetectionResult.noMatch();
            }
            int length = buf.getUnsignedShort(p + 2);
            p += 4 + (length + 3 & ~3);
        }
        return p == end ? r : DetectionResult.noMatch();
    }
}
