package io.refractium.protocols.socks;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;

/**
 * Detects a SOCKS client by its first message.
 *
 * <ul>
 *   <li>SOCKS4 (Ying-Da Lee, "SOCKS: A protocol for TCP proxy across firewalls"): version 4, command 1 (CONNECT) or
 *       2 (BIND), a non-zero port, an IPv4 address other than {@code 0.0.0.0}, then a user id of printable ASCII
 *       ending with NUL.</li>
 *   <li>SOCKS4a ("SOCKS 4A: A Simple Extension to SOCKS 4 Protocol"): the same with the address
 *       {@code 0.0.0.x}, {@code x} non-zero, and after the user id a host name of 1 to 255 printable ASCII bytes
 *       ending with NUL.</li>
 *   <li>SOCKS5 (RFC 1928 §3): version 5, 1 to 255 authentication methods, each an IANA-assigned method ({@code 0x00}
 *       to {@code 0x09}) or a private one ({@code 0x80} to {@code 0xfe}). A greeting this short is matched only
 *       when the bytes end with it (the client waits for the server's choice) or go on with what may follow it:
 *       a request (RFC 1928 §4: version 5, command 1 to 3, reserved 0, address type 1, 3 or 4) or a
 *       username/password negotiation (RFC 1929 §2: version 1).</li>
 * </ul>
 * The detector answers {@link DetectionResult#noMatch() NO_MATCH} on the first byte that breaks these rules,
 * {@link DetectionResult#needMore() NEED_MORE} while the bytes are a valid prefix, and
 * {@link DetectionResult#match(ProtocolAttributes) MATCH} on the message's last byte (the user id's or host name's
 * NUL, or the last method).
 *
 * <p>Attributes of a match: {@link #VERSION} always; {@link #HOST} (the 4a host name, lower-case, or the SOCKS4
 * address in dotted form), {@link #PORT} and {@link #USER} (when not empty) for SOCKS4 and 4a.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * only the attributes of a match.
 */
