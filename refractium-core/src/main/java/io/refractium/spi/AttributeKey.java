package io.refractium.spi;

import java.util.List;
import java.util.Objects;

/**
 * The typed name of an attribute a detector reports with a {@link DetectionResult#match(ProtocolAttributes) match}
 * and routes may test (SNI, ALPN, HTTP Host, ...).
 *
 * <p>Keys compare by name; the well-known keys below are the ones the built-in detectors and the routing table use.
 * Custom detectors may define their own with {@link #of(String, Class)}. Instances are immutable and thread-safe.
 *
 * @param <T> the type of the attribute's value
 */
public final class AttributeKey<T> {

    /** The TLS server name indication (RFC 6066 §3), lower-case, without a trailing dot. */
    public static final AttributeKey<String> SNI = of("tls.sni", String.class);
    /** The TLS ALPN protocol names offered by the client, in the client's order (RFC 7301). */
    public static final AttributeKey<List<String>> ALPN = listOf("tls.alpn");
    /**
     * The highest TLS version the client offers, as a string such as {@code "TLSv1.3"} (taken from the
     * {@code supported_versions} extension when present, RFC 8446 §4.2.1, else from the legacy version).
     */
    public static final AttributeKey<String> TLS_VERSION = of("tls.version", String.class);
    /** The HTTP Host, lower-case, without the port and without a trailing dot (RFC 9110 §7.2). */
    public static final AttributeKey<String> HTTP_HOST = of("http.host", String.class);
    /** The HTTP request method as sent, e.g. {@code "GET"} (RFC 9110 §9). */
    public static final AttributeKey<String> HTTP_METHOD = of("http.method", String.class);
    /**
     * The path of the HTTP request target, normalised for path-prefix routes: without the query, dot segments
     * removed (RFC 3986 §5.2.4), percent-encoded unreserved characters decoded; e.g. {@code "/index.html"} for
     * {@code "/a/../index.html?q=1"}. The detector's javadoc says exactly what is done. The target as sent is
     * {@link #HTTP_TARGET}.
     */
    public static final AttributeKey<String> HTTP_PATH = of("http.path", String.class);
    /** The HTTP version of the request line, e.g. {@code "HTTP/1.1"}. */
    public static final AttributeKey<String> HTTP_VERSION = of("http.version", String.class);
    /** The SSH protocol version from the banner, {@code "2.0"} or {@code "1.99"} (RFC 4253 §4.2). */
    public static final AttributeKey<String> SSH_VERSION = of("ssh.version", String.class);
    /** The SSH software version from the banner, e.g. {@code "OpenSSH_9.2p1"}. */
    public static final AttributeKey<String> SSH_SOFTWARE = of("ssh.software", String.class);
    /** The HTTP request target exactly as sent, e.g. {@code "/a/../index.html?q=1"} (RFC 9112 §3.2). */
    public static final AttributeKey<String> HTTP_TARGET = of("http.target", String.class);
    /**
     * {@code "true"} when the TLS ClientHello carries the {@code encrypted_client_hello} extension (0xfe0d): the
     * hello is the outer one, its SNI is the ECH public name (see {@link #TLS_ECH_PUBLIC_NAME}), and the real server
     * name is encrypted. Absent otherwise.
     */
    public static final AttributeKey<String> TLS_ECH = of("tls.ech", String.class);
    /**
     * For a ClientHello with ECH ({@link #TLS_ECH}): the outer SNI, which names the ECH public name (the
     * client-facing server), lower-case, without a trailing dot; absent when the outer hello has no valid SNI.
     * The same value is also reported as {@link #SNI}.
     */
    public static final AttributeKey<String> TLS_ECH_PUBLIC_NAME = of("tls.ech.public_name", String.class);

    /**
     * The {@code PP2_TYPE_AUTHORITY} TLV of the PROXY protocol v2 header the connection arrived with (the host name
     * the client asked the proxy in front for), lower-case, without a trailing dot. Reported by no detector: routes
     * may test it by name ({@code Route.Builder.attribute("proxy.authority", ...)}) on a listener that receives the
     * PROXY protocol; a detector's own attribute of the same name would win.
     */
    public static final AttributeKey<String> PROXY_AUTHORITY = of("proxy.authority", String.class);
    /**
     * The {@code PP2_TYPE_ALPN} TLV of the PROXY protocol v2 header the connection arrived with (the protocol the
     * client negotiated with the proxy in front, e.g. {@code "h2"}). Reported by no detector; routes may test it by
     * name, as {@link #PROXY_AUTHORITY}.
     */
    public static final AttributeKey<String> PROXY_ALPN = of("proxy.alpn", String.class);

    private final String name;
    private final Class<?> type;

    private AttributeKey(String name, Class<?> type) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name: \"\" (expected: a non-empty name)");
        }
    }

    /**
     * Returns a key with the given name and value type.
     *
     * @param name the key's name; keys with the same name are equal
     * @param type the type of the value
     * @param <T> the type of the value
     * @return the key
     */
    public static <T> AttributeKey<T> of(String name, Class<T> type) {
        return new AttributeKey<>(name, type);
    }

    /**
     * Returns a key whose value is a list of strings.
     *
     * @param name the key's name
     * @return the key
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static AttributeKey<List<String>> listOf(String name) {
        return new AttributeKey(name, List.class);
    }

    /** Returns the key's name. */
    public String name() {
        return name;
    }

    /** Returns the type of the key's value. */
    public Class<?> type() {
        return type;
    }

    T cast(Object value) {
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: a " + type.getSimpleName() + ")");
        }
        @SuppressWarnings("unchecked")
        T t = (T) value;
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AttributeKey && ((AttributeKey<?>) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
