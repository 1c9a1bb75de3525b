package io.refractium.protocols.minecraft;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects a Minecraft: Java Edition client by its first packet, the Handshake (the protocol as documented on
 * wiki.vg, now the Minecraft Wiki's "Java Edition protocol" page: "Handshaking", "Data types").
 *
 * <p>The packet, checked byte by byte: its length as a VarInt of 1 or 2 bytes (shortest encoding), 7 to
 * {@value #MAX_PACKET_LENGTH}; the packet id {@code 0x00}; the protocol version, a VarInt of up to 5 bytes (any value:
 * status pingers send -1); the server address, a String: a VarInt byte length, 1 to {@value #MAX_ADDRESS_BYTES}
 * (255 characters of up to 3 UTF-8 bytes), that must end the packet exactly 3 bytes before its end, then UTF-8 bytes,
 * no control characters before the first NUL and not a NUL first; the server port, an unsigned short; and the next
 * state, a VarInt: 1 (status), 2 (login) or 3 (transfer, since 1.20.5), the packet's last byte. The detector answers
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} at that byte, {@link DetectionResult#needMore() NEED_MORE}
 * before, and {@link DetectionResult#noMatch() NO_MATCH} at the first byte that breaks a rule; on its last call
 * ({@link DetectionContext#isLastCall()}) a valid prefix that holds the whole address matches without the port and
 * next state.
 *
 * <p>The address is reported up to its first NUL: Forge clients append {@code "\0FML\0"}, {@code "\0FML2\0"} or
 * {@code "\0FML3\0"}, and BungeeCord-style forwarding appends the client's address and profile after NULs. The
 * pre-1.7 protocol (the legacy server list ping, first byte {@code 0xFE}, and the old {@code 0x02} handshake) and
 * Bedrock Edition (UDP) are not recognized.
 *
 * <p>Attributes of a match: {@link #ADDRESS}, {@link #PROTOCOL}, {@link #PORT}, {@link #NEXT_STATE}.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class MinecraftDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "minecraft";

    /** The longest server address in bytes, {@value}: 255 characters of up to 3 UTF-8 bytes. */
    public static final int MAX_ADDRESS_BYTES = 255 * 3;
    /** The longest Handshake packet, {@value}: id, a 5-byte protocol version, the address, port and next state. */
    public static final int MAX_PACKET_LENGTH = 1 + 5 + 2 + MAX_ADDRESS_BYTES + 2 + 1;
    /** The most bytes the detector reads, {@value}: the packet and its 2-byte length. */
    public static final int MAX_BYTES = 2 + MAX_PACKET_LENGTH;

    /** The server address the client was told to connect to, without a Forge or forwarding suffix. */
    public static final AttributeKey<String> ADDRESS = AttributeKey.of("minecraft.address", String.class);
    /** The protocol version number (for example 47 for 1.8, 767 for 1.21), or -1 from some status pingers. */
    public static final AttributeKey<Integer> PROTOCOL = AttributeKey.of("minecraft.protocol", Integer.class);
    /** The server port the client was told to connect to. */
    public static final AttributeKey<Integer> PORT = AttributeKey.of("minecraft.port", Integer.class);
    /** The next state: 1 (status), 2 (login) or 3 (transfer). */
    public static final AttributeKey<Integer> NEXT_STATE = AttributeKey.of("minecraft.next_state", Integer.class);

    private static final int MIN_PACKET_LENGTH = 1 + 1 + 1 + 1 + 2 + 1;

    /** Creates the detector. */
    public MinecraftDetector() {
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
     * Parses the Handshake packet received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call
     * @return {@code MATCH} with the address, protocol version, port and next state, {@code NEED_MORE} while the
     *         bytes are a valid prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        // The packet length: 1 or 2 bytes.
        if (start == end) {
            return DetectionResult.needMore();
        }
        int b0 = buf.getUnsignedByte(start);
        int i = start + 1;
        int length = b0 & 0x7f;
        if (b0 >= 0x80) {
            if (i == end) {
                return DetectionResult.needMore();
            }
            int b1 = buf.getUnsignedByte(i++);
            if (b1 == 0 || b1 >= 0x80) {
                return DetectionResult.noMatch();
            }
            length |= b1 << 7;
        }
        if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH) {
            return DetectionResult.noMatch();
        }
        int packetEnd = i + length;
        // The packet id.
        if (i == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != 0) {
            return DetectionResult.noMatch();
        }
        // The protocol version: up to 5 bytes, the fifth holding the top 4 bits.
        int protocol = 0;
        for (int n = 0; ; n++) {
            if (i == end) {
                return DetectionResult.needMore();
            }
            int b = buf.getUnsignedByte(i++);
            if (n == 4 && b > 0x0f) {
                return DetectionResult.noMatch();
            }
            protocol |= (b & 0x7f) << 7 * n;
            if (b < 0x80) {
                break;
            }
        }
        // The address length: 1 or 2 bytes; the address, port and next state end the packet.
        if (i == end) {
            return DetectionResult.needMore();
        }
        int a0 = buf.getUnsignedByte(i++);
        int addressLength = a0 & 0x7f;
        if (a0 >= 0x80) {
            if (i == end) {
                return DetectionResult.needMore();
            }
            int a1 = buf.getUnsignedByte(i++);
            if (a1 == 0 || a1 >= 0x80) {
                return DetectionResult.noMatch();
            }
            addressLength |= a1 << 7;
        }
        if (addressLength == 0 || addressLength > MAX_ADDRESS_BYTES || i + addressLength + 3 != packetEnd) {
            return DetectionResult.noMatch();
        }
        int address = i;
        int addressEnd = i + addressLength;
        int hostEnd = addressEnd;
        int m = Math.min(end, addressEnd);
        for (; i < m; i++) {
            byte b = buf.getByte(i);
            if (b == 0) {
                if (i == address) {
                    return DetectionResult.noMatch();
                }
                hostEnd = i;
                break;
            }
            if (b > 0 && b < 0x20 || b == 0x7f) {
                return DetectionResult.noMatch();
            }
        }
        if (end < addressEnd) {
            if (hostEnd == addressEnd || !context.isLastCall()) {
                return DetectionResult.needMore();
            }
            // On the last call: the host before the NUL is all there.
        } else if (end < packetEnd) {
            if (!context.isLastCall()) {
                return DetectionResult.needMore();
            }
        } else {
            int nextState = buf.getUnsignedByte(packetEnd - 1);
            if (nextState < 1 || nextState > 3) {
                return DetectionResult.noMatch();
            }
            return DetectionResult.match(ProtocolAttributes.builder()
                    .put(ADDRESS, buf.toString(address, hostEnd - address, StandardCharsets.UTF_8))
                    .put(PROTOCOL, protocol)
                    .put(PORT, buf.getUnsignedShort(addressEnd))
                    .put(NEXT_STATE, nextState)
                    .build());
        }
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(ADDRESS, buf.toString(address, hostEnd - address, StandardCharsets.UTF_8))
                .put(PROTOCOL, protocol)
                .build());
    }
}
