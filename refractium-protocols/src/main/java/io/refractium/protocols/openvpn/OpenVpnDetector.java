package io.refractium.protocols.openvpn;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Set;

/**
 * Detects an OpenVPN client over TCP or UDP by its first packet, a hard reset (OpenVPN's {@code ssl_pkt.h} and the
 * protocol description in {@code doc/doxygen/doc_protocol_overview.h}, OpenVPN 2.6).
 *
 * <p>Over TCP each packet follows a 2-byte length; over UDP the packet is the flow's first datagram, without a length,
 * and is checked by the same rules with the datagram's length (the answer is {@code MATCH} or {@code NO_MATCH} at
 * once). The first packet's opcode byte is
 * {@code P_CONTROL_HARD_RESET_CLIENT_V2} (7) or {@code P_CONTROL_HARD_RESET_CLIENT_V3} (10, with
 * {@code --tls-crypt-v2}) shifted left by 3, with key id 0 in the low 3 bits: {@code 0x38} or {@code 0x50}. An
 * 8-byte session id follows, random and never all zero. What comes next depends on the server's settings, so the
 * detector checks what every layout fixes, at the packet's last byte:
 * <ul>
 *   <li>V2, no control channel authentication: length 14 (opcode, session id, an empty ack array, message packet id
 *       0), or with {@code --tls-auth}: an HMAC of 16 to 64 bytes, a replay packet id and time between the session id
 *       and the ack array, so a length of 22 plus the HMAC's size, 38 to {@value #MAX_TLS_AUTH_LENGTH}; in both the
 *       packet ends with an empty ack array and message packet id 0, five zero bytes;</li>
 *   <li>V2 with {@code --tls-crypt}: the ack array and packet id are encrypted behind a replay packet id, time and
 *       32-byte tag, so the length is exactly {@value #TLS_CRYPT_LENGTH} and nothing after the session id is
 *       checked;</li>
 *   <li>V3: the {@code --tls-crypt} layout followed by the wrapped client key, whose last two bytes give its own
 *       length, {@value #MIN_WKC_LENGTH} (tag, 2048-bit key, a type byte, the length itself) to
 *       {@value #MAX_WKC_LENGTH} bytes; the rest of the packet is {@value #TLS_CRYPT_LENGTH} to
 *       {@value #TLS_CRYPT_LENGTH} + 64 bytes.</li>
 * </ul>
 * The length is checked as soon as both its bytes are in (14 to {@value #MAX_LENGTH}, and the ranges above for each
 * opcode), the opcode on the third byte, the session id on its last byte; the answer is
 * {@link DetectionResult#noMatch() NO_MATCH} at the first byte that breaks a rule,
 * {@link DetectionResult#needMore() NEED_MORE} before the packet's last byte, and
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} at it. A client sends the packet in one write, so a packet
 * cut short does not match, even on the last call.
 *
 * <p>Attribute of a match: {@link #OPCODE}.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * nothing (the attributes of a match are shared).
 */
