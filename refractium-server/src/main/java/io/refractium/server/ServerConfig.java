package io.refractium.server;

import io.refractium.config.ConfigException;
import io.refractium.config.ConfigNode;
import io.refractium.config.RefractiumConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Set;

/**
 * The configuration of the standalone server: the engine's {@link RefractiumConfig} plus the server's own
 * {@code access-log} and {@code admin} sections:
 * <pre>
 * access-log:
 *   enabled: true        # default true: one line per closed connection, logger refractium.access
 *   format: text         # text (default) or json
 * admin:
 *   listen: 127.0.0.1:9901   # the admin HTTP endpoint (metrics, health, targets, drain); off without this
 *                            # section, on loopback port 9901 when the section names no address
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class ServerConfig {

    /** The server's own top-level key. */
    public static final String ACCESS_LOG = "access-log";
    /** The admin endpoint's top-level key. */
    public static final String ADMIN = "admin";
    /** Where the admin endpoint listens when its section gives no address: loopback, port 9901. */
    public static final InetSocketAddress DEFAULT_ADMIN =
            new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 9901);

    private final RefractiumConfig engine;
    private final AccessLog.Settings accessLog;
    private final InetSocketAddress admin;

    private ServerConfig(RefractiumConfig engine, AccessLog.Settings accessLog, InetSocketAddress admin) {
        this.engine = engine;
        this.accessLog = accessLog;
        this.admin = admin;
    }

    /**
     * Reads a YAML file.
     *
     * @param file the file
     * @return the configuration
     * @throws IOException when the file cannot be read
     * @throws ConfigException naming the file, line, key and value of the first problem
     */
    public static ServerConfig read(Path file) throws IOException {
        return from(YamlConfig.read(file));
    }

    /**
     * Reads a configuration tree.
     *
     * @param root the tree's root
     * @return the configuration
     * @throws ConfigException naming the source, line, key and value of the first problem
     */
    public static ServerConfig from(ConfigNode root) {
        ConfigNode section = root.get(ACCESS_LOG);
        AccessLog.Settings accessLog = AccessLog.Settings.DEFAULT;
        if (section != null) {
            accessLog = accessLog(section);
        }
        ConfigNode adminSection = root.get(ADMIN);
        InetSocketAddress admin = adminSection == null ? null : admin(adminSection);
        if (root.kind() == ConfigNode.Kind.MAP) {
            for (String key : root.entries().keySet()) {
                if (!key.equals(ACCESS_LOG) && !key.equals(ADMIN) && !RefractiumConfig.SECTIONS.contains(key)) {
                    java.util.List<String> all = new java.util.ArrayList<>(RefractiumConfig.SECTIONS);
                    all.add(ACCESS_LOG);
                    all.add(ADMIN);
                    all.sort(null);
                    throw new ConfigException(root.get(key).where(), key, "unknown key (expected one of: "
                            + String.join(", ", all) + ")");
                }
            }
        }
        return new ServerConfig(RefractiumConfig.from(root.without(ACCESS_LOG).without(ADMIN)), accessLog, admin);
    }

    private static InetSocketAddress admin(ConfigNode section) {
        String expected = "{listen: HOST:PORT}, e.g. {listen: 127.0.0.1:9901}";
        if (section.kind() != ConfigNode.Kind.MAP) {
            if (section.kind() == ConfigNode.Kind.SCALAR && section.value() == null) {
                return DEFAULT_ADMIN; // "admin:" alone
            }
            throw new ConfigException(section.where(), ADMIN, "not a map (expected: " + expected + ")");
        }
        InetSocketAddress listen = null;
        for (var e : section.entries().entrySet()) {
            String key = ADMIN + "." + e.getKey();
            if (!e.getKey().equals("listen")) {
                throw new ConfigException(e.getValue().where(), key, "unknown key (expected: listen)");
            }
            listen = hostAndPort(e.getValue(), key);
        }
        return listen != null ? listen : DEFAULT_ADMIN;
    }

    /** Parses {@code HOST:PORT} (an IPv6 host in brackets) of an IP address. */
    private static InetSocketAddress hostAndPort(ConfigNode node, String key) {
        String text = node.value();
        String problem = "\"" + text + "\" (expected: IP:PORT such as 127.0.0.1:9901 or [::1]:9901, port 0-65535)";
        if (text == null) {
            throw new ConfigException(node.where(), key, problem);
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new ConfigException(node.where(), key, problem);
        }
        String host = text.substring(0, colon);
        String port = text.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                || Integer.parseInt(port) > 65535 || !(host.indexOf(':') >= 0 || host.matches("[0-9.]+"))) {
            throw new ConfigException(node.where(), key, problem);
        }
        try {
            return new InetSocketAddress(java.net.InetAddress.getByName(host), Integer.parseInt(port));
        } catch (java.net.UnknownHostException e) {
            throw new ConfigException(node.where(), key, problem);
        }
    }

    private static AccessLog.Settings accessLog(ConfigNode section) {
        if (section.kind() != ConfigNode.Kind.MAP) {
            throw new ConfigException(section.where(), ACCESS_LOG, "not a map (expected: {enabled: true|false, "
                    + "format: text|json})");
        }
        boolean enabled = true;
        AccessLog.Format format = AccessLog.Format.TEXT;
        for (var e : section.entries().entrySet()) {
            String key = ACCESS_LOG + "." + e.getKey();
            String value = e.getValue().value();
            switch (e.getKey()) {
                case "enabled":
                    if (!Set.of("true", "false").contains(String.valueOf(value))) {
                        throw new ConfigException(e.getValue().where(), key, "\"" + value
                                + "\" (expected: true or false)");
                    }
                    enabled = Boolean.parseBoolean(value);
                    break;
                case "format":
                    if ("text".equals(value)) {
                        format = AccessLog.Format.TEXT;
                    } else if ("json".equals(value)) {
                        format = AccessLog.Format.JSON;
                    } else {
                        throw new ConfigException(e.getValue().where(), key, "\"" + value
                                + "\" (expected: text or json)");
                    }
                    break;
                default:
                    throw new ConfigException(e.getValue().where(), key, "unknown key (expected one of: enabled, "
                            + "format)");
            }
        }
        return new AccessLog.Settings(enabled, format);
    }

    /** Returns the engine's configuration. */
    public RefractiumConfig engine() {
        return engine;
    }

    /** Returns where the admin endpoint listens, or {@code null} when it is off. */
    public InetSocketAddress admin() {
        return admin;
    }

    /** Returns the access log's settings. */
    public AccessLog.Settings accessLog() {
        return accessLog;
    }
}
