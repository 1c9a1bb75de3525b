package io.refractium.protocols.proxy;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.RefractiumProtocol;

/**
 * Detects a PROXY protocol header, version 1 (text) or 2 (binary), as a load balancer such as HAProxy sends it before
 * the client's own bytes (<a href="https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt">The PROXY protocol,
 * versions 1 &amp; 2</a>, HAProxy Technologies, §2.1 and §2.2).
 *
 * <p>Version 1, checked byte by byte: {@code "PROXY "}, then {@code "TCP4 "} or {@code "TCP6 "} followed by the source
 * address, a space, the destination address, a space, the source port, a space, the destination port and
 * {@code "\r\n"} (addresses of digits and dots for TCP4, of hex digits, colons and dots for TCP6; ports of 1 to 5
 * digits, at most 65535), or {@code "UNKNOWN"} followed by {@code "\r\n"} or a space, any printable bytes and
 * {@code "\r\n"}; the whole line at most {@value #MAX_V1_BYTES} bytes. It matches at the {@code '\n'}.
 *
 * <p>Version 2: the 12-byte signature {@code \r\n\r\n\0\r\nQUIT\n}; the version and command byte, version 2 and
 * command LOCAL (0) or PROXY (1); the address family and transport byte, one of {@code 0x00} (UNSPEC),
 * {@code 0x11}/{@code 0x12} (TCP/UDP over IPv4), {@code 0x21}/{@code 0x22} (IPv6), {@code 0x31}/{@code 0x32} (UNIX);
 * and the 2-byte length of what follows, at least the size of the family's addresses (12, 36 or 216). It matches at
 * the 16th byte, the end of the fixed header; the addresses and TLVs that follow are not read.
 *
 * <p>It answers {@link DetectionResult#noMatch() NO_MATCH} at the first byte that breaks a rule and
 * {@link DetectionResult#needMore() NEED_MORE} on a valid prefix. The header precedes any other protocol, so the
 * priority, {@value #PRIORITY}, is above every other built-in detector: a connection whose first byte is {@code 'P'}
 * or {@code '\r'} waits for this detector's answer. This detector only recognizes the header: a route for
 * {@code proxy} should lead to a backend or handler that reads it (HAProxy's {@code accept-proxy}, Netty's
 * {@code HAProxyMessageDecoder}).
 *
 * <p>Attribute of a match: {@link #VERSION}.
 *
 * <p>Stateless and thread-safe; it reads the buffer with absolute getters, never moves its indexes, and allocates
 * nothing (the attributes of a match are shared).
 */
public final class ProxyProtocolDetector implements RefractiumProtocol {

    /** The protocol id, {@value}. */
    public static final String ID = "proxy";

    /** The detector's priority, {@value}: a PROXY header comes before the bytes of any other protocol. */
    public static final int PRIORITY = 100;

    /** The longest version 1 line, {@value}, {@code "\r\n"} included (§2.1). */
    public static final int MAX_V1_BYTES = 107;

    /** The version 2 fixed header's length, {@value}. */
    public static final int V2_HEADER_BYTES = 16;

    /** The most bytes the detector reads, {@value}: the longest version 1 line. */
    public static final int MAX_BYTES = MAX_V1_BYTES;

    /** The header's version: {@code "1"} or {@code "2"}. */
    public static final AttributeKey<String> VERSION = AttributeKey.of("proxy.version", String.class);

    private static final DetectionResult V1 = DetectionResult.match(ProtocolAttributes.builder()
            .put(VERSION, "1").build());
    private static final DetectionResult V2 = DetectionResult.match(ProtocolAttributes.builder()
            .put(VERSION, "2").build());