public final class OpenVpnDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "openvpn";

    /** {@code P_CONTROL_HARD_RESET_CLIENT_V2}, {@value}. */
    public static final int HARD_RESET_CLIENT_V2 = 7;
    /** {@code P_CONTROL_HARD_RESET_CLIENT_V3}, {@value}. */
    public static final int HARD_RESET_CLIENT_V3 = 10;

    /** The length of a V2 hard reset without control channel authentication, {@value}. */
    public static final int PLAIN_LENGTH = 14;
    /** The longest V2 hard reset with {@code --tls-auth} (a 64-byte HMAC), {@value}. */
    public static final int MAX_TLS_AUTH_LENGTH = 22 + 64;
    /** The length of a hard reset with {@code --tls-crypt}, and of a V3 hard reset before its wrapped key, {@value}. */
    public static final int TLS_CRYPT_LENGTH = 54;
    /** The shortest wrapped client key of {@code --tls-crypt-v2}, {@value}. */
    public static final int MIN_WKC_LENGTH = 32 + 256 + 1 + 2;
    /** The longest wrapped client key ({@code TLS_CRYPT_V2_MAX_WKC_LEN}), {@value}. */
    public static final int MAX_WKC_LENGTH = 1024;
    /** The longest first packet, {@value}, its length prefix excluded. */
    public static final int MAX_LENGTH = TLS_CRYPT_LENGTH + 64 + MAX_WKC_LENGTH;
    /** The most bytes the detector reads, {@value}. */
    public static final int MAX_BYTES = 2 + MAX_LENGTH;

    /** The opcode of the first packet: {@value #HARD_RESET_CLIENT_V2} or {@value #HARD_RESET_CLIENT_V3}. */
    public static final AttributeKey<Integer> OPCODE = AttributeKey.of("openvpn.opcode", Integer.class);

    private static final Set<Transport> TRANSPORTS = Set.of(Transport.TCP, Transport.UDP);
    private static final int V2 = HARD_RESET_CLIENT_V2 << 3;
    private static final int V3 = HARD_RESET_CLIENT_V3 << 3;
    private static final DetectionResult MATCH_V2 = DetectionResult.match(ProtocolAttributes.builder()
            .put(OPCODE, HARD_RESET_CLIENT_V2).build());
    private static final DetectionResult MATCH_V3 = DetectionResult.match(ProtocolAttributes.builder()
            .put(OPCODE, HARD_RESET_CLIENT_V3).build());

    /** Creates the detector. */
    public OpenVpnDetector() {
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
     * Returns {@value #MAX_BYTES}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return MAX_BYTES;
    }

    /**
     * Checks the first packet received so far.
     *
     * @param buf the first bytes of the connection or the first datagrams of the flow, from its reader index to its
     *        writer index; not modified
     * @param context the transport and, over UDP, where the first datagram ends; a hard reset cut short does not
     *        match
     * @return {@code MATCH} with the opcode, {@code NEED_MORE} (TCP only) while the bytes are a valid prefix,
     *         {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        if (context.transport() == Transport.UDP) {
            int end = Math.min(buf.writerIndex(),
                    context.datagrams() > 0 ? start + context.datagramEnd(0) : buf.writerIndex());
            int length = end - start;
            if (length < PLAIN_LENGTH || length > MAX_LENGTH) {
                return DetectionResult.noMatch();
            }
            return packet(buf, start, length, length);
        }
        int available = buf.writerIndex() - start;
        if (available == 0) {
            return DetectionResult.needMore();
        }
        if (buf.getUnsignedByte(start) > MAX_LENGTH >>> 8) {
            return DetectionResult.noMatch();
        }
        if (available < 2) {
            return DetectionResult.needMore();
        }
        int length = buf.getUnsignedShort(start);
        if (length < PLAIN_LENGTH || length > MAX_LENGTH) {
            return DetectionResult.noMatch();
        }
        return packet(buf, start + 2, length, available - 2);
    }

    /**
     * Checks a packet of {@code length} bytes at {@code p}, of which {@code available} have arrived.
     */
    private static DetectionResult packet(ByteBuf buf, int p, int length, int available) {
        if (available < 1) {
            return DetectionResult.needMore();
        }
        int opcode = buf.getUnsignedByte(p);
        if (opcode == V2 ? length != PLAIN_LENGTH && (length < 22 + 16 || length > MAX_TLS_AUTH_LENGTH)
                : opcode != V3 || length < TLS_CRYPT_LENGTH + MIN_WKC_LENGTH) {
            return DetectionResult.noMatch();
        }
        // The session id: never all zero.
        int sessionEnd = p + 1 + 8;
        int n = Math.min(p + available, sessionEnd);
        boolean zero = true;
        for (int i = p + 1; i < n && zero; i++) {
            zero = buf.getByte(i) == 0;
        }
        if (n < sessionEnd) {
            return DetectionResult.needMore();
        }
        if (zero) {
            return DetectionResult.noMatch();
        }
        int packetEnd = p + length;
        if (opcode == V2) {
            if (length == TLS_CRYPT_LENGTH) {
                return available < length ? DetectionResult.needMore() : MATCH_V2;
            }
            // An empty ack array and message packet id 0: the last five bytes.
            int m = Math.min(p + available, packetEnd);
            for (int i = packetEnd - 5; i < m; i++) {
                if (buf.getByte(i) != 0) {
                    return DetectionResult.noMatch();
                }
            }
            return m < packetEnd ? DetectionResult.needMore() : MATCH_V2;
        }
        if (available < length) {
            return DetectionResult.needMore();
        }
        int wkc = buf.getUnsignedShort(packetEnd - 2);
        int rest = length - wkc;
        return wkc >= MIN_WKC_LENGTH && wkc <= MAX_WKC_LENGTH && rest >= TLS_CRYPT_LENGTH
                && rest <= TLS_CRYPT_LENGTH + 64 ? MATCH_V3 : DetectionResult.noMatch();
    }
}