public final class SocksDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "socks";

    /** The most bytes the detector reads, {@value}: a SOCKS4a request with a 255-byte user id and host name. */
    public static final int MAX_BYTES = 8 + 256 + 256;

    /** The version: {@code "4"}, {@code "4a"} or {@code "5"}. */
    public static final AttributeKey<String> VERSION = AttributeKey.of("socks.version", String.class);
    /** The target of a SOCKS4 or 4a request: the 4a host name, lower-case, or the SOCKS4 IPv4 address. */
    public static final AttributeKey<String> HOST = AttributeKey.of("socks.host", String.class);
    /** The target port of a SOCKS4 or 4a request. */
    public static final AttributeKey<Integer> PORT = AttributeKey.of("socks.port", Integer.class);
    /** The user id of a SOCKS4 or 4a request, when not empty. */
    public static final AttributeKey<String> USER = AttributeKey.of("socks.user", String.class);

    private static final ProtocolAttributes SOCKS5 = ProtocolAttributes.builder().put(VERSION, "5").build();
    private static final int MAX_FIELD = 255;

    /** Creates the detector. */
    public SocksDetector() {
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
     * Parses the first message received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context unused
     * @return {@code MATCH} with the version (and the SOCKS4 target), {@code NEED_MORE} while the bytes are a valid
     *         prefix, {@code NO_MATCH} otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (start == end) {
            return DetectionResult.needMore();
        }
        int version = buf.getUnsignedByte(start);
        if (version == 4) {
            return socks4(buf, start, end);
        }
        return version == 5 ? socks5(buf, start, end) : DetectionResult.noMatch();
    }

    private static DetectionResult socks5(ByteBuf buf, int start, int end) {
        if (end - start < 2) {
            return DetectionResult.needMore();
        }
        int methods = buf.getUnsignedByte(start + 1);
        if (methods == 0) {
            return DetectionResult.noMatch();
        }
        int greetingEnd = start + 2 + methods;
        for (int i = start + 2; i < Math.min(end, greetingEnd); i++) {
            int m = buf.getUnsignedByte(i);
            if (m > 0x09 && m < 0x80 || m == 0xff) {
                return DetectionResult.noMatch();
            }
        }
        if (end < greetingEnd) {
            return DetectionResult.needMore();
        }
        // What may follow the greeting without waiting: a request, or a username/password negotiation.
        if (end > greetingEnd) {
            int next = buf.getUnsignedByte(greetingEnd);
            if (next == 5) {
                if (end > greetingEnd + 1 && (buf.getByte(greetingEnd + 1) < 1 || buf.getByte(greetingEnd + 1) > 3)
                        || end > greetingEnd + 2 && buf.getByte(greetingEnd + 2) != 0) {
                    return DetectionResult.noMatch();
                }
                if (end > greetingEnd + 3) {
                    int type = buf.getByte(greetingEnd + 3);
                    if (type != 1 && type != 3 && type != 4) {
                        return DetectionResult.noMatch();
                    }
                }
            } else if (next != 1) {
                return DetectionResult.noMatch();
            }
        }
        return DetectionResult.match(SOCKS5);
    }

    private static DetectionResult socks4(ByteBuf buf, int start, int end) {
        int available = end - start;
        if (available < 2) {
            return DetectionResult.needMore();
        }
        int command = buf.getUnsignedByte(start + 1);
        if (command != 1 && command != 2) {
            return DetectionResult.noMatch();
        }
        if (available < 4) {
            return DetectionResult.needMore();
        }
        int port = buf.getUnsignedShort(start + 2);
        if (port == 0) {
            return DetectionResult.noMatch();
        }
        if (available < 8) {
            return DetectionResult.needMore();
        }
        if (buf.getInt(start + 4) == 0) {
            return DetectionResult.noMatch();             // 0.0.0.0 is no address
        }
        boolean is4a = buf.getMedium(start + 4) == 0;
        int user = start + 8;
        int userEnd = nulTerminated(buf, user, end, false);
        if (userEnd < 0) {
            return userEnd == -1 ? DetectionResult.needMore() : DetectionResult.noMatch();
        }
        if (!is4a) {
            return match(buf, "4", ipv4(buf, start + 4), port, user, userEnd, -1, -1);
        }
        int host = userEnd + 1;
        int hostEnd = nulTerminated(buf, host, end, true);
        if (hostEnd < 0) {
            return hostEnd == -1 ? DetectionResult.needMore() : DetectionResult.noMatch();
        }
        return match(buf, "4a", null, port, user, userEnd, host, hostEnd);
    }

    /** Returns the index of the NUL that ends a printable field at {@code i}, -1 for more bytes, -2 if invalid. */
    private static int nulTerminated(ByteBuf buf, int i, int end, boolean nonEmpty) {
        for (int n = 0; i + n < end; n++) {
            int b = buf.getUnsignedByte(i + n);
            if (b == 0) {
                return nonEmpty && n == 0 ? -2 : i + n;
            }
            if (b < 0x20 || b > 0x7e || n == MAX_FIELD) {
                return -2;
            }
        }
        return -1;
    }

    private static String ipv4(ByteBuf buf, int at) {
        return buf.getUnsignedByte(at) + "." + buf.getUnsignedByte(at + 1) + "." + buf.getUnsignedByte(at + 2) + "."
                + buf.getUnsignedByte(at + 3);
    }

    private static DetectionResult match(ByteBuf buf, String version, String address, int port, int user,
                                         int userEnd, int host, int hostEnd) {
        String hostName = host < 0 ? address
                : buf.toString(host, hostEnd - host, StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT);
        return DetectionResult.match(ProtocolAttributes.builder()
                .put(VERSION, version)
                .put(HOST, hostName)
                .put(PORT, port)
                .put(USER, userEnd == user ? null : buf.toString(user, userEnd - user, StandardCharsets.US_ASCII))
                .build());
    }
}