    private static final byte[] V1_PREFIX = {'P', 'R', 'O', 'X', 'Y', ' '};
    private static final byte[] V2_SIGNATURE = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 'Q', 'U', 'I', 'T', 0x0a};
    private static final byte[] TCP = {'T', 'C', 'P'};
    private static final byte[] UNKNOWN = {'U', 'N', 'K', 'N', 'O', 'W', 'N'};

    /** Creates the detector. */
    public ProxyProtocolDetector() {
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
     * Returns {@value #PRIORITY}.
     *
     * @return the priority
     */
    @Override
    public int priority() {
        return PRIORITY;
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
     * Checks the header received so far.
     *
     * @param buf the first bytes of the connection, from its reader index to its writer index; not modified
     * @param context not used: a header cut short is no header
     * @return {@code MATCH} with the version, {@code NEED_MORE} while the bytes are a valid prefix, {@code NO_MATCH}
     *         otherwise
     */
    @Override
    public DetectionResult detect(ByteBuf buf, DetectionContext context) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        if (start == end) {
            return DetectionResult.needMore();
        }
        byte first = buf.getByte(start);
        if (first == 'P') {
            return v1(buf, start, end);
        }
        if (first == 0x0d) {
            return v2(buf, start, end);
        }
        return DetectionResult.noMatch();
    }

    private static DetectionResult v2(ByteBuf buf, int start, int end) {
        int n = Math.min(end - start, V2_SIGNATURE.length);
        for (int i = 1; i < n; i++) {
            if (buf.getByte(start + i) != V2_SIGNATURE[i]) {
                return DetectionResult.noMatch();
            }
        }
        if (end - start <= 12) {
            return DetectionResult.needMore();
        }
        int versionCommand = buf.getUnsignedByte(start + 12);
        if (versionCommand != 0x20 && versionCommand != 0x21) {
            return DetectionResult.noMatch();
        }
        if (end - start <= 13) {
            return DetectionResult.needMore();
        }
        int minLength;
        switch (buf.getUnsignedByte(start + 13)) {
            case 0x00 -> minLength = 0;
            case 0x11, 0x12 -> minLength = 12;
            case 0x21, 0x22 -> minLength = 36;
            case 0x31, 0x32 -> minLength = 216;
            default -> {
                return DetectionResult.noMatch();
            }
        }
        if (end - start < V2_HEADER_BYTES) {
            return DetectionResult.needMore();
        }
        return buf.getUnsignedShort(start + 14) >= minLength ? V2 : DetectionResult.noMatch();
    }

    private static DetectionResult v1(ByteBuf buf, int start, int end) {
        int limit = Math.min(end, start + MAX_V1_BYTES);
        int i = start;
        for (byte b : V1_PREFIX) {
            if (i == limit) {
                return DetectionResult.needMore();
            }
            if (buf.getByte(i++) != b) {
                return DetectionResult.noMatch();
            }
        }
        if (i == limit) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i) == 'U') {
            for (byte b : UNKNOWN) {
                if (i == limit) {
                    return DetectionResult.needMore();
                }
                if (buf.getByte(i++) != b) {
                    return DetectionResult.noMatch();
                }
            }
            // "\r\n", or a space and anything printable up to "\r\n".
            boolean space = false;
            for (; i < limit; i++) {
                byte b = buf.getByte(i);
                if (b == '\r') {
                    return crlf(buf, i, end, start);
                }
                if (!space && b != ' ' || b < 0x20 || b > 0x7e) {
                    return DetectionResult.noMatch();
                }
                space = true;
            }
            return endOfInput(i, start);
        }
        for (byte b : TCP) {
            if (i == limit) {
                return DetectionResult.needMore();
            }
            if (buf.getByte(i++) != b) {
                return DetectionResult.noMatch();
            }
        }
        if (i == limit) {
            return DetectionResult.needMore();
        }
        byte family = buf.getByte(i++);
        if (family != '4' && family != '6') {
            return DetectionResult.noMatch();
        }
        if (i == limit) {
            return DetectionResult.needMore();
        }
        if (buf.getByte(i++) != ' ') {
            return DetectionResult.noMatch();
        }
        int maxAddress = family == '4' ? 15 : 45;
        // Four fields: source address, destination address, source port, destination port.
        for (int field = 0; field < 4; field++) {
            boolean port = field >= 2;
            int length = 0;
            int value = 0;
            for (; ; i++) {
                if (i == limit) {
                    return endOfInput(i, start);
                }
                byte b = buf.getByte(i);
                if (b == (field == 3 ? '\r' : ' ')) {
                    if (length == 0) {
                        return DetectionResult.noMatch();
                    }
                    i++;
                    break;
                }
                length++;
                boolean ok;
                if (port) {
                    ok = b >= '0' && b <= '9' && length <= 5 && (value = value * 10 + b - '0') <= 65535;
                } else if (family == '4') {
                    ok = (b >= '0' && b <= '9' || b == '.') && length <= maxAddress;
                } else {
                    ok = (b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' || b == ':'
                            || b == '.') && length <= maxAddress;
                }
                if (!ok) {
                    return DetectionResult.noMatch();
                }
            }
        }
        return crlf(buf, i - 1, end, start);
    }

    /** At the {@code '\r'} at {@code cr}: a match if {@code '\n'} follows within the line's limit. */
    private static DetectionResult crlf(ByteBuf buf, int cr, int end, int start) {
        if (cr + 1 - start >= MAX_V1_BYTES) {
            return DetectionResult.noMatch();
        }
        if (cr + 1 == end) {
            return DetectionResult.needMore();
        }
        return buf.getByte(cr + 1) == '\n' ? V1 : DetectionResult.noMatch();
    }

    /** The bytes ran out at {@code i}: more may come, unless the line's limit is reached. */
    private static DetectionResult endOfInput(int i, int start) {
        return i - start >= MAX_V1_BYTES ? DetectionResult.noMatch() : DetectionResult.needMore();
    }
}
