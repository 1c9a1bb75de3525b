package io.refractium.examples.hooks;

import io.refractium.Cidr;
import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.Hook;
import io.refractium.spi.AttributeKey;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link Hook} that writes one line per closed connection (its id, the client, the protocol or why detection
 * failed, what the detector found, the backend, bytes each way, how long it lasted and why it ended) and refuses
 * clients from configured networks as soon as they connect:
 * <pre>
 * #7 127.0.0.1:50312 tls tls.sni=a.test -&gt; 127.0.0.1:40211: 517 B in, 2.1 KiB out, 41 ms, COMPLETED
 * #8 127.0.0.1:50314 no protocol (NO_MATCH) -&gt; 127.0.0.1:40213: 6 B in, 6 B out, 3 ms, COMPLETED
 * #9 10.1.2.3:40022 refused: in 10.0.0.0/8
 * </pre>
 *
 * <p>Thread-safe: one instance serves every connection on every event loop. The sink is called on the event loops
 * and must not block for long (printing to the console is fine for an example; a real application would hand the
 * line to its logger). It keeps one small entry per connection it refused, removed when the connection closes; a
 * refused connection gets its "refused" line only.
 */
public final class LoggingHook implements Hook {

    private final Consumer<String> sink;
    private final List<Cidr> refused;
    private final Set<Long> refusedHere = ConcurrentHashMap.newKeySet();

    /**
     * Creates a hook that logs every connection and refuses none.
     *
     * @param sink receives one line per event
     */
    public LoggingHook(Consumer<String> sink) {
        this(sink, List.of());
    }

    /**
     * Creates a hook that logs every connection and refuses clients from the networks.
     *
     * @param sink receives one line per event
     * @param refusedNetworks client networks to refuse, e.g. {@code 10.0.0.0/8}
     */
    public LoggingHook(Consumer<String> sink, List<Cidr> refusedNetworks) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.refused = List.copyOf(refusedNetworks);
    }

    /** Refuses a client whose address is in one of the refused networks. */
    @Override
    public Admission onAccepted(ConnectionInfo connection) {
        InetSocketAddress client = connection.clientAddress();
        for (Cidr n : refused) {
            if (client != null && n.contains(client.getAddress())) {
                refusedHere.add(connection.id());
                sink.accept("#" + connection.id() + " " + address(client) + " refused: in " + n);
                return Admission.REFUSE;
            }
        }
        return Admission.ACCEPT;
    }

    /** Writes the connection's line. */
    @Override
    public void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
        if (refusedHere.remove(connection.id())) {
            return;
        }
        sink.accept(line(connection, connection.detectionFailure(), summary));
    }

    /**
     * Formats the line written when a connection closes.
     *
     * @param connection the connection
     * @param failure why detection failed, or {@code null} when a protocol was detected (or detection never ran)
     * @param summary the end of the connection
     * @return the line
     */
    static String line(ConnectionInfo connection, DetectionFailure failure, ConnectionSummary summary) {
        StringBuilder sb = new StringBuilder();
        sb.append('#').append(connection.id()).append(' ').append(address(connection.clientAddress())).append(' ');
        if (connection.protocol() != null) {
            sb.append(connection.protocol());
            for (Map.Entry<AttributeKey<?>, Object> e : connection.attributes().asMap().entrySet()) {
                sb.append(' ').append(e.getKey().name()).append('=').append(e.getValue());
            }
        } else {
            sb.append("no protocol (").append(failure == null ? "not detected" : failure.name()).append(')');
        }
        sb.append(" -> ").append(summary.backend() == null ? "no backend" : address(summary.backend()))
                .append(": ").append(bytes(summary.bytesFromClient())).append(" in, ")
                .append(bytes(summary.bytesToClient())).append(" out, ")
                .append(summary.duration().toMillis()).append(" ms, ").append(summary.reason());
        return sb.toString();
    }

    /**
     * Formats a byte count with a binary unit: {@code 517 B}, {@code 2.1 KiB}, {@code 3.0 MiB}.
     *
     * @param n the count
     * @return the text
     */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", n / (1024.0 * 1024 * 1024));
    }

    private static String address(InetSocketAddress a) {
        if (a == null) {
            return "?";
        }
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
