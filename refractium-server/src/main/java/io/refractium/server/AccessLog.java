package io.refractium.server;

import io.refractium.ForwardTarget;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.spi.AttributeKey;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log: one line per closed connection on the logger {@value #LOGGER}, at INFO. The text format is
 * {@code key=value} pairs separated by spaces, in this order, a value in double quotes when it holds a space, a
 * quote or a backslash (escaped with a backslash), {@code -} when unknown:
 * <pre>
 * time=2026-12-02T11:40:07.123Z conn=17 client=203.0.113.5:50432 listener=0.0.0.0:443 protocol=tls
 *   attrs="tls.sni=a.example tls.alpn=[h2]" target=web backend=10.0.0.3:443 in=517 out=4096 duration_ms=12 reason=COMPLETED
 * </pre>
 * ({@code time}: when the connection closed, UTC; {@code in}: bytes from the client, peeked bytes included; {@code out}: bytes to the client; a {@code detail=}
 * pair follows when the close has one, such as a refusal's reason). The JSON format is one object per line with
 * the keys {@code time}, {@code conn}, {@code client}, {@code listener}, {@code protocol}, {@code attributes} (an object),
 * {@code target}, {@code backend}, {@code bytes_in}, {@code bytes_out}, {@code duration_ms}, {@code reason} and
 * {@code detail}, {@code null} when unknown.
 *
 * <p>Thread-safe; the settings can be replaced while running.
 */
public final class AccessLog implements Hook {

    /** The logger's name. */
    public static final String LOGGER = "refractium.access";

    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    /** The line format. */
    public enum Format {
        /** {@code key=value} pairs. */
        TEXT,
        /** One JSON object per line. */
        JSON
    }

    /**
     * The access log's settings.
     *
     * @param enabled whether a line is written per connection
     * @param format the line format
     */
    public record Settings(boolean enabled, Format format) {

        /** On, in the text format. */
        public static final Settings DEFAULT = new Settings(true, Format.TEXT);

        /** Checks the format. */
        public Settings {
            Objects.requireNonNull(format, "format");
        }
    }

    private volatile Settings settings;

    /**
     * Creates the access log.
     *
     * @param settings the initial settings
     */
    public AccessLog(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * Replaces the settings; lines of connections that close from now on follow them.
     *
     * @param settings the new settings
     */
    public void settings(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Returns the settings in use. */
    public Settings settings() {
        return settings;
    }

    @Override
    public void onClosed(ConnectionInfo c, ConnectionSummary s) {
        Settings current = settings;
        if (!current.enabled() || !log.isInfoEnabled()) {
            return;
        }
        String line = current.format() == Format.JSON ? json(c, s) : text(c, s);
        // The leading [{}] puts the connection id in the MDC like every other per-connection line.
        log.info("[{}] {}", c.id(), line);
    }

    /** Formats one text line. */
    static String text(ConnectionInfo c, ConnectionSummary s) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("time=").append(java.time.Instant.now()).append(" conn=").append(c.id());
        pair(sb, "client", address(c.clientAddress()));
        pair(sb, "listener", address(c.localAddress()));
        pair(sb, "protocol", c.protocol());
        StringBuilder attrs = new StringBuilder();
        if (c.attributes() != null) {
            for (Map.Entry<AttributeKey<?>, Object> e : c.attributes().asMap().entrySet()) {
                attrs.append(attrs.length() == 0 ? "" : " ").append(e.getKey().name()).append('=')
                        .append(e.getValue());
            }
        }
        pair(sb, "attrs", attrs.length() == 0 ? null : attrs.toString());
        ForwardTarget t = c.target();
        pair(sb, "target", t == null ? null : t.name());
        pair(sb, "backend", address(s.backend()));
        sb.append(" in=").append(s.bytesFromClient()).append(" out=").append(s.bytesToClient())
                .append(" duration_ms=").append(s.duration().toMillis());
        pair(sb, "reason", s.reason() == null ? null : s.reason().name());
        if (s.detail() != null) {
            pair(sb, "detail", s.detail());
        }
        return sb.toString();
    }

    private static void pair(StringBuilder sb, String key, String value) {
        sb.append(' ').append(key).append('=');
        if (value == null || value.isEmpty()) {
            sb.append('-');
            return;
        }
        boolean quote = false;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == ' ' || ch == '"' || ch == '\\' || ch < 0x20) {
                quote = true;
                break;
            }
        }
        if (!quote) {
            sb.append(value);
            return;
        }
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"' || ch == '\\') {
                sb.append('\\').append(ch);
            } else if (ch < 0x20) {
                sb.append(String.format("\\x%02x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        sb.append('"');
    }

    /** Formats one JSON line. */
    static String json(ConnectionInfo c, ConnectionSummary s) {
        StringBuilder sb = new StringBuilder(200);
        sb.append("{\"time\":\"").append(java.time.Instant.now()).append("\",\"conn\":").append(c.id());
        sb.append(",\"client\":");
        string(sb, address(c.clientAddress()));
        sb.append(",\"listener\":");
        string(sb, address(c.localAddress()));
        sb.append(",\"protocol\":");
        string(sb, c.protocol());
        sb.append(",\"attributes\":{");
        if (c.attributes() != null) {
            boolean first = true;
            for (Map.Entry<AttributeKey<?>, Object> e : c.attributes().asMap().entrySet()) {
                sb.append(first ? "" : ",");
                first = false;
                string(sb, e.getKey().name());
                sb.append(':');
                string(sb, String.valueOf(e.getValue()));
            }
        }
        sb.append("},\"target\":");
        string(sb, c.target() == null ? null : c.target().name());
        sb.append(",\"backend\":");
        string(sb, address(s.backend()));
        sb.append(",\"bytes_in\":").append(s.bytesFromClient()).append(",\"bytes_out\":").append(s.bytesToClient())
                .append(",\"duration_ms\":").append(s.duration().toMillis()).append(",\"reason\":");
        string(sb, s.reason() == null ? null : s.reason().name());
        sb.append(",\"detail\":");
        string(sb, s.detail());
        return sb.append('}').toString();
    }

    private static void string(StringBuilder sb, String value) {
        if (value == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                default:
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
            }
        }
        sb.append('"');
    }

    static String address(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
