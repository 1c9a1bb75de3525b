package io.refractium.hook;

import io.refractium.ProxyProtocolVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The PROXY protocol header a connection arrived with
 * ({@code https://www.haproxy.org/download/3.0/doc/proxy-protocol.txt}), on a listener that receives one from a
 * trusted source ({@code RefractiumBuilder.acceptProxyProtocol}); see {@link ConnectionInfo#proxyHeader()}. It holds
 * the version, whether the command was {@code LOCAL}, the socket's peer address (the proxy or load balancer in
 * front), the client and server addresses the header carries, and, for v2, its TLVs: each one raw by type, and the
 * common ones decoded ({@link #authority()}, {@link #alpn()}, {@link #uniqueId()}).
 *
 * <p>Immutable and thread-safe. TLV values are copies taken when the header was decoded: no buffer is held, and
 * {@link Tlv#value()} returns a fresh copy on each call.
 */
public final class ProxyInfo {

    /** {@code PP2_TYPE_ALPN}: the application protocol the client negotiated with the proxy. */
    public static final int PP2_TYPE_ALPN = 0x01;
    /** {@code PP2_TYPE_AUTHORITY}: the host name the client asked for (its SNI or Host), UTF-8. */
    public static final int PP2_TYPE_AUTHORITY = 0x02;
    /** {@code PP2_TYPE_CRC32C}: a checksum of the header. */
    public static final int PP2_TYPE_CRC32C = 0x03;
    /** {@code PP2_TYPE_NOOP}: padding, to be ignored. */
    public static final int PP2_TYPE_NOOP = 0x04;
    /** {@code PP2_TYPE_UNIQUE_ID}: an opaque id of the connection, up to 128 bytes. */
    public static final int PP2_TYPE_UNIQUE_ID = 0x05;
    /** {@code PP2_TYPE_SSL}: what the proxy knows of the client's TLS session; its raw value holds sub-TLVs. */
    public static final int PP2_TYPE_SSL = 0x20;
    /** {@code PP2_TYPE_NETNS}: the network namespace the proxy accepted the connection in. */
    public static final int PP2_TYPE_NETNS = 0x30;

    private final ProxyProtocolVersion version;
    private final boolean local;
    private final InetSocketAddress socketAddress;
    private final InetSocketAddress source;
    private final InetSocketAddress destination;
    private final List<Tlv> tlvs;

    /**
     * Creates the view of one header.
     *
     * @param version the header's version
     * @param local whether the command was {@code LOCAL} (the proxy's own connection, such as a health check)
     * @param socketAddress the socket's peer address: the proxy that sent the header
     * @param source the client address the header carries, or {@code null} (see {@link #source()})
     * @param destination the server address the header carries, or {@code null}
     * @param tlvs the header's TLVs in the order sent, empty for v1
     */
    public ProxyInfo(ProxyProtocolVersion version, boolean local, InetSocketAddress socketAddress,
                     InetSocketAddress source, InetSocketAddress destination, List<Tlv> tlvs) {
        this.version = Objects.requireNonNull(version, "version");
        this.local = local;
        this.socketAddress = Objects.requireNonNull(socketAddress, "socketAddress");
        this.source = source;
        this.destination = destination;
        this.tlvs = List.copyOf(tlvs);
    }

    /** Returns the header's version. */
    public ProxyProtocolVersion version() {
        return version;
    }

    /**
     * Returns whether the command was {@code LOCAL} (v2): the proxy's own connection, such as a health check, whose
     * client address stays the socket's.
     */
    public boolean isLocal() {
        return local;
    }

    /** Returns the socket's peer address: the proxy or load balancer that sent the header. */
    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    /**
     * Returns the client address the header carries, which is then the connection's
     * {@link ConnectionInfo#clientAddress()}; {@code null} for a {@code LOCAL} command and for an address family
     * other than TCP over IPv4 or IPv6 ({@code UNKNOWN}, UDP, UNIX), where the client address stays the socket's.
     */
    public InetSocketAddress source() {
        return source;
    }

    /**
     * Returns the server address the header carries (the address the client connected to on the proxy);
     * {@code null} when {@link #source()} is.
     */
    public InetSocketAddress destination() {
        return destination;
    }

    /** Returns the header's TLVs in the order sent; empty for v1 and for a v2 header without any. */
    public List<Tlv> tlvs() {
        return tlvs;
    }

    /**
     * Returns a copy of the value of the first TLV of a type, or {@code null} when there is none.
     *
     * @param type the type, 0 to 255 (such as {@link #PP2_TYPE_AUTHORITY})
     * @return a copy of the value, or {@code null}
     */
    public byte[] tlv(int type) {
        Tlv t = find(type);
        return t == null ? null : t.value();
    }

    /** Returns the {@link #PP2_TYPE_AUTHORITY} TLV decoded as UTF-8, or {@code null} when there is none. */
    public String authority() {
        return string(PP2_TYPE_AUTHORITY);
    }

    /** Returns the {@link #PP2_TYPE_ALPN} TLV decoded as UTF-8 (e.g. {@code "h2"}), or {@code null}. */
    public String alpn() {
        return string(PP2_TYPE_ALPN);
    }

    /**
     * Returns the {@link #PP2_TYPE_UNIQUE_ID} TLV decoded as UTF-8, or {@code null}. The protocol calls it opaque
     * bytes: {@code tlv(PP2_TYPE_UNIQUE_ID)} gives them as sent.
     */
    public String uniqueId() {
        return string(PP2_TYPE_UNIQUE_ID);
    }

    private String string(int type) {
        Tlv t = find(type);
        return t == null ? null : new String(t.value, StandardCharsets.UTF_8);
    }

    private Tlv find(int type) {
        for (int i = 0, n = tlvs.size(); i < n; i++) {
            Tlv t = tlvs.get(i);
            if (t.type == type) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        List<String> types = new ArrayList<>(tlvs.size());
        for (Tlv t : tlvs) {
            types.add(t.toString());
        }
        return "ProxyInfo[" + version + (local ? " LOCAL" : "") + " from " + socketAddress + ", source=" + source
                + ", destination=" + destination + ", tlvs=" + types + "]";
    }

    /** One TLV of a v2 header: its type and a copy of its value. Immutable. */
    public static final class Tlv {

        private final int type;
        private final byte[] value;

        /**
         * Creates a TLV.
         *
         * @param type the type, 0 to 255
         * @param value the value; copied
         */
        public Tlv(int type, byte[] value) {
            if (type < 0 || type > 255) {
                throw new IllegalArgumentException("type: " + type + " (expected: 0-255)");
            }
            this.type = type;
            this.value = Objects.requireNonNull(value, "value").clone();
        }

        /** Returns the type, 0 to 255. */
        public int type() {
            return type;
        }

        /** Returns a copy of the value. */
        public byte[] value() {
            return value.clone();
        }

        /** Returns the value's length in bytes. */
        public int length() {
            return value.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tlv && ((Tlv) o).type == type && Arrays.equals(((Tlv) o).value, value);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(value);
        }

        /** Returns the type in hexadecimal and the length, e.g. {@code 0x02(11 bytes)}. */
        @Override
        public String toString() {
            return String.format("0x%02x(%d bytes)", type, value.length);
        }
    }
}
