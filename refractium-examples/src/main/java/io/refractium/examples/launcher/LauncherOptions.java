package io.refractium.examples.launcher;

import io.refractium.AdmissionLimits;
import io.refractium.Backend;
import io.refractium.BandwidthLimits;
import io.refractium.Cidr;
import io.refractium.ForwardTarget;
import io.refractium.IoTransport;
import io.refractium.HealthCheck;
import io.refractium.ProxyProtocolMode;
import io.refractium.ProxyProtocolVersion;
import io.refractium.Refractium;
import io.refractium.RefractiumBuilder;
import io.refractium.Route;
import io.refractium.balance.LoadBalancers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The launcher's command line, parsed and checked: listen addresses, routes with their backend groups, the
 * fallback and silent-client targets, and the timeouts. {@link #parse(List)} reads the arguments and
 * {@link #toBuilder()} turns them into a {@link RefractiumBuilder} whose protocols come from
 * {@link RefractiumBuilder#discoverProtocols()}.
 *
 * <p>The grammar ({@link #usage()} prints it):
 * <pre>
 * --listen HOST:PORT                 repeatable; IPv6 in brackets ([::]:443); port 0 picks a free port
 * --listen-udp HOST:PORT             a UDP listener (flows of protocols detectable over UDP, such as dns); repeatable
 * --route PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...]
 *                                    repeatable; NAME is the SNI (tls) or the Host (http, and http2's
 *                                    :authority), exact or *.suffix
 *    CONDITION  sni=, host= (exact or *.suffix), alpn=, path= (a prefix), client=CIDR,
 *               listener=PORT or listener=HOST:PORT, or any attribute: KEY=VALUE (exact or *.suffix), where a
 *               KEY without a dot means PROTOCOL.KEY (postgres[database=app] tests postgres.database)
 *    BACKEND  HOST:PORT[*WEIGHT][+backup]
 *    OPTION   balance=round-robin|weighted|least-conn|p2c|random|hash-ip|hash-name|hash-attr:KEY
 *             check=connect|send|none, send=TEXT, expect=PREFIX (escapes \r \n \t \\ \;)
 *             interval=DURATION, timeout=DURATION, rise=N, fall=N, attempts=N, max-conns=N
 *             send-proxy=v1|v2 (a PROXY protocol header to the backends before the client's bytes)
 * --accept-proxy required|optional;trusted=CIDR[,CIDR...][;listener=PORT]
 *                                    receive PROXY protocol headers (once, plus once per port)
 * --fallback HOST:PORT, --on-silence HOST:PORT[;listener=PORT[;timeout=DURATION]] (once, plus once per port)
 * --peek-timeout, --silence-timeout, --quiet-timeout, --connect-timeout, --idle-timeout DURATION (500ms, 2s, 1m, 1h,
 * PT2S)
 * --peek-bytes N, --help
 * --max-connections N, --max-connections-per-listener N, --max-connections-per-ip N, --max-detecting N,
 * --rate-per-ip R/s[,burst=B], --allow CIDR, --deny CIDR (repeatable), --ipv6-prefix N, --max-tracked-ips N,
 * --reject-with-rst
 * --bandwidth-per-connection UP:DOWN, --bandwidth-per-ip UP:DOWN, --bandwidth-per-route UP:DOWN,
 * --bandwidth-per-target [NAME=]UP:DOWN (repeatable, once per NAME); UP and DOWN in bytes per second: 0 (no cap) or
 * a size such as 512k, 10m, 1g (k = 1024)
 * </pre>
 * Each option may also be written {@code --option=value}.
 *
 * <p>Immutable and thread-safe once parsed. Every error is a {@link UsageException} whose message names the
 * argument, the value and what was expected.
 */
public final class LauncherOptions {

    /** A one-line reminder of the grammar, printed after an error. */
    public static final String USAGE_HINT = "usage: java -jar refractium.jar --listen HOST:PORT "
            + "--route PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...] [--fallback HOST:PORT] ... "
            + "(--help for all options)";

    private static final Pattern PROTOCOL_ID = Pattern.compile("[a-z0-9][a-z0-9._+-]*");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");
    private static final String DURATION_FORMS = "a duration such as 500ms, 2s, 1m, 1h or PT2S";
    private static final List<String> ROUTE_OPTIONS =
            List.of("balance", "check", "send", "expect", "interval", "timeout", "rise", "fall", "attempts",
                    "max-conns", "send-proxy");
    private static final int MAX_THRESHOLD = 100;
    private static final Pattern RATE = Pattern.compile("(\\d{1,7}(?:\\.\\d{1,9})?)/s(?:,burst=(\\d{1,10}))?");
    private static final String COUNT = "a connection count >= 1";
    private static final String BANDWIDTH = "UP:DOWN in bytes per second, each 0 (no cap) or a size such as 512k, "
            + "10m or 1g (k = 1024), e.g. 1m:10m";
    private static final Pattern SIZE = Pattern.compile("(\\d{1,13})([kKmMgG]?)");

    /** The options the launcher accepts, with the form of their value ({@code null} for a flag). */
    private enum Option {
        LISTEN("--listen", "HOST:PORT, e.g. 0.0.0.0:443 or [::]:443"),
        LISTEN_UDP("--listen-udp", "HOST:PORT, e.g. 0.0.0.0:53 or [::]:443"),
        ROUTE("--route", "PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...]"),
        FALLBACK("--fallback", "HOST:PORT"),
        ON_SILENCE("--on-silence", "HOST:PORT[;listener=PORT[;timeout=DURATION]]"),
        ACCEPT_PROXY("--accept-proxy", "required|optional;trusted=CIDR[,CIDR...][;listener=PORT]"),
        PEEK_TIMEOUT("--peek-timeout", DURATION_FORMS),
        SILENCE_TIMEOUT("--silence-timeout", DURATION_FORMS),
        QUIET_TIMEOUT("--quiet-timeout", DURATION_FORMS),
        CONNECT_TIMEOUT("--connect-timeout", DURATION_FORMS),
        IDLE_TIMEOUT("--idle-timeout", DURATION_FORMS + ", or 0 to disable"),
        PEEK_BYTES("--peek-bytes", "a byte count 1-16777216"),
        TRANSPORT("--transport", "native, epoll, io_uring or nio"),
        MAX_CONNECTIONS("--max-connections", COUNT),
        MAX_CONNECTIONS_PER_LISTENER("--max-connections-per-listener", COUNT),
        MAX_CONNECTIONS_PER_IP("--max-connections-per-ip", COUNT),
        MAX_DETECTING("--max-detecting", COUNT),
        RATE_PER_IP("--rate-per-ip", "R/s[,burst=B], e.g. 10/s or 0.5/s,burst=5"),
        ALLOW("--allow", "a CIDR such as 10.0.0.0/8 or fd00::/8"),
        DENY("--deny", "a CIDR such as 192.0.2.0/24 or 2001:db8::/32"),
        IPV6_PREFIX("--ipv6-prefix", "a prefix length 1-128"),
        MAX_TRACKED_IPS("--max-tracked-ips", "an address count >= 1"),
        REJECT_WITH_RST("--reject-with-rst", null),
        BANDWIDTH_PER_CONNECTION("--bandwidth-per-connection", BANDWIDTH),
        BANDWIDTH_PER_IP("--bandwidth-per-ip", BANDWIDTH),
        BANDWIDTH_PER_ROUTE("--bandwidth-per-route", BANDWIDTH),
        BANDWIDTH_PER_TARGET("--bandwidth-per-target", "[NAME=]" + BANDWIDTH + " or web=512k:2m"),
        HELP("--help", null);

        final String flag;
        final String expected;

        Option(String flag, String expected) {
            this.flag = flag;
            this.expected = expected;
        }

        static Option byFlag(String flag) {
            for (Option o : values()) {
                if (o.flag.equals(flag)) {
                    return o;
                }
            }
            return null;
        }

        static String flags() {
            StringBuilder sb = new StringBuilder();
            for (Option o : values()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(o.flag);
            }
            return sb.toString();
        }
    }

    private final boolean help;
    private final List<InetSocketAddress> listenAddresses;
    private final List<InetSocketAddress> udpListenAddresses;
    private final List<Route> routes;
    private final ForwardTarget fallback;
    private final ForwardTarget onSilence;
    private final List<ListenerSilence> listenerSilences;
    private final List<AcceptProxy> acceptProxies;
    private final Duration peekTimeout;
    private final Duration silenceTimeout;
    private final Duration quietTimeout;
    private final Duration connectTimeout;
    private final Duration idleTimeout;
    private final Integer maxPeekBytes;
    private final IoTransport transport;
    private final AdmissionLimits limits;
    private final BandwidthLimits bandwidth;

    private LauncherOptions(Parser p) {
        this.help = p.help;
        this.listenAddresses = List.copyOf(p.listen);
        this.udpListenAddresses = List.copyOf(p.listenUdp);
        this.routes = List.copyOf(p.routes);
        this.fallback = p.fallback;
        this.onSilence = p.onSilence;
        this.listenerSilences = List.copyOf(p.listenerSilences);
        this.acceptProxies = List.copyOf(p.acceptProxies);
        this.peekTimeout = p.peekTimeout;
        this.silenceTimeout = p.silenceTimeout;
        this.quietTimeout = p.quietTimeout;
        this.connectTimeout = p.connectTimeout;
        this.idleTimeout = p.idleTimeout;
        this.maxPeekBytes = p.maxPeekBytes;
        this.transport = p.transport;
        this.limits = p.limits;
        this.bandwidth = p.bandwidth;
    }

    /**
     * Parses a command line.
     *
     * @param args the arguments
     * @return the options
     * @throws UsageException naming the argument, the value and what was expected
     */
    public static LauncherOptions parse(String... args) {
        return parse(List.of(Objects.requireNonNull(args, "args")));
    }

    /**
     * Parses a command line. {@code --help} anywhere wins over everything else.
     *
     * @param args the arguments
     * @return the options
     * @throws UsageException naming the argument, the value and what was expected
     */
    public static LauncherOptions parse(List<String> args) {
        Objects.requireNonNull(args, "args");
        Parser p = new Parser();
        if (args.contains("--help") || args.contains("-h")) {
            p.help = true;
            return new LauncherOptions(p);
        }
        p.parse(args);
        return new LauncherOptions(p);
    }

    /** Returns whether {@code --help} (or {@code -h}) was given; then nothing else was parsed. */
    public boolean isHelp() {
        return help;
    }

    /** Returns the listen addresses, in the order given. */
    public List<InetSocketAddress> listenAddresses() {
        return listenAddresses;
    }

    /** Returns the UDP listen addresses ({@code --listen-udp}), in the order given. */
    public List<InetSocketAddress> udpListenAddresses() {
        return udpListenAddresses;
    }

    /** Returns the routes, in the order given; each target is named {@code PROTOCOL} or {@code PROTOCOL@NAME}. */
    public List<Route> routes() {
        return routes;
    }

    /** Returns the fallback target (named {@code fallback}), or {@code null}. */
    public ForwardTarget fallback() {
        return fallback;
    }

    /** Returns the silent-client target (named {@code on-silence}), or {@code null}. */
    public ForwardTarget onSilence() {
        return onSilence;
    }

    /**
     * Returns the per-listener silent-client targets ({@code --on-silence HOST:PORT;listener=PORT}), each named
     * {@code on-silence:PORT}, in the order given.
     */
    public List<ListenerSilence> listenerSilences() {
        return listenerSilences;
    }

    /**
     * A silent-client target for one listener port.
     *
     * @param port the local port
     * @param target where silent clients on it go
     * @param timeout its silence deadline, or {@code null} for {@code --silence-timeout} (or its default)
     */
    public record ListenerSilence(int port, ForwardTarget target, Duration timeout) {
    }

    /**
     * Returns the PROXY protocol receive settings ({@code --accept-proxy}), in the order given: at most one for
     * every listener (port 0) and one per listener port.
     */
    public List<AcceptProxy> acceptProxies() {
        return acceptProxies;
    }

    /**
     * How a listener receives PROXY protocol headers.
     *
     * @param port the local port, or 0 for every listener without a setting of its own
     * @param mode required or optional
     * @param trusted the networks allowed to send a header
     */
    public record AcceptProxy(int port, ProxyProtocolMode mode, List<Cidr> trusted) {
    }

    /** Returns the detection deadline, or {@code null} for the builder's default. */
    public Duration peekTimeout() {
        return peekTimeout;
    }

    /** Returns how long detection waits for more bytes before a detector's quiet last call, or {@code null}. */
    public Duration quietTimeout() {
        return quietTimeout;
    }

    /** Returns the silence deadline, or {@code null} for the builder's default. */
    public Duration silenceTimeout() {
        return silenceTimeout;
    }

    /** Returns the backend connect timeout, or {@code null} for the builder's default. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Returns the idle timeout ({@link Duration#ZERO} disables it), or {@code null} for the builder's default. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Returns the peek cap in bytes, or {@code null} for the builder's default. */
    public IoTransport transport() {
        return transport;
    }

    public Integer maxPeekBytes() {
        return maxPeekBytes;
    }

    /** Returns the admission limits ({@code --max-connections} ...), {@link AdmissionLimits#none()} without any. */
    public AdmissionLimits limits() {
        return limits;
    }

    /**
     * Returns the bandwidth caps ({@code --bandwidth-per-connection} ...), {@link BandwidthLimits#none()} without any.
     */
    public BandwidthLimits bandwidth() {
        return bandwidth;
    }

    /**
     * Returns a new builder configured with these options, with {@link RefractiumBuilder#discoverProtocols()} on.
     * Its {@link RefractiumBuilder#build()} still checks what only the registered protocols can tell, such as a
     * route to an unknown protocol.
     *
     * @return the builder
     * @throws IllegalStateException when called on the result of {@code --help}
     */
    public RefractiumBuilder toBuilder() {
        if (help) {
            throw new IllegalStateException("--help was given: there is nothing to build");
        }
        RefractiumBuilder b = Refractium.builder().discoverProtocols();
        listenAddresses.forEach(b::listen);
        udpListenAddresses.forEach(b::listenUdp);
        routes.forEach(b::route);
        b.fallback(fallback);
        b.onSilence(onSilence);
        for (ListenerSilence s : listenerSilences) {
            b.onSilence(s.port(), s.target(), s.timeout());
        }
        for (AcceptProxy a : acceptProxies) {
            if (a.port() == 0) {
                b.acceptProxyProtocol(a.mode(), a.trusted());
            } else {
                b.acceptProxyProtocol(a.port(), a.mode(), a.trusted());
            }
        }
        if (peekTimeout != null) {
            b.peekTimeout(peekTimeout);
        }
        if (silenceTimeout != null) {
            b.silenceTimeout(silenceTimeout);
        }
        if (quietTimeout != null) {
            b.quietTimeout(quietTimeout);
        }
        if (connectTimeout != null) {
            b.connectTimeout(connectTimeout);
        }
        if (idleTimeout != null) {
            b.idleTimeout(idleTimeout);
        }
        if (transport != null) {
            b.transport(transport);
        }
        if (maxPeekBytes != null) {
            b.maxPeekBytes(maxPeekBytes);
        }
        b.limits(limits);
        b.bandwidth(bandwidth);
        return b;
    }

    /** Returns the full usage text printed by {@code --help}. */
    public static String usage() {
        return String.join(System.lineSeparator(),
                "usage: java -jar refractium.jar [OPTIONS]   (no options: run the demo on 127.0.0.1:8443)",
                "",
                "Serves many protocols on one port: detects each connection's protocol from its first bytes",
                "and forwards it to the backends of the matching route.",
                "",
                "  --listen HOST:PORT          listen here; repeatable; IPv6 in brackets ([::]:443); port 0 = any",
                "  --listen-udp HOST:PORT      listen for UDP here; repeatable; each client address and port is a",
                "                              flow, detected by the UDP detectors (dns, ...) and routed by the",
                "                              same --route options (a dns route serves TCP and UDP alike);",
                "                              flows use neither --fallback nor --on-silence",
                "  --route PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...]",
                "                              route a protocol (tls, http, http2, ssh, dns, ... as discovered);",
                "                              NAME is the SNI for tls or the Host for http and http2",
                "                              (its :authority), exact or *.suffix",
                "      CONDITION               sni=NAME, host=NAME (exact or *.suffix), alpn=ID, path=PREFIX,",
                "                              client=CIDR, listener=PORT or listener=HOST:PORT (the local",
                "                              address the client connected to), or any attribute the detector",
                "                              reports: KEY=VALUE (exact, or *.suffix); a KEY without a dot is",
                "                              PROTOCOL.KEY, e.g. postgres[database=app], tls[sni=*.a.example,alpn=h2]",
                "      BACKEND                 HOST:PORT[*WEIGHT][+backup]  (weight 1-1000, backups used when",
                "                              every primary is down)",
                "      balance=NAME            round-robin (default), weighted, least-conn, p2c, random,",
                "                              hash-ip, hash-name, hash-attr:KEY (consistent hash of an attribute)",
                "      check=connect|send|none active health check (default none); send=TEXT and expect=PREFIX",
                "                              with check=send (escapes \\r \\n \\t \\\\ \\;)",
                "      interval=, timeout=     check timing (DURATION); rise=N, fall=N thresholds",
                "      attempts=N              backends one connection may try (default: all)",
                "      max-conns=N             connection cap of every backend of the route",
                "      send-proxy=v1|v2        send a PROXY protocol header (v2: with authority, ALPN and",
                "                              connection id TLVs) to the backends; health checks send one too",
                "  --fallback HOST:PORT        where unrecognised bytes and unrouted protocols go (default: close)",
                "  --on-silence HOST:PORT      where clients that send nothing go (server-speaks-first, e.g. ssh)",
                "  --on-silence HOST:PORT;listener=PORT[;timeout=DURATION]",
                "                              the same for one listen port, with its own deadline; repeatable,",
                "                              once per port; a port with no silence target does not wait for",
                "                              silence (silent clients go to --fallback at --peek-timeout)",
                "  --accept-proxy required|optional;trusted=CIDR[,CIDR...][;listener=PORT]",
                "                              receive PROXY protocol v1/v2 headers (from a load balancer in",
                "                              front) on every listener, or on one port; only from the trusted",
                "                              networks (a header from elsewhere is refused);",
                "                              required: no header is refused; the header's client address is",
                "                              used by client= routes, hash-ip, the logs and the per-client",
                "                              limits (--max-connections-per-ip, --rate-per-ip, --allow,",
                "                              --deny), which a trusted balancer's own address never counts in",
                "  --peek-timeout DURATION     detection deadline (default "
                        + human(RefractiumBuilder.DEFAULT_PEEK_TIMEOUT) + ")",
                "  --silence-timeout DURATION  silence deadline of --on-silence without timeout= (default "
                        + human(RefractiumBuilder.DEFAULT_SILENCE_TIMEOUT) + ")",
                "  --quiet-timeout DURATION    how long a client may pause before a detector that can decide on",
                "                              what it has does (an h2c/gRPC client waiting for the server's",
                "                              SETTINGS); shorter than --peek-timeout (default "
                        + human(RefractiumBuilder.DEFAULT_QUIET_TIMEOUT) + ")",
                "  --peek-bytes N              most bytes read while detecting (default "
                        + RefractiumBuilder.DEFAULT_MAX_PEEK_BYTES + ")",
                "  --transport KIND            native (epoll when available, else nio), epoll, io_uring or nio "
                        + "(default native)",
                "  --connect-timeout DURATION  backend connect timeout (default "
                        + human(RefractiumBuilder.DEFAULT_CONNECT_TIMEOUT) + ")",
                "  --idle-timeout DURATION     close relayed connections idle this long; 0 disables (default "
                        + human(RefractiumBuilder.DEFAULT_IDLE_TIMEOUT) + ")",
                "  --max-connections N         refuse connections past N open ones (default: no cap)",
                "  --max-connections-per-listener N  the same for each --listen address",
                "  --max-connections-per-ip N  the same for each client address (IPv6: each --ipv6-prefix)",
                "  --max-detecting N           refuse connections past N still in detection",
                "  --rate-per-ip R/s[,burst=B] new connections per second per client address, token bucket",
                "                              of B (default: R rounded up); e.g. 10/s or 0.5/s,burst=5",
                "  --allow CIDR, --deny CIDR   client networks to admit (then only those) or refuse;",
                "                              repeatable; a deny wins over an allow",
                "  --ipv6-prefix N             IPv6 bits that make one client address (default "
                        + AdmissionLimits.DEFAULT_IPV6_PREFIX_LENGTH + ")",
                "  --max-tracked-ips N         rate buckets remembered (default "
                        + AdmissionLimits.DEFAULT_MAX_TRACKED_ADDRESSES + ")",
                "  --reject-with-rst           reset refused connections (RST) instead of closing them (FIN)",
                "  --bandwidth-per-connection UP:DOWN",
                "                              cap each connection's upload (client to backend) and download",
                "                              (backend to client), in bytes per second: 0 (no cap) or a size",
                "                              such as 512k, 10m, 1g (k = 1024), e.g. 1m:10m",
                "  --bandwidth-per-ip UP:DOWN  the same, shared by the connections of each client address",
                "                              (IPv6: each --ipv6-prefix)",
                "  --bandwidth-per-route UP:DOWN  the same, shared by the connections of each --route",
                "  --bandwidth-per-target [NAME=]UP:DOWN",
                "                              the same, shared by the connections of each target, or of the",
                "                              target NAME only (PROTOCOL or PROTOCOL@NAME of its --route, fallback,",
                "                              on-silence, on-silence:PORT); repeatable, once per NAME; capped",
                "                              connections are relayed by copying, never spliced",
                "  --help                      print this help",
                "",
                "DURATION: 500ms, 2s, 1m, 1h or ISO-8601 (PT2S). Each option may also be written --option=value.",
                "",
                "example:",
                "  java -jar refractium.jar --listen 0.0.0.0:443 \\",
                "    --route 'tls@a.example=10.0.0.1:443' \\",
                "    --route 'http=127.0.0.1:9080*3,127.0.0.1:9081,127.0.0.1:9082+backup;balance=weighted;"
                        + "check=connect;interval=1s;fall=2;rise=2' \\",
                "    --route 'ssh=127.0.0.1:22' --on-silence 127.0.0.1:22 --fallback 127.0.0.1:9000",
                "  java -jar refractium.jar --listen 0.0.0.0:5432 --listen 0.0.0.0:2222 \\",
                "    --route 'postgres[database=app]=10.0.0.7:5432' --route 'postgres=10.0.0.8:5432' \\",
                "    --route 'ssh[listener=2222]=127.0.0.1:22' --on-silence '127.0.0.1:22;listener=2222;timeout=500ms'",
                "");
    }

    private static String human(Duration d) {
        if (d.toMillis() % 60_000 == 0) {
            return d.toMinutes() + "m";
        }
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /**
     * Parses a duration: a whole number with the unit {@code ms}, {@code s}, {@code m} or {@code h}, {@code 0}, or
     * an ISO-8601 duration such as {@code PT2S}.
     *
     * @param text the text
     * @return the duration, or {@code null} when the text is not a duration (negative values included)
     */
    static Duration parseDuration(String text) {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    return Duration.ofMillis(n);
                case "s":
                    return Duration.ofSeconds(n);
                case "m":
                    return Duration.ofMinutes(n);
                default:
                    return Duration.ofHours(n);
            }
        }
        if (text.startsWith("P") || text.startsWith("p")) {
            try {
                Duration d = Duration.parse(text);
                return d.isNegative() ? null : d;
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }

    /** Parses a command line into its fields; one use only. */
    private static final class Parser {
        boolean help;
        final List<InetSocketAddress> listen = new ArrayList<>();
        final List<InetSocketAddress> listenUdp = new ArrayList<>();
        final List<Route> routes = new ArrayList<>();
        final List<String> routeArgs = new ArrayList<>();
        ForwardTarget fallback;
        ForwardTarget onSilence;
        final List<ListenerSilence> listenerSilences = new ArrayList<>();
        final List<AcceptProxy> acceptProxies = new ArrayList<>();
        Duration peekTimeout;
        Duration silenceTimeout;
        Duration quietTimeout;
        Duration connectTimeout;
        Duration idleTimeout;
        Integer maxPeekBytes;
        IoTransport transport;
        AdmissionLimits limits = AdmissionLimits.none();
        final AdmissionLimits.Builder limitsBuilder = AdmissionLimits.builder();
        final java.util.Set<Option> limitFlags = java.util.EnumSet.noneOf(Option.class);
        BandwidthLimits bandwidth = BandwidthLimits.none();
        final BandwidthLimits.Builder bandwidthBuilder = BandwidthLimits.builder();
        final java.util.Set<Option> bandwidthFlags = java.util.EnumSet.noneOf(Option.class);
        final List<String> bandwidthTargets = new ArrayList<>();

        void parse(List<String> args) {
            for (int i = 0; i < args.size(); i++) {
                String arg = Objects.requireNonNull(args.get(i), "argument");
                if (!arg.startsWith("--")) {
                    throw new UsageException("unexpected argument \"" + arg
                            + "\" (expected: an option such as --listen or --route; see --help)");
                }
                int eq = arg.indexOf('=');
                String flag = eq < 0 ? arg : arg.substring(0, eq);
                Option option = Option.byFlag(flag);
                if (option == null) {
                    throw new UsageException("unknown option \"" + flag + "\" (expected one of " + Option.flags()
                            + ")");
                }
                String value;
                if (option.expected == null) {
                    if (eq >= 0) {
                        throw new UsageException(flag + " takes no value (got \"" + arg.substring(eq + 1) + "\")");
                    }
                    value = null;
                } else if (eq >= 0) {
                    value = arg.substring(eq + 1);
                } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                    value = args.get(++i);
                } else {
                    throw new UsageException(flag + ": missing value (expected: " + option.expected + ")");
                }
                apply(option, value);
            }
            check();
        }

        private void apply(Option option, String value) {
            switch (option) {
                case LISTEN:
                    listen.add(listenAddress(option, value));
                    break;
                case LISTEN_UDP:
                    listenUdp.add(listenAddress(option, value));
                    break;
                case ROUTE:
                    route(value);
                    break;
                case FALLBACK:
                    once(option, fallback);
                    fallback = singleTarget(option, "fallback", value);
                    break;
                case ON_SILENCE:
                    onSilence(value);
                    break;
                case ACCEPT_PROXY:
                    acceptProxy(value);
                    break;
                case PEEK_TIMEOUT:
                    once(option, peekTimeout);
                    peekTimeout = positiveDuration(option, value);
                    break;
                case SILENCE_TIMEOUT:
                    once(option, silenceTimeout);
                    silenceTimeout = positiveDuration(option, value);
                    break;
                case QUIET_TIMEOUT:
                    once(option, quietTimeout);
                    quietTimeout = positiveDuration(option, value);
                    break;
                case CONNECT_TIMEOUT:
                    once(option, connectTimeout);
                    connectTimeout = positiveDuration(option, value);
                    if (connectTimeout.toMillis() > Integer.MAX_VALUE) {
                        throw new UsageException(option.flag + " \"" + value + "\" (expected: less than 24 days)");
                    }
                    break;
                case IDLE_TIMEOUT:
                    once(option, idleTimeout);
                    idleTimeout = duration(option, value);
                    break;
                case TRANSPORT:
                    once(option, transport);
                    transport = switch (value) {
                        case "native" -> IoTransport.NATIVE;
                        case "epoll" -> IoTransport.EPOLL;
                        case "io_uring" -> IoTransport.IO_URING;
                        case "nio" -> IoTransport.NIO;
                        default -> throw new UsageException(option.flag + " \"" + value + "\": unknown transport "
                                + "(expected: " + option.expected + ")");
                    };
                    break;
                case PEEK_BYTES:
                    once(option, maxPeekBytes);
                    maxPeekBytes = integer(option.flag + " \"" + value + "\"", value, 1, 16 * 1024 * 1024,
                            "a byte count 1-16777216");
                    break;
                case BANDWIDTH_PER_CONNECTION:
                case BANDWIDTH_PER_IP:
                case BANDWIDTH_PER_ROUTE:
                case BANDWIDTH_PER_TARGET:
                    bandwidth(option, value);
                    break;
                default:
                    limit(option, value);
                    break;
            }
        }

        private void bandwidth(Option option, String value) {
            String where = option.flag + " \"" + value + "\"";
            String rates = value;
            String name = null;
            int eq = value.indexOf('=');
            if (option == Option.BANDWIDTH_PER_TARGET && eq >= 0) {
                name = value.substring(0, eq);
                rates = value.substring(eq + 1);
                if (name.isEmpty()) {
                    throw new UsageException(where + ": empty NAME (expected: " + option.expected + ")");
                }
            }
            if (name == null && !bandwidthFlags.add(option)) {
                throw new UsageException(option.flag + " " + (option == Option.BANDWIDTH_PER_TARGET ? "UP:DOWN " : "")
                        + "is given twice (expected: at most once)");
            }
            int colon = rates.indexOf(':');
            if (colon < 0) {
                throw new UsageException(where + " (expected: " + option.expected + ")");
            }
            long up = size(where, rates.substring(0, colon), option);
            long down = size(where, rates.substring(colon + 1), option);
            try {
                switch (option) {
                    case BANDWIDTH_PER_CONNECTION:
                        bandwidthBuilder.perConnection(up, down);
                        break;
                    case BANDWIDTH_PER_IP:
                        bandwidthBuilder.perIp(up, down);
                        break;
                    case BANDWIDTH_PER_ROUTE:
                        bandwidthBuilder.perRoute(up, down);
                        break;
                    default:
                        if (name == null) {
                            bandwidthBuilder.perTarget(up, down);
                        } else {
                            bandwidthBuilder.perTarget(name, up, down);
                            bandwidthTargets.add(name);
                        }
                        break;
                }
            } catch (IllegalArgumentException e) {
                throw new UsageException(where + ": " + e.getMessage());
            }
        }

        /** Parses one rate: digits with an optional k, m or g (powers of 1024); 0 means no cap. */
        private static long size(String where, String text, Option option) {
            Matcher m = SIZE.matcher(text);
            if (!m.matches()) {
                throw new UsageException(where + ": \"" + text + "\" (expected: " + option.expected + ")");
            }
            long n = Long.parseLong(m.group(1));
            int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                default -> 0;
            };
            if (n > BandwidthLimits.MAX_BYTES_PER_SECOND >> shift) {
                throw new UsageException(where + ": \"" + text + "\" (expected: at most "
                        + BandwidthLimits.MAX_BYTES_PER_SECOND + " bytes per second, 1024g)");
            }
            return n << shift;
        }

        private void limit(Option option, String value) {
            if (option != Option.ALLOW && option != Option.DENY && !limitFlags.add(option)) {
                throw new UsageException(option.flag + " is given twice (expected: at most once)");
            }
            limitFlags.add(option);
            String where = option.flag + " \"" + value + "\"";
            try {
                switch (option) {
                    case MAX_CONNECTIONS:
                        limitsBuilder.maxConnections(integer(where, value, 1, Integer.MAX_VALUE, COUNT));
                        break;
                    case MAX_CONNECTIONS_PER_LISTENER:
                        limitsBuilder.maxConnectionsPerListener(integer(where, value, 1, Integer.MAX_VALUE, COUNT));
                        break;
                    case MAX_CONNECTIONS_PER_IP:
                        limitsBuilder.maxConnectionsPerIp(integer(where, value, 1, Integer.MAX_VALUE, COUNT));
                        break;
                    case MAX_DETECTING:
                        limitsBuilder.maxDetecting(integer(where, value, 1, Integer.MAX_VALUE, COUNT));
                        break;
                    case RATE_PER_IP:
                        Matcher m = RATE.matcher(value);
                        if (!m.matches()) {
                            throw new UsageException(where + " (expected: " + option.expected + ")");
                        }
                        double rate = Double.parseDouble(m.group(1));
                        if (m.group(2) == null) {
                            limitsBuilder.ratePerIp(rate);
                        } else {
                            limitsBuilder.ratePerIp(rate, integer(where + ": burst", m.group(2), 1, Integer.MAX_VALUE,
                                    "a burst >= 1"));
                        }
                        break;
                    case ALLOW:
                        limitsBuilder.allow(value);
                        break;
                    case DENY:
                        limitsBuilder.deny(value);
                        break;
                    case IPV6_PREFIX:
                        limitsBuilder.ipv6PrefixLength(integer(where, value, 1, 128, option.expected));
                        break;
                    case MAX_TRACKED_IPS:
                        limitsBuilder.maxTrackedAddresses(integer(where, value, 1, Integer.MAX_VALUE,
                                option.expected));
                        break;
                    case REJECT_WITH_RST:
                        limitsBuilder.rejectWithRst(true);
                        break;
                    default:
                        throw new UsageException(option.flag + " takes no value (got \"" + value + "\")");
                }
            } catch (UsageException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw new UsageException(where + ": " + e.getMessage());
            }
        }

        private void check() {
            if (!limitFlags.isEmpty()) {
                try {
                    limits = limitsBuilder.build();
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage()
                            .replace("maxConnectionsPerListener", "--max-connections-per-listener")
                            .replace("maxConnectionsPerIp", "--max-connections-per-ip")
                            .replace("maxConnections", "--max-connections"));
                }
            }
            if (!bandwidthFlags.isEmpty() || !bandwidthTargets.isEmpty()) {
                bandwidth = bandwidthBuilder.build();
                java.util.Set<String> names = new java.util.TreeSet<>();
                routes.forEach(r -> names.add(r.target().name()));
                for (ForwardTarget t : new ForwardTarget[] {fallback, onSilence}) {
                    if (t != null) {
                        names.add(t.name());
                    }
                }
                listenerSilences.forEach(s -> names.add(s.target().name()));
                for (String name : bandwidthTargets) {
                    if (!names.contains(name)) {
                        throw new UsageException("--bandwidth-per-target \"" + name + "=...\": no target named \""
                                + name + "\" (expected one of " + names + ")");
                    }
                }
            }
            if (listen.isEmpty() && listenUdp.isEmpty()) {
                throw new UsageException("--listen: missing (expected: at least one --listen HOST:PORT, "
                        + "e.g. --listen 0.0.0.0:443, or --listen-udp HOST:PORT)");
            }
            if (routes.isEmpty() && fallback == null && onSilence == null && listenerSilences.isEmpty()) {
                throw new UsageException("nothing to forward to (expected: at least one --route, --fallback or "
                        + "--on-silence)");
            }
            if (silenceTimeout != null && onSilence == null && listenerSilences.stream().allMatch(s -> s.timeout() != null)) {
                throw new UsageException("--silence-timeout \"" + human(silenceTimeout)
                        + "\" applies only to silent clients (expected: --on-silence HOST:PORT as well)");
            }
            Duration peek = peekTimeout != null ? peekTimeout : RefractiumBuilder.DEFAULT_PEEK_TIMEOUT;
            for (ListenerSilence s : listenerSilences) {
                if (s.timeout() != null && s.timeout().compareTo(peek) >= 0) {
                    throw new UsageException("--on-silence listener " + s.port() + ": timeout " + human(s.timeout())
                            + " must be shorter than --peek-timeout " + human(peek)
                            + (peekTimeout == null ? " (the default)" : "")
                            + " (expected: a shorter timeout= or a longer --peek-timeout)");
                }
            }
            Duration quiet = quietTimeout != null ? quietTimeout : RefractiumBuilder.DEFAULT_QUIET_TIMEOUT;
            if (quiet.compareTo(peek) >= 0) {
                throw new UsageException("--quiet-timeout " + human(quiet)
                        + (quietTimeout == null ? " (the default)" : "") + " must be shorter than --peek-timeout "
                        + human(peek) + (peekTimeout == null ? " (the default)" : "")
                        + " (expected: a shorter --quiet-timeout or a longer --peek-timeout)");
            }
            if (onSilence != null || listenerSilences.stream().anyMatch(s -> s.timeout() == null)) {
                Duration silence = silenceTimeout != null ? silenceTimeout : RefractiumBuilder.DEFAULT_SILENCE_TIMEOUT;
                if (silence.compareTo(peek) >= 0) {
                    throw new UsageException("--silence-timeout " + human(silence)
                            + (silenceTimeout == null ? " (the default)" : "") + " must be shorter than --peek-timeout "
                            + human(peek) + (peekTimeout == null ? " (the default)" : "")
                            + " (expected: a shorter --silence-timeout or a longer --peek-timeout)");
                }
            }
        }

        private static void once(Option option, Object current) {
            if (current != null) {
                throw new UsageException(option.flag + " is given twice (expected: at most once)");
            }
        }

        private static Duration duration(Option option, String value) {
            Duration d = parseDuration(value);
            if (d == null) {
                throw new UsageException(option.flag + " \"" + value + "\" (expected: " + option.expected + ")");
            }
            return d;
        }

        private static Duration positiveDuration(Option option, String value) {
            Duration d = duration(option, value);
            if (d.isZero()) {
                throw new UsageException(option.flag + " \"" + value + "\" (expected: more than zero, "
                        + option.expected + ")");
            }
            return d;
        }

        private static InetSocketAddress listenAddress(Option option, String value) {
            String where = option.flag + " \"" + value + "\"";
            HostPort hp = HostPort.parse(where, value, 0);
            InetSocketAddress a = new InetSocketAddress(hp.host, hp.port);
            if (a.isUnresolved()) {
                throw new UsageException(where + ": host \"" + hp.host
                        + "\" does not resolve (expected: a local IP address or name, e.g. 0.0.0.0 or [::])");
            }
            return a;
        }

        private static ForwardTarget singleTarget(Option option, String name, String value) {
            HostPort hp = HostPort.parse(option.flag + " \"" + value + "\"", value, 1);
            return ForwardTarget.builder(name).backend(Backend.of(hp.host, hp.port)).build();
        }

        private void onSilence(String value) {
            String where = "--on-silence \"" + value + "\"";
            List<String> parts = splitUnescaped(value, ';');
            Map<String, String> options = new LinkedHashMap<>();
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                String key = eq <= 0 ? part : part.substring(0, eq);
                if (eq <= 0 || !List.of("listener", "timeout").contains(key)) {
                    throw new UsageException(where + ": option \"" + part
                            + "\" (expected: listener=PORT or timeout=DURATION)");
                }
                if (options.put(key, part.substring(eq + 1)) != null) {
                    throw new UsageException(where + ": option " + key + " is given twice (expected: at most once)");
                }
            }
            String listener = options.get("listener");
            String timeout = options.get("timeout");
            if (listener == null) {
                if (timeout != null) {
                    throw new UsageException(where + ": timeout= applies only with listener=PORT (expected: "
                            + "--silence-timeout for the default silent-client target)");
                }
                once(Option.ON_SILENCE, onSilence);
                onSilence = singleTarget(Option.ON_SILENCE, "on-silence", parts.get(0));
                return;
            }
            int port = integer(where + ": listener \"" + listener + "\"", listener, 1, 65535, "a port 1-65535");
            for (ListenerSilence s : listenerSilences) {
                if (s.port() == port) {
                    throw new UsageException(where + ": listener " + port
                            + " already has a silent-client target (expected: one --on-silence per port)");
                }
            }
            Duration d = timeout == null ? null : checkDuration(where, "timeout", timeout);
            listenerSilences.add(new ListenerSilence(port,
                    singleTarget(Option.ON_SILENCE, "on-silence:" + port, parts.get(0)), d));
        }

        private void acceptProxy(String value) {
            String where = "--accept-proxy \"" + value + "\"";
            List<String> parts = splitUnescaped(value, ';');
            ProxyProtocolMode mode;
            switch (parts.get(0)) {
                case "required":
                    mode = ProxyProtocolMode.REQUIRED;
                    break;
                case "optional":
                    mode = ProxyProtocolMode.OPTIONAL;
                    break;
                default:
                    throw new UsageException(where + ": mode \"" + parts.get(0)
                            + "\" (expected: required or optional, then ;trusted=CIDR,...)");
            }
            Map<String, String> options = new LinkedHashMap<>();
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                String key = eq <= 0 ? part : part.substring(0, eq);
                if (eq <= 0 || !List.of("trusted", "listener").contains(key)) {
                    throw new UsageException(where + ": option \"" + part
                            + "\" (expected: trusted=CIDR[,CIDR...] or listener=PORT)");
                }
                if (options.put(key, part.substring(eq + 1)) != null) {
                    throw new UsageException(where + ": option " + key + " is given twice (expected: at most once)");
                }
            }
            String trusted = options.get("trusted");
            if (trusted == null || trusted.isEmpty()) {
                throw new UsageException(where + ": no trusted= (expected: the networks of the proxies in front, "
                        + "e.g. trusted=10.0.0.0/8,fd00::/8)");
            }
            List<Cidr> networks = new ArrayList<>();
            for (String c : trusted.split(",", -1)) {
                try {
                    networks.add(Cidr.parse(c));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(where + ": trusted " + e.getMessage());
                }
            }
            String listener = options.get("listener");
            int port = listener == null ? 0
                    : integer(where + ": listener \"" + listener + "\"", listener, 1, 65535, "a port 1-65535");
            for (AcceptProxy a : acceptProxies) {
                if (a.port() == port) {
                    throw new UsageException(where + ": " + (port == 0 ? "every listener" : "listener " + port)
                            + " already has a --accept-proxy (expected: one for all listeners, plus one per port)");
                }
            }
            acceptProxies.add(new AcceptProxy(port, mode, List.copyOf(networks)));
        }

        private void route(String value) {
            String where = "--route \"" + value + "\"";
            int eq = value.indexOf('=');
            if (eq < 0) {
                throw new UsageException(where + ": no \"=\" (expected: " + Option.ROUTE.expected + ")");
            }
            int open = value.indexOf('[');
            String conditions = null;
            if (open >= 0 && open < eq) {
                int close = closingBracket(value, open);
                if (close < 0) {
                    throw new UsageException(where + ": no \"]\" after \"[\" (expected: "
                            + Option.ROUTE.expected + ")");
                }
                if (close + 1 >= value.length() || value.charAt(close + 1) != '=') {
                    throw new UsageException(where + ": \"=\" must follow the conditions' \"]\" (expected: "
                            + Option.ROUTE.expected + ")");
                }
                conditions = value.substring(open + 1, close);
                eq = close + 1;
            }
            String left = value.substring(0, open >= 0 && open < eq ? open : eq);
            int at = left.indexOf('@');
            String protocol = at < 0 ? left : left.substring(0, at);
            String name = at < 0 ? null : left.substring(at + 1);
            if (!PROTOCOL_ID.matcher(protocol).matches()) {
                throw new UsageException(where + ": protocol \"" + protocol
                        + "\" (expected: a lower-case protocol id such as tls, http, http2, ssh or dns)");
            }
            Route.Builder rb = Route.builder(protocol);
            if (name != null) {
                if (!protocol.equals("tls") && !protocol.equals("http") && !protocol.equals("http2")) {
                    throw new UsageException(where + ": a name (@" + name + ") is allowed only on tls (the SNI), "
                            + "http and http2 (the Host), not on " + protocol + " (expected: " + protocol
                            + "=BACKEND...)");
                }
                try {
                    if (protocol.equals("tls")) {
                        rb.sni(name);
                    } else {
                        rb.host(name);
                    }
                } catch (IllegalArgumentException e) {
                    throw new UsageException(where + ": name \"" + name
                            + "\" (expected: a host name such as a.example, or *.example for any name below it)");
                }
            }
            String key = name == null ? protocol : protocol + "@" + name.toLowerCase(Locale.ROOT);
            if (conditions != null) {
                conditions(where, protocol, name != null, conditions, rb);
                key = key + "[" + conditions + "]";
            }
            Route probe = rb.to(ForwardTarget.of(key, "127.0.0.1:1"));
            for (int i = 0; i < routes.size(); i++) {
                Route r = routes.get(i);
                if (r.target().name().equals(key) || r.describe().equals(probe.describe())) {
                    throw new UsageException(where + ": the same protocol and conditions as --route \""
                            + routeArgs.get(i) + "\" (expected: one route per protocol and conditions)");
                }
            }
            List<String> parts = splitUnescaped(value.substring(eq + 1), ';');
            ForwardTarget target = target(where, key, parts);
            routes.add(rb.to(target));
            routeArgs.add(value);
        }

        /** Returns the index of the "]" that closes the "[" at {@code open}, or -1. */
        private static int closingBracket(String text, int open) {
            int depth = 0;
            for (int i = open; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '[') {
                    depth++;
                } else if (c == ']' && --depth == 0) {
                    return i;
                }
            }
            return -1;
        }

        /** Applies {@code KEY=VALUE,...} conditions to the route builder. */
        private static void conditions(String where, String protocol, boolean hasName, String text, Route.Builder rb) {
            if (text.isEmpty()) {
                throw new UsageException(where + ": empty conditions \"[]\" (expected: [KEY=VALUE,...], e.g. "
                        + "[sni=*.a.example,alpn=h2] or [listener=2222])");
            }
            List<String> seen = new ArrayList<>();
            for (String condition : splitOutsideBrackets(text)) {
                int eq = condition.indexOf('=');
                if (eq <= 0 || eq == condition.length() - 1) {
                    throw new UsageException(where + ": condition \"" + condition
                            + "\" (expected: KEY=VALUE, such as sni=*.a.example, alpn=h2, listener=2222 or database=app)");
                }
                String key = condition.substring(0, eq);
                String value = condition.substring(eq + 1);
                if (seen.contains(key)) {
                    throw new UsageException(where + ": condition " + key + " is given twice (expected: at most once)");
                }
                seen.add(key);
                try {
                    switch (key) {
                        case "sni":
                            if (hasName && protocol.equals("tls")) {
                                throw new UsageException(where + ": sni= and @NAME both set the SNI (expected: one)");
                            }
                            rb.sni(value);
                            break;
                        case "host":
                            if (hasName && protocol.equals("http")) {
                                throw new UsageException(where + ": host= and @NAME both set the Host (expected: one)");
                            }
                            rb.host(value);
                            break;
                        case "alpn":
                            rb.alpn(value);
                            break;
                        case "path":
                            rb.pathPrefix(value);
                            break;
                        case "client":
                            rb.clientCidr(value);
                            break;
                        case "listener":
                            rb.listener(listener(where, value));
                            break;
                        default:
                            rb.attribute(key.indexOf('.') >= 0 ? key : protocol + "." + key, value);
                            break;
                    }
                } catch (UsageException e) {
                    throw e;
                } catch (IllegalArgumentException e) {
                    throw new UsageException(where + ": condition \"" + condition + "\": " + e.getMessage());
                }
            }
        }

        private static InetSocketAddress listener(String where, String value) {
            if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                int port = integer(where + ": listener \"" + value + "\"", value, 1, 65535, "a port 1-65535");
                return new InetSocketAddress(port);
            }
            HostPort hp = HostPort.parse(where + ": listener \"" + value + "\"", value, 1);
            InetSocketAddress a = new InetSocketAddress(hp.host, hp.port);
            if (a.isUnresolved()) {
                throw new UsageException(where + ": listener host \"" + hp.host
                        + "\" does not resolve (expected: PORT, or a local HOST:PORT)");
            }
            return a;
        }

        /** Splits on commas that are not inside brackets (an IPv6 listener address). */
        private static List<String> splitOutsideBrackets(String text) {
            List<String> parts = new ArrayList<>();
            int depth = 0;
            int start = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '[') {
                    depth++;
                } else if (c == ']') {
                    depth--;
                } else if (c == ',' && depth == 0) {
                    parts.add(text.substring(start, i));
                    start = i + 1;
                }
            }
            parts.add(text.substring(start));
            return parts;
        }

        private static ForwardTarget target(String where, String name, List<String> parts) {
            String backendList = parts.get(0);
            if (backendList.isEmpty()) {
                throw new UsageException(where + ": no backend (expected: HOST:PORT[*WEIGHT][+backup] after \"=\")");
            }
            List<Backend> backends = new ArrayList<>();
            for (String b : backendList.split(",", -1)) {
                Backend backend = backend(where, b);
                for (Backend other : backends) {
                    if (other.hostAndPort().equals(backend.hostAndPort())) {
                        throw new UsageException(where + ": backend " + backend.hostAndPort()
                                + " is listed twice (expected: each backend once)");
                    }
                }
                backends.add(backend);
            }
            Map<String, String> options = new LinkedHashMap<>();
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new UsageException(where + ": option \"" + part
                            + "\" (expected: OPTION=VALUE with OPTION one of " + String.join(", ", ROUTE_OPTIONS)
                            + ")");
                }
                String key = part.substring(0, eq);
                if (!ROUTE_OPTIONS.contains(key)) {
                    throw new UsageException(where + ": unknown option \"" + key + "\" (expected one of "
                            + String.join(", ", ROUTE_OPTIONS) + ")");
                }
                if (options.put(key, part.substring(eq + 1)) != null) {
                    throw new UsageException(where + ": option " + key + " is given twice (expected: at most once)");
                }
            }
            ForwardTarget.Builder tb = ForwardTarget.builder(name);
            String maxConns = options.get("max-conns");
            int cap = maxConns == null ? 0 : integer(where + ": max-conns \"" + maxConns + "\"", maxConns, 1,
                    Integer.MAX_VALUE, "a connection count >= 1");
            for (Backend b : backends) {
                tb.backend(cap > 0 ? b.withMaxConnections(cap) : b);
            }
            String balance = options.get("balance");
            if (balance != null) {
                try {
                    tb.loadBalancer(LoadBalancers.byName(balance));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(where + ": " + e.getMessage());
                }
            }
            String sendProxy = options.get("send-proxy");
            if (sendProxy != null) {
                switch (sendProxy) {
                    case "v1":
                        tb.sendProxyProtocol(ProxyProtocolVersion.V1);
                        break;
                    case "v2":
                        tb.sendProxyProtocol(ProxyProtocolVersion.V2);
                        break;
                    default:
                        throw new UsageException(where + ": send-proxy \"" + sendProxy + "\" (expected: v1 or v2)");
                }
            }
            String attempts = options.get("attempts");
            if (attempts != null) {
                tb.maxAttempts(integer(where + ": attempts \"" + attempts + "\"", attempts, 1, backends.size(),
                        "1-" + backends.size() + ", the number of backends"));
            }
            tb.healthCheck(healthCheck(where, options));
            return tb.build();
        }

        private static HealthCheck healthCheck(String where, Map<String, String> options) {
            String check = options.get("check");
            String send = options.get("send");
            String expect = options.get("expect");
            if (check != null && !List.of("connect", "send", "none").contains(check)) {
                throw new UsageException(where + ": check \"" + check + "\" (expected one of connect, send, none)");
            }
            if ((send != null || expect != null) && !"send".equals(check)) {
                throw new UsageException(where + ": " + (send != null ? "send=" : "expect=")
                        + " applies only to check=send (expected: check=send;send=TEXT;expect=PREFIX)");
            }
            boolean active = "connect".equals(check) || "send".equals(check);
            for (String timing : List.of("interval", "timeout", "rise", "fall")) {
                if (options.containsKey(timing) && !active) {
                    throw new UsageException(where + ": " + timing + "=" + options.get(timing)
                            + " applies only to an active check (expected: check=connect or check=send as well)");
                }
            }
            if (!active) {
                return HealthCheck.none();
            }
            HealthCheck hc;
            if (check.equals("connect")) {
                hc = HealthCheck.connect();
            } else {
                if (expect == null || expect.isEmpty()) {
                    throw new UsageException(where + ": check=send needs expect=PREFIX (expected: the start of the "
                            + "reply, e.g. expect=HTTP/1.1 200; send=TEXT is optional)");
                }
                hc = HealthCheck.sendExpect(send == null ? "" : unescape(where, "send", send),
                        unescape(where, "expect", expect));
            }
            String interval = options.get("interval");
            if (interval != null) {
                hc = hc.withInterval(checkDuration(where, "interval", interval));
            }
            String timeout = options.get("timeout");
            if (timeout != null) {
                hc = hc.withTimeout(checkDuration(where, "timeout", timeout));
            }
            String rise = options.get("rise");
            if (rise != null) {
                hc = hc.withRise(integer(where + ": rise \"" + rise + "\"", rise, 1, MAX_THRESHOLD,
                        "1-" + MAX_THRESHOLD + " consecutive successes"));
            }
            String fall = options.get("fall");
            if (fall != null) {
                hc = hc.withFall(integer(where + ": fall \"" + fall + "\"", fall, 1, MAX_THRESHOLD,
                        "1-" + MAX_THRESHOLD + " consecutive failures"));
            }
            return hc;
        }

        private static Duration checkDuration(String where, String key, String value) {
            Duration d = parseDuration(value);
            if (d == null || d.isZero()) {
                throw new UsageException(where + ": " + key + " \"" + value + "\" (expected: more than zero, "
                        + DURATION_FORMS + ")");
            }
            return d;
        }

        private static Backend backend(String where, String text) {
            String s = text;
            boolean backup = false;
            int plus = s.indexOf('+');
            if (plus >= 0) {
                String flag = s.substring(plus + 1);
                if (!flag.equals("backup")) {
                    throw new UsageException(where + ": flag \"+" + flag + "\" on backend \"" + text
                            + "\" (expected: +backup)");
                }
                backup = true;
                s = s.substring(0, plus);
            }
            int weight = Backend.DEFAULT_WEIGHT;
            int star = s.indexOf('*');
            if (star >= 0) {
                String w = s.substring(star + 1);
                weight = integer(where + ": weight \"" + w + "\" of backend \"" + text + "\"", w, 1, Backend.MAX_WEIGHT,
                        "an integer 1-" + Backend.MAX_WEIGHT);
                s = s.substring(0, star);
            }
            HostPort hp = HostPort.parse(where + ": backend \"" + text + "\"", s, 1);
            return Backend.of(hp.host, hp.port).withWeight(weight).withBackup(backup);
        }

        private static int integer(String where, String text, int min, int max, String expected) {
            if (!text.isEmpty() && text.length() <= 10 && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                long n = Long.parseLong(text);
                if (n >= min && n <= max) {
                    return (int) n;
                }
            }
            throw new UsageException(where + " (expected: " + expected + ")");
        }
    }

    /**
     * Splits on a separator that is not escaped by a backslash; the escapes stay in the parts.
     *
     * @param text the text
     * @param separator the separator
     * @return the parts, at least one
     */
    static List<String> splitUnescaped(String text, char separator) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                current.append(c).append(text.charAt(++i));
            } else if (c == separator) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }

    /**
     * Replaces the escapes {@code \r}, {@code \n}, {@code \t}, {@code \\} and {@code \;}.
     *
     * @param where the argument, for the error message
     * @param key the route option, for the error message
     * @param text the text
     * @return the text with its escapes replaced
     */
    static String unescape(String where, String key, String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char next = i + 1 < text.length() ? text.charAt(++i) : 0;
            switch (next) {
                case 'r':
                    sb.append('\r');
                    break;
                case 'n':
                    sb.append('\n');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case '\\':
                    sb.append('\\');
                    break;
                case ';':
                    sb.append(';');
                    break;
                default:
                    throw new UsageException(where + ": " + key + "=" + text + ": escape \"\\"
                            + (next == 0 ? "" : String.valueOf(next)) + "\" (expected one of \\r \\n \\t \\\\ \\;)");
            }
        }
        return sb.toString();
    }

    /** A host (brackets removed) and a port, checked. */
    private static final class HostPort {
        final String host;
        final int port;

        private HostPort(String host, int port) {
            this.host = host;
            this.port = port;
        }

        static HostPort parse(String where, String text, int minPort) {
            String expected = "HOST:PORT, with an IPv6 host in brackets such as [::1]:443";
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new UsageException(where + " (expected: " + expected + ")");
            }
            String host = text.substring(0, colon);
            String port = text.substring(colon + 1);
            if (host.startsWith("[")) {
                if (!host.endsWith("]") || !IPV6_LITERAL.matcher(host.substring(1, host.length() - 1)).matches()) {
                    throw new UsageException(where + ": host \"" + host + "\" (expected: an IPv6 address in brackets, "
                            + "such as [::1])");
                }
                host = host.substring(1, host.length() - 1);
            } else if (host.isEmpty() || !HOST_NAME.matcher(host).matches()) {
                throw new UsageException(where + ": host \"" + host + "\" (expected: " + expected + ")");
            }
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(port) < minPort || Integer.parseInt(port) > 65535) {
                throw new UsageException(where + ": port \"" + port + "\" (expected: " + minPort + "-65535)");
            }
            return new HostPort(host, Integer.parseInt(port));
        }
    }
}
