package io.refractium.protocols.wireguard;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Set;

/**
 * Detects a WireGuard client over UDP by its first message, a handshake initiation (the WireGuard whitepaper,
 * "Protocol &amp; Cryptography", §5.4.2).
 *
 * <p>The message is exactly {@value #INITIATION_LENGTH} bytes: the type 1 and three reserved zero bytes, a random
 * sender index (4 bytes), the initiator's ephemeral Curve25519 public key (32), the encrypted static key (32 and a
 * 16-byte tag), the encrypted timestamp (12 and a 16-byte tag), {@code mac1} and {@code mac2} (16 each). The flow's
 * first datagram must be such a message, with an ephemeral key that is not all zero; everything else is encrypted or
 * random, and {@code mac1} could be checked only with the server's public key. The answer is
 * {@link DetectionResult#match() MATCH} or {@link DetectionResult#noMatch() NO_MATCH} at once. A flow that begins
 * with another message (a transport data message after the proxy forgot the flow) does not match.
 *
 * <p>No attributes. Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes,
 * and allocates nothing.
 */
public final class WireGuardDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "wireguard";

    /** The length of a handshake initiation, {@value} bytes. */
    public static final int INITIATION_LENGTH = 148;

    /** The message type of a handshake initiation, {@value}. */
    public static final int TYPE_INITIATION = 1;

    private static final Set<Transport> TRANSPORTS = Set.of(Transport.UDP);
    private static final int EPHEMERAL_OFFSET = 8;
    private static final int KEY_LENGTH = 32;

    /** Creates the detector. */
    public WireGuardDetector() {
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
     * Returns UDP.
     *
     * @return the transports the detector identifies
     */
    @Override
    public Set<Transport> transports() {
        return TRANSPORTS;
    }

    /**
     * Returns {@value #INITIATION_LENGTH}.
     *
     * @return the most bytes the detector may need
     */
    @Override
    public int maxBytes() {
        return INITIATION_LENGTH;
    }

    /**
     * Checks the flow's first datagram.
     *
     * @param buf the first datagrams of the flow, from its reader index to its writer index; not modified
     * @param context where the first datagram ends (the whole buffer when the context tells no datagrams)
     * @return {@code MATCH} for a handshake initiation, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = context.datagrams() > 0 ? start + context.datagramEnd(0) : buf.writerIndex();
        if (end - start != INITIATION_LENGTH || end > buf.writerIndex()
                || buf.getInt(start) != TYPE_INITIATION << 24) {
            return DetectionResult.noMatch();
        }
        for (int i = start + EPHEMERAL_OFFSET; i < start + EPHEMERAL_OFFSET + KEY_LENGTH; i += 8) {
            if (buf.getLong(i) != 0) {
                return DetectionResult.match();
            }
        }
        return DetectionResult.noMatch();
    }
}
