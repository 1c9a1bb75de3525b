package io.refractium.server;

import io.refractium.config.ConfigException;
import io.refractium.config.ConfigNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the quick command-line flags ({@code --listen}, {@code --route SPEC}, ...) into the same configuration tree a
 * YAML file gives, so that one model ({@link io.refractium.config.RefractiumConfig}) checks both. This class only
 * splits the flags' grammar; the values are checked by the model, and an error names the flag it came from.
 */
final class FlagConfig {

    static final String ROUTE_GRAMMAR = "PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...]";
    private static final Pattern RATE = Pattern.compile("(\\d{1,7}(?:\\.\\d{1,9})?)/s(?:,burst=(\\d{1,10}))?");
    private static final List<String> ROUTE_OPTIONS = List.of("balance", "check", "send", "expect", "interval",
            "timeout", "rise", "fall", "attempts", "max-conns", "send-proxy");

    /** The flags as given; lists for repeatable ones, {@code null} for those not given. */
    static final class Flags {
        List<String> listen = new ArrayList<>();
        List<String> listenUdp = new ArrayList<>();
        List<String> route = new ArrayList<>();
        String fallback;
        List<String> onSilence = new ArrayList<>();
        List<String> acceptProxy = new ArrayList<>();
        String peekTimeout;
        String silenceTimeout;
        String quietTimeout;
        String connectTimeout;
        String idleTimeout;
        String peekBytes;
        String maxConnections;
        String maxConnectionsPerListener;
        String maxConnectionsPerIp;
        String maxDetecting;
        String ratePerIp;
        List<String> allow = new ArrayList<>();
        List<String> deny = new ArrayList<>();
        String ipv6Prefix;
        String maxTrackedIps;
        boolean rejectWithRst;
        String accessLog;
        String admin;
        String transport;
        String bandwidthPerConnection;
        String bandwidthPerIp;
        String bandwidthPerRoute;
        List<String> bandwidthPerTarget = new ArrayList<>();

        boolean isEmpty() {
            return listen.isEmpty() && listenUdp.isEmpty() && route.isEmpty() && fallback == null && onSilence.isEmpty()
                    && acceptProxy.isEmpty() && peekTimeout == null && silenceTimeout == null && quietTimeout == null
                    && connectTimeout == null && idleTimeout == null && peekBytes == null && maxConnections == null
                    && maxConnectionsPerListener == null && maxConnectionsPerIp == null && maxDetecting == null
                    && ratePerIp == null && allow.isEmpty() && deny.isEmpty() && ipv6Prefix == null
                    && maxTrackedIps == null && !rejectWithRst && accessLog == null && admin == null
                    && transport == null && bandwidthPerConnection == null && bandwidthPerIp == null
                    && bandwidthPerRoute == null && bandwidthPerTarget.isEmpty();
        }
    }

    private FlagConfig() {
    }

    private static ConfigNode s(String value, String where) {
        return ConfigNode.scalar(value, where, 0);
    }

    private static ConfigNode m(Map<String, ConfigNode> map, String where) {
        return ConfigNode.map(map, where, 0);
    }

    private static String where(String flag, String value) {
        return flag + " \"" + value + "\"";
    }

