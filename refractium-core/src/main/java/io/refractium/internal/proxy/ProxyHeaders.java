package io.refractium.internal.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.util.CharsetUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.refractium.ProxyProtocolVersion;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.spi.AttributeKey;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the PROXY protocol headers Refractium sends to backends, with Netty's {@link HAProxyMessage} and
 * {@link HAProxyMessageEncoder}: one per connection (the real client address and, for v2, TLVs for the detected
 * server name, the ALPN protocol and the connection id), and one per health check ({@code LOCAL} for v2,
 * {@code PROXY UNKNOWN} for v1).
 */
public final class ProxyHeaders {

    /** {@code PP2_TYPE_ALPN}. */
    static final byte PP2_TYPE_ALPN = 0x01;
    /** {@code PP2_TYPE_AUTHORITY}. */
    static final byte PP2_TYPE_AUTHORITY = 0x02;
    /** {@code PP2_TYPE_UNIQUE_ID}. */
    static final byte PP2_TYPE_UNIQUE_ID = 0x05;

    private static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(CharsetUtil.US_ASCII);

    private ProxyHeaders() {
    }

    /**
     * Returns the header of a client connection: its real client address and the listener address it connected
     * to; for v2 also the TLVs. Families differ (an IPv4 client on an IPv6 listener): v1 says {@code UNKNOWN}, v2
     * sends an {@code UNSPEC} address block, with the TLVs.
     *
     * @param version the version
     * @param conn the connection, detected
     * @return the encoded header; the caller owns it
     */
    public static ByteBuf forConnection(ProxyProtocolVersion version, ConnectionState conn) {
        InetSocketAddress src = conn.clientAddress();
        InetSocketAddress dst = conn.localAddress();
        HAProxyProtocolVersion v = version == ProxyProtocolVersion.V1 ? HAProxyProtocolVersion.V1
                : HAProxyProtocolVersion.V2;
        boolean v4 = src.getAddress() instanceof Inet4Address;
        boolean sameFamily = dst != null && v4 == (dst.getAddress() instanceof Inet4Address);
        List<HAProxyTLV> tlvs = v == HAProxyProtocolVersion.V2 ? tlvs(conn) : List.of();
        HAProxyMessage m;
        if (!sameFamily) {
            if (v == HAProxyProtocolVersion.V1) {
                return Unpooled.wrappedBuffer(V1_UNKNOWN.clone());
            }
            m = new HAProxyMessage(v, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0, tlvs);
        } else {
            m = new HAProxyMessage(v, HAProxyCommand.PROXY,
                    v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                    src.getAddress().getHostAddress(), dst.getAddress().getHostAddress(), src.getPort(),
                    dst.getPort(), tlvs);
        }
        return encode(m);
    }

    /**
     * Returns the header a health check sends: {@code LOCAL} for v2, {@code PROXY UNKNOWN} for v1.
     *
     * @param version the version
     * @return the encoded header; the caller owns it
     */
    public static ByteBuf forHealthCheck(ProxyProtocolVersion version) {
        if (version == ProxyProtocolVersion.V1) {
            return Unpooled.wrappedBuffer(V1_UNKNOWN.clone());
        }
        HAProxyMessage m = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        return encode(m);
    }

    private static List<HAProxyTLV> tlvs(ConnectionState conn) {
        List<HAProxyTLV> tlvs = new ArrayList<>(3);
        String authority = conn.attributes().get(AttributeKey.SNI);
        if (authority == null) {
            authority = conn.attributes().get(AttributeKey.HTTP_HOST);
        }
        if (authority != null) {
            tlvs.add(tlv(PP2_TYPE_AUTHORITY, authority));
        }
        List<String> alpn = conn.attributes().get(AttributeKey.ALPN);
        if (alpn != null && !alpn.isEmpty()) {
            // The TLV holds one protocol: the client's first choice (the backend terminates TLS and picks its own).
            tlvs.add(tlv(PP2_TYPE_ALPN, alpn.get(0)));
        }
        tlvs.add(tlv(PP2_TYPE_UNIQUE_ID, Long.toString(conn.id())));
        return tlvs;
    }

    private static HAProxyTLV tlv(byte type, String value) {
        return new HAProxyTLV(type, Unpooled.wrappedBuffer(value.getBytes(CharsetUtil.UTF_8)));
    }

    /**
     * Encodes the message with Netty's encoder, through a per-thread {@link EmbeddedChannel} (the encoder is final
     * and encodes only in a pipeline); the message is released by the write.
     */
    private static ByteBuf encode(HAProxyMessage m) {
        EmbeddedChannel ch = ENCODERS.get();
        ch.writeOutbound(m);
        return ch.readOutbound();
    }

    private static final FastThreadLocal<EmbeddedChannel> ENCODERS = new FastThreadLocal<>() {
        @Override
        protected EmbeddedChannel initialValue() {
            return new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        }

        @Override
        protected void onRemoval(EmbeddedChannel ch) {
            ch.finishAndReleaseAll();
        }
    };
}
