package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Set;

/** Small UDP detectors for tests. */
public final class UdpProtocols {

    private UdpProtocols() {
    }

    /**
     * A DNS query over UDP or TCP, by its header only: at least 12 bytes, QR 0, opcode 0, one question, no answer
     * and no authority records (RFC 1035 §4.1.1).
     */
    public static RefractiumProtocol dns() {
        return new RefractiumProtocol() {
            @Override
            public String id() {
                return "dns";
            }

            @Override
            public Set<Transport> transports() {
                return Set.of(Transport.TCP, Transport.UDP);
            }

            @Override
            public int maxBytes() {
                return 512;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                int r = buf.readerIndex();
                if (context.transport() == Transport.TCP) {
                    r += 2;
                }
                if (buf.writerIndex() - r < 12) {
                    return context.transport() == Transport.UDP ? DetectionResult.noMatch() : DetectionResult.needMore();
                }
                boolean query = (buf.getByte(r + 2) & 0xF8) == 0 && buf.getUnsignedShort(r + 4) == 1
                        && buf.getUnsignedShort(r + 6) == 0 && buf.getUnsignedShort(r + 8) == 0;
                return query ? DetectionResult.match() : DetectionResult.noMatch();
            }
        };
    }

    /** A QUIC long-header packet of version 1 (RFC 9000 §17.2); UDP only. */
    public static RefractiumProtocol quic() {
        return new RefractiumProtocol() {
            @Override
            public String id() {
                return "quic";
            }

            @Override
            public Set<Transport> transports() {
                return Set.of(Transport.UDP);
            }

            @Override
            public int maxBytes() {
                return 65_535;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                int r = buf.readerIndex();
                if (buf.readableBytes() < 7 || (buf.getByte(r) & 0xC0) != 0xC0 || buf.getInt(r + 1) != 1) {
                    return DetectionResult.noMatch();
                }
                return DetectionResult.match();
            }
        };
    }

    /**
     * A protocol whose first message spans two datagrams: the first starts with {@code PART1}, the second with
     * {@code PART2}; it checks the boundaries the context gives.
     */
    public static RefractiumProtocol twoParts() {
        return new RefractiumProtocol() {
            @Override
            public String id() {
                return "twoparts";
            }

            @Override
            public Set<Transport> transports() {
                return Set.of(Transport.UDP);
            }

            @Override
            public int maxBytes() {
                return 4096;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                int r = buf.readerIndex();
                if (!startsWith(buf, r, "PART1")) {
                    return DetectionResult.noMatch();
                }
                if (context.datagrams() < 2) {
                    return DetectionResult.needMore();
                }
                return startsWith(buf, r + context.datagramEnd(0), "PART2") ? DetectionResult.match()
                        : DetectionResult.noMatch();
            }
        };
    }

    private static boolean startsWith(ByteBuf buf, int at, String s) {
        if (buf.writerIndex() - at < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (buf.getByte(at + i) != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