    /**
     * Builds the configuration tree of the flags.
     *
     * @throws ConfigException naming the flag when its grammar is broken
     */
    static ConfigNode toTree(Flags f) {
        String cli = "command line";
        Map<String, ConfigNode> root = new LinkedHashMap<>();
        Map<String, ConfigNode> targets = new LinkedHashMap<>();
        List<ConfigNode> routes = new ArrayList<>();
        Map<String, String> routeFlags = new LinkedHashMap<>();

        // Listener extras by port (0: every listener).
        Map<Integer, ConfigNode> proxyByPort = new LinkedHashMap<>();
        for (String v : f.acceptProxy) {
            String w = where("--accept-proxy", v);
            List<String> parts = splitUnescaped(v, ';');
            Map<String, ConfigNode> proxy = new LinkedHashMap<>();
            proxy.put("mode", s(parts.get(0), w));
            int port = 0;
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                String key = eq <= 0 ? part : part.substring(0, eq);
                String value = eq <= 0 ? "" : part.substring(eq + 1);
                if (key.equals("trusted") && !proxy.containsKey("trusted")) {
                    List<ConfigNode> nets = new ArrayList<>();
                    for (String c : value.split(",", -1)) {
                        nets.add(s(c, w));
                    }
                    proxy.put("trusted", ConfigNode.list(nets, w, 0));
                } else if (key.equals("listener") && port == 0) {
                    port = port(w, "listener", value);
                } else {
                    throw new ConfigException(w, "option", "\"" + part + "\" (expected: trusted=CIDR[,CIDR...] or "
                            + "listener=PORT, each at most once)");
                }
            }
            if (proxyByPort.put(port, m(proxy, w)) != null) {
                throw new ConfigException(w, port == 0 ? "every listener" : "listener " + port,
                        "already has an --accept-proxy (expected: one for all listeners, plus one per port)");
            }
        }
        Map<Integer, ConfigNode> silenceByPort = new LinkedHashMap<>();
        Map<String, ConfigNode> defaultSilence = new LinkedHashMap<>();
        for (String v : f.onSilence) {
            String w = where("--on-silence", v);
            List<String> parts = splitUnescaped(v, ';');
            String listener = null;
            String timeout = null;
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                String key = eq <= 0 ? part : part.substring(0, eq);
                if (key.equals("listener") && listener == null && eq > 0) {
                    listener = part.substring(eq + 1);
                } else if (key.equals("timeout") && timeout == null && eq > 0) {
                    timeout = part.substring(eq + 1);
                } else {
                    throw new ConfigException(w, "option", "\"" + part + "\" (expected: listener=PORT or "
                            + "timeout=DURATION, each at most once)");
                }
            }
            if (listener == null) {
                if (timeout != null) {
                    throw new ConfigException(w, "timeout", "applies only with listener=PORT (expected: "
                            + "--silence-timeout for the default silent-client target)");
                }
                if (defaultSilence.containsKey("target")) {
                    throw new ConfigException(w, "--on-silence", "given twice without listener= (expected: one "
                            + "default silent-client target)");
                }
                targets.put("on-silence", singleBackend(parts.get(0), w));
                defaultSilence.put("target", s("on-silence", w));
                continue;
            }
            int port = port(w, "listener", listener);
            String name = "on-silence:" + port;
            Map<String, ConfigNode> silence = new LinkedHashMap<>();
            silence.put("target", s(name, w));
            if (timeout != null) {
                silence.put("timeout", s(timeout, w));
            }
            if (silenceByPort.put(port, m(silence, w)) != null) {
                throw new ConfigException(w, "listener " + port, "already has a silent-client target (expected: "
                        + "one --on-silence per port)");
            }
            targets.put(name, singleBackend(parts.get(0), w));
        }
        if (f.silenceTimeout != null) {
            defaultSilence.put("timeout", s(f.silenceTimeout, "--silence-timeout"));
        }

        List<ConfigNode> listeners = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (String v : f.listen) {
            String w = where("--listen", v);
            int colon = v.lastIndexOf(':');
            String p = colon < 0 ? "" : v.substring(colon + 1);
            int port = p.matches("\\d{1,5}") ? Integer.parseInt(p) : -1;
            ports.add(port);
            ConfigNode proxy = proxyByPort.containsKey(port) ? proxyByPort.get(port) : proxyByPort.get(0);
            ConfigNode silence = silenceByPort.get(port);
            if (proxy == null && silence == null) {
                listeners.add(s(v, w));
                continue;
            }
            Map<String, ConfigNode> l = new LinkedHashMap<>();
            l.put("address", s(v, w));
            if (proxy != null) {
                l.put("proxy-protocol", proxy);
            }
            if (silence != null) {
                l.put("silence", silence);
            }
            listeners.add(m(l, w));
        }
        for (int port : proxyByPort.keySet()) {
            if (port != 0 && !ports.contains(port)) {
                throw new ConfigException("--accept-proxy", "listener=" + port, "no --listen has that port "
                        + "(expected: the port of a --listen)");
            }
        }
        for (int port : silenceByPort.keySet()) {
            if (!ports.contains(port)) {
                throw new ConfigException("--on-silence", "listener=" + port, "no --listen has that port "
                        + "(expected: the port of a --listen)");
            }
        }
        if (!listeners.isEmpty()) {
            root.put("listeners", ConfigNode.list(listeners, "--listen", 0));
        }
        if (!f.listenUdp.isEmpty()) {
            List<ConfigNode> udp = new ArrayList<>();
            for (String v : f.listenUdp) {
                udp.add(s(v, where("--listen-udp", v)));
            }
            root.put("udp-listeners", ConfigNode.list(udp, "--listen-udp", 0));
        }

        for (String v : f.route) {
            route(v, targets, routes, routeFlags);
        }
        if (f.fallback != null) {
            String w = where("--fallback", f.fallback);
            targets.put("fallback", singleBackend(f.fallback, w));
            root.put("fallback", s("fallback", w));
        }
        if (!defaultSilence.isEmpty()) {
            root.put("silence", m(defaultSilence, "--on-silence"));
        }
        if (!targets.isEmpty()) {
            root.put("targets", m(targets, "--route"));
        }
        if (!routes.isEmpty()) {
            root.put("routes", ConfigNode.list(routes, "--route", 0));
        }

        Map<String, ConfigNode> detection = new LinkedHashMap<>();
        put(detection, "peek-timeout", f.peekTimeout, "--peek-timeout");
        put(detection, "quiet-timeout", f.quietTimeout, "--quiet-timeout");
        put(detection, "max-peek-bytes", f.peekBytes, "--peek-bytes");
        if (!detection.isEmpty()) {
            root.put("detection", m(detection, cli));
        }
        Map<String, ConfigNode> timeouts = new LinkedHashMap<>();
        put(timeouts, "connect", f.connectTimeout, "--connect-timeout");
        put(timeouts, "idle", f.idleTimeout, "--idle-timeout");
        if (!timeouts.isEmpty()) {
            root.put("timeouts", m(timeouts, cli));
        }
        Map<String, ConfigNode> limits = new LinkedHashMap<>();
        put(limits, "max-connections", f.maxConnections, "--max-connections");
        put(limits, "max-connections-per-listener", f.maxConnectionsPerListener, "--max-connections-per-listener");
        put(limits, "max-connections-per-ip", f.maxConnectionsPerIp, "--max-connections-per-ip");
        put(limits, "max-detecting", f.maxDetecting, "--max-detecting");
        if (f.ratePerIp != null) {
            String w = where("--rate-per-ip", f.ratePerIp);
            Matcher rm = RATE.matcher(f.ratePerIp);
            if (!rm.matches()) {
                throw new ConfigException(w, "--rate-per-ip", "\"" + f.ratePerIp + "\" (expected: R/s[,burst=B], "
                        + "e.g. 10/s or 0.5/s,burst=5)");
            }
            limits.put("rate-per-ip", s(rm.group(1), w));
            if (rm.group(2) != null) {
                limits.put("burst-per-ip", s(rm.group(2), w));
            }
        }
        list(limits, "allow", f.allow, "--allow");
        list(limits, "deny", f.deny, "--deny");
        put(limits, "ipv6-prefix", f.ipv6Prefix, "--ipv6-prefix");
        put(limits, "max-tracked-ips", f.maxTrackedIps, "--max-tracked-ips");
        if (f.rejectWithRst) {
            limits.put("reject-with-rst", s("true", "--reject-with-rst"));
        }
        if (!limits.isEmpty()) {
            root.put("limits", m(limits, cli));
        }
        Map<String, ConfigNode> bandwidth = new LinkedHashMap<>();
        put(bandwidth, "per-connection", f.bandwidthPerConnection, "--bandwidth-per-connection");
        put(bandwidth, "per-ip", f.bandwidthPerIp, "--bandwidth-per-ip");
        put(bandwidth, "per-route", f.bandwidthPerRoute, "--bandwidth-per-route");
        Map<String, ConfigNode> perTargetName = new LinkedHashMap<>();
        for (String v : f.bandwidthPerTarget) {
            String w = where("--bandwidth-per-target", v);
            int eq = v.indexOf('=');
            Map<String, ConfigNode> into = eq < 0 ? bandwidth : perTargetName;
            String key = eq < 0 ? "per-target" : v.substring(0, eq);
            if (into.put(key, s(eq < 0 ? v : v.substring(eq + 1), w)) != null) {
                throw new ConfigException(w, "--bandwidth-per-target", "given twice for " + (eq < 0 ? "every target"
                        : "target " + key) + " (expected: at most once)");
            }
        }
        if (!perTargetName.isEmpty()) {
            bandwidth.put("targets", m(perTargetName, "--bandwidth-per-target"));
        }
        if (!bandwidth.isEmpty()) {
            root.put("bandwidth", m(bandwidth, cli));
        }
        if (f.transport != null) {
            Map<String, ConfigNode> engine = new LinkedHashMap<>();
            engine.put("transport", s(f.transport, where("--transport", f.transport)));
            root.put("engine", m(engine, cli));
        }
        if (f.admin != null) {
            String w = where("--admin", f.admin);
            Map<String, ConfigNode> admin = new LinkedHashMap<>();
            admin.put("listen", s(f.admin, w));
            root.put(ServerConfig.ADMIN, m(admin, w));
        }
        if (f.accessLog != null) {
            String w = where("--access-log", f.accessLog);
            Map<String, ConfigNode> accessLog = new LinkedHashMap<>();
            if (f.accessLog.equals("off")) {
                accessLog.put("enabled", s("false", w));
            } else {
                accessLog.put("format", s(f.accessLog, w));
            }
            root.put(ServerConfig.ACCESS_LOG, m(accessLog, w));
        }
        return m(root, cli);
    }

    private static void put(Map<String, ConfigNode> map, String key, String value, String flag) {
        if (value != null) {
            map.put(key, s(value, where(flag, value)));
        }
    }

    private static void list(Map<String, ConfigNode> map, String key, List<String> values, String flag) {
        if (!values.isEmpty()) {
            List<ConfigNode> nodes = new ArrayList<>();
            for (String v : values) {
                nodes.add(s(v, where(flag, v)));
            }
            map.put(key, ConfigNode.list(nodes, flag, 0));
        }
    }

    private static int port(String where, String key, String value) {
        if (value.matches("\\d{1,5}") && Integer.parseInt(value) >= 1 && Integer.parseInt(value) <= 65535) {
            return Integer.parseInt(value);
        }
        throw new ConfigException(where, key, "\"" + value + "\" (expected: a port 1-65535)");
    }

    private static ConfigNode singleBackend(String hostAndPort, String where) {
        Map<String, ConfigNode> t = new LinkedHashMap<>();
        t.put("backends", ConfigNode.list(List.of(s(hostAndPort, where)), where, 0));
        return m(t, where);
    }

    private static void route(String value, Map<String, ConfigNode> targets, List<ConfigNode> routes,
                              Map<String, String> routeFlags) {
        String w = where("--route", value);
        int eq = value.indexOf('=');
        if (eq < 0) {
            throw new ConfigException(w, "--route", "no \"=\" (expected: " + ROUTE_GRAMMAR + ")");
        }
        int open = value.indexOf('[');
        String conditions = null;
        if (open >= 0 && open < eq) {
            int close = closingBracket(value, open);
            if (close < 0 || close + 1 >= value.length() || value.charAt(close + 1) != '=') {
                throw new ConfigException(w, "--route", "conditions must be [KEY=VALUE,...] right before \"=\" "
                        + "(expected: " + ROUTE_GRAMMAR + ")");
            }
            conditions = value.substring(open + 1, close);
            eq = close + 1;
        }
        String left = value.substring(0, open >= 0 && open < eq ? open : eq);
        int at = left.indexOf('@');
        String protocol = at < 0 ? left : left.substring(0, at);
        String name = at < 0 ? null : left.substring(at + 1);
        Map<String, ConfigNode> route = new LinkedHashMap<>();
        route.put("protocol", s(protocol, w));
        if (name != null) {
            if (!protocol.equals("tls") && !protocol.equals("http") && !protocol.equals("http2")) {
                throw new ConfigException(w, "@" + name, "a name is allowed only on tls (the SNI), http and http2 "
                        + "(the Host), not on " + protocol + " (expected: " + protocol + "=BACKEND...)");
            }
            route.put(protocol.equals("tls") ? "sni" : "host", s(name, w));
        }
        String key = name == null ? protocol : protocol + "@" + name.toLowerCase(Locale.ROOT);
        if (conditions != null) {
            conditions(w, protocol, conditions, route);
            key = key + "[" + conditions + "]";
        }
        if (routeFlags.containsKey(key)) {
            throw new ConfigException(w, "--route", "the same protocol and conditions as --route \""
                    + routeFlags.get(key) + "\" (expected: one route per protocol and conditions)");
        }
        routeFlags.put(key, value);

        List<String> parts = splitUnescaped(value.substring(eq + 1), ';');
        Map<String, ConfigNode> target = new LinkedHashMap<>();
        List<ConfigNode> backends = new ArrayList<>();
        if (parts.get(0).isEmpty()) {
            throw new ConfigException(w, "--route", "no backend (expected: HOST:PORT[*WEIGHT][+backup] after \"=\")");
        }
        for (String b : parts.get(0).split(",", -1)) {
            backends.add(s(b, w));
        }
        target.put("backends", ConfigNode.list(backends, w, 0));
        Map<String, ConfigNode> health = new LinkedHashMap<>();
        for (String part : parts.subList(1, parts.size())) {
            int e = part.indexOf('=');
            String option = e <= 0 ? part : part.substring(0, e);
            if (e <= 0 || !ROUTE_OPTIONS.contains(option)) {
                throw new ConfigException(w, "option", "\"" + part + "\" (expected: OPTION=VALUE with OPTION one of "
                        + String.join(", ", ROUTE_OPTIONS) + ")");
            }
            String v = part.substring(e + 1);
            Map<String, ConfigNode> into = target;
            String k = option;
            switch (option) {
                case "check":
                case "interval":
                case "timeout":
                case "rise":
                case "fall":
                    into = health;
                    break;
                case "send":
                case "expect":
                    into = health;
                    v = unescape(w, option, v);
                    break;
                case "max-conns":
                    k = "max-connections";
                    break;
                default:
                    break;
            }
            if (into.put(k, s(v, w)) != null) {
                throw new ConfigException(w, option, "given twice (expected: at most once)");
            }
        }
        if (!health.isEmpty()) {
            target.put("health", m(health, w));
        }
        targets.put(key, m(target, w));
        route.put("target", s(key, w));
        routes.add(m(route, w));
    }

    private static void conditions(String w, String protocol, String text, Map<String, ConfigNode> route) {
        if (text.isEmpty()) {
            throw new ConfigException(w, "[]", "empty conditions (expected: [KEY=VALUE,...], e.g. "
                    + "[sni=*.a.example,alpn=h2] or [listener=2222])");
        }
        Map<String, ConfigNode> attributes = new LinkedHashMap<>();
        for (String condition : splitOutsideBrackets(text)) {
            int eq = condition.indexOf('=');
            if (eq <= 0 || eq == condition.length() - 1) {
                throw new ConfigException(w, "condition", "\"" + condition + "\" (expected: KEY=VALUE, such as "
                        + "sni=*.a.example, alpn=h2, listener=2222 or database=app)");
            }
            String key = condition.substring(0, eq);
            String value = condition.substring(eq + 1);
            boolean builtIn = List.of("sni", "host", "alpn", "path", "client", "listener").contains(key);
            Map<String, ConfigNode> into = builtIn ? route : attributes;
            String k = builtIn ? key : key.indexOf('.') >= 0 ? key : protocol + "." + key;
            if (into.put(k, s(value, w)) != null) {
                throw new ConfigException(w, key, "given twice, or with @NAME as well (expected: at most once)");
            }
        }
        if (!attributes.isEmpty()) {
            route.put("attributes", m(attributes, w));
        }
    }

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

    /** Splits on a separator not escaped by a backslash; the escapes stay in the parts. */
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

    /** Replaces the escapes {@code \r \n \t \\ \;}. */
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
                    throw new ConfigException(where, key, "escape \"\\" + (next == 0 ? "" : String.valueOf(next))
                            + "\" (expected one of \\r \\n \\t \\\\ \\;)");
            }
        }
        return sb.toString();
    }
}
