package io.refractium.protocols.mqtt;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects an MQTT client by its CONNECT packet (MQTT 3.1.1 §3.1, MQTT 5.0 §3.1, and MQTT 3.1).
 *
 * <p>The rules, checked byte by byte: the fixed header {@code 0x10} (type CONNECT, flags 0); a remaining length of
 * 1 to 4 bytes (§2.2.3), at least 12; the protocol name {@code 00 04 "MQTT"} with level 4 (3.1.1) or 5 (5.0), or
 * {@code 00 06 "MQIsdp"} with level 3 (3.1), the bridge bit ({@code 0x80}) allowed; the connect flags with the
 * reserved bit 0, a will QoS other than 3, and will QoS and retain 0 without the will flag; the keep-alive; for 5.0
 * the properties (a variable byte integer length, skipped); then the client identifier, a 2-byte length and UTF-8
 * bytes, which must fit in the remaining length. The detector answers
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} at the client identifier's last byte,
 * {@link DetectionResult#needMore() NEED_MORE} before, and {@link DetectionResult#noMatch() NO_MATCH} at the first
 * byte that breaks a rule; on its last call ({@link DetectionContext#isLastCall()}) a valid prefix up to the connect
 * flags matches without the client identifier.
 *
 * <p>Attributes of a match: {@link #VERSION} and {@link #CLIENT_ID} (when received; it may be empty).
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class MqttDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "mqtt";

    /** The most bytes the detector reads, {@value}. */
    public static final int MAX_BYTES = 4096;

    /** The protocol version: {@code "3.1"}, {@code "3.1.1"} or {@code "5.0"}. */
    public static final AttributeKey<String> VERSION = AttributeKey.of("mqtt.version", String.class);
    /** The client identifier (MQTT 3.1.1 §3.1.3.1), possibly empty. */
    public static final AttributeKey<String> CLIENT_ID = AttributeKey.of("mqtt.client_id", String.class);

    private static final byte[] MQTT = {0, 4, 'M', 'Q', 'T', 'T'};
    private static final byte[] MQISDP = {0, 6, 'M', 'Q', 'I', 's', 'd', 'p'};

    /** Creates the detector. */
    public MqttDetector() {
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
     * Parses the CONNECT packet received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context tells whether this is the last call
     * @return {@code MATCH} with the version and client identifier, {@code NEED_MORE} while the bytes are a valid
     *         prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (start == end) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(start) != 0x10) {
            return DetectionResult.noMatch();
        }
        // The remaining length, a variable byte integer.
        int i = start + 1;
        int remaining = 0;
        for (int n = 0; ; n++) {
            if (i >= end) {
                return DetectionResult.needMore();
            }
            int b = buf.getUnsignedByte(i++);
            if (n == 3 && b > 0x7f || n > 0 && b == 0) {
                return DetectionResult.noMatch();          // too long, or not the shortest encoding
            }
            remaining |= (b & 0x7f) << 7 * n;
            if (b < 0x80) {
                break;
            }
        }
        if (remaining < 12) {
            return DetectionResult.noMatch();
        }
        int packetEnd = i + remaining;
        // The protocol name, then the level.
        byte[] name = null;
        for (int n = 0; ; n++) {
            if (i + n >= end) {
                return DetectionResult.needMore();
            }
            byte b = buf.getByte(i + n);
            if (n == 1) {
                name = b == 4 ? MQTT : b == 6 ? MQISDP : null;
                if (name == null) {
                    return DetectionResult.noMatch();
                }
            } else if (n > 1 && n < name.length && b != name[n] || n == 0 && b != 0) {
                return DetectionResult.noMatch();
            } else if (n > 1 && n == name.length) {
                int level = b & 0x7f;
                if (name == MQTT ? level != 4 && level != 5 : level != 3) {
                    return DetectionResult.noMatch();
                }
                i += n + 1;
                break;
            }
        }
        int level = buf.getByte(i - 1) & 0x7f;
        String version = level == 5 ? "5.0" : level == 4 ? "3.1.1" : "3.1";
        // The connect flags and keep-alive.
        if (i >= end) {
            return DetectionResult.needMore();
        }
        int flags = buf.getUnsignedByte(i);
        boolean will = (flags & 0x04) != 0;
        int willQos = flags >> 3 & 3;
        if ((flags & 1) != 0 || willQos == 3 || !will && (willQos != 0 || (flags & 0x20) != 0)) {
            return DetectionResult.noMatch();
        }
        i += 3;
        if (level == 5) {
            int length = 0;
            for (int n = 0; ; n++) {
                if (i >= end) {
                    return lastCall(context, version);
                }
                int b = buf.getUnsignedByte(i++);
                if (n == 3 && b > 0x7f) {
                    return DetectionResult.noMatch();
                }
                length |= (b & 0x7f) << 7 * n;
                if (b < 0x80) {
                    break;
                }
            }
            i += length;
        }
        if (i + 2 > packetEnd) {
            return DetectionResult.noMatch();
        }
        if (i + 2 > end) {
            return lastCall(context, version);
        }
        int idLength = buf.getUnsignedShort(i);
        int id = i + 2;
        if (id + idLength > packetEnd) {
            return DetectionResult.noMatch();
        }
        if (id + idLength > end) {
            return lastCall(context, version);
        }
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(VERSION, version)
                .put(CLIENT_ID, buf.toString(id, idLength, StandardCharsets.UTF_8))
                .build());
    }

    private static DetectionResult lastCall(DetectionContext context, String version) {
        return context.isLastCall()
                ? DetectionResult.match(ProtocolAttributes.builder().put(VERSION, version).build())
                : DetectionResult.needMore();
    }
}
