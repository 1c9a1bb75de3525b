package io.refractium.server;

import io.refractium.config.ConfigException;
import io.refractium.config.ConfigNode;
import io.refractium.config.RefractiumConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The configuration of the standalone server: the engine's {@link RefractiumConfig} plus the server's own
 * {@code access-log} section:
 * <pre>
 * access-log:
 *   enabled: true        # default true: one line per closed connection, logger refractium.access
 *   format: text         # text (default) or json
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class ServerConfig {

    /** The server's own top-level key. */
    public static final String ACCESS_LOG = "access-log";

    private final RefractiumConfig engine;
    private final AccessLog.Settings accessLog;

    private ServerConfig(RefractiumConfig engine, AccessLog.Settings accessLog) {
        this.engine = engine;
        this.accessLog = accessLog;
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
        if (root.kind() == ConfigNode.Kind.MAP) {
            for (String key : root.entries().keySet()) {
                if (!key.equals(ACCESS_LOG) && !RefractiumConfig.SECTIONS.contains(key)) {
                    java.util.List<String> all = new java.util.ArrayList<>(RefractiumConfig.SECTIONS);
                    all.add(ACCESS_LOG);
                    all.sort(null);
                    throw new ConfigException(root.get(key).where(), key, "unknown key (expected one of: "
                            + String.join(", ", all) + ")");
                }
            }
        }
        return new ServerConfig(RefractiumConfig.from(root.without(ACCESS_LOG)), accessLog);
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

    /** Returns the access log's settings. */
    public AccessLog.Settings accessLog() {
        return accessLog;
    }
}
