package io.refractium.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One node of a configuration tree: a map, a list or a scalar, with where it was written (a file and line, or a
 * command-line flag) so that errors can point at it. Scalars keep their text as written; a {@code null} value is an
 * empty scalar ({@code key:} with nothing after it in YAML).
 *
 * <p>Immutable and thread-safe. Map entries keep their order.
 */
public final class ConfigNode {

    /** The shape of a node. */
    public enum Kind {
        /** Keys to nodes. */
        MAP,
        /** An ordered list of nodes. */
        LIST,
        /** A single value, kept as text. */
        SCALAR
    }

    private final Kind kind;
    private final String source;
    private final int line;
    private final Map<String, ConfigNode> entries;
    private final List<ConfigNode> elements;
    private final String value;

    private ConfigNode(Kind kind, String source, int line, Map<String, ConfigNode> entries, List<ConfigNode> elements,
                       String value) {
        this.kind = kind;
        this.source = Objects.requireNonNull(source, "source");
        this.line = line;
        this.entries = entries;
        this.elements = elements;
        this.value = value;
    }

    /**
     * Returns a scalar.
     *
     * @param value the text as written, or {@code null} for an empty value
     * @param source the file name or the flag it comes from
     * @param line its line, from 1, or 0 when there is none (a flag)
     * @return the node
     */
    public static ConfigNode scalar(String value, String source, int line) {
        return new ConfigNode(Kind.SCALAR, source, line, Map.of(), List.of(), value);
    }

    /**
     * Returns a list node.
     *
     * @param elements the elements, copied
     * @param source the file name or the flag it comes from
     * @param line its line, from 1, or 0
     * @return the node
     */
    public static ConfigNode list(List<ConfigNode> elements, String source, int line) {
        return new ConfigNode(Kind.LIST, source, line, Map.of(), List.copyOf(elements), null);
    }

    /**
     * Returns a map node.
     *
     * @param entries the entries, copied in their order
     * @param source the file name or the flag it comes from
     * @param line its line, from 1, or 0
     * @return the node
     */
    public static ConfigNode map(Map<String, ConfigNode> entries, String source, int line) {
        return new ConfigNode(Kind.MAP, source, line, Collections.unmodifiableMap(new LinkedHashMap<>(entries)),
                List.of(), null);
    }

    /** Returns the node's shape. */
    public Kind kind() {
        return kind;
    }

    /** Returns the file name or flag the node comes from. */
    public String source() {
        return source;
    }

    /** Returns the line the node starts on, from 1, or 0 when it has none. */
    public int line() {
        return line;
    }

    /** Returns {@code source:line}, or the source alone when there is no line. */
    public String where() {
        return line > 0 ? source + ":" + line : source;
    }

    /** Returns a scalar's text ({@code null} when empty, and for maps and lists). */
    public String value() {
        return value;
    }

    /** Returns a map's entries in their order (empty for lists and scalars). */
    public Map<String, ConfigNode> entries() {
        return entries;
    }

    /** Returns a list's elements (empty for maps and scalars). */
    public List<ConfigNode> elements() {
        return elements;
    }

    /**
     * Returns a map's entry, or {@code null}.
     *
     * @param key the key
     * @return the node under the key, or {@code null}
     */
    public ConfigNode get(String key) {
        return entries.get(key);
    }

    /**
     * Returns this map without one key (this node itself when it has no such key or is not a map).
     *
     * @param key the key to leave out
     * @return the node without the key
     */
    public ConfigNode without(String key) {
        if (kind != Kind.MAP || !entries.containsKey(key)) {
            return this;
        }
        Map<String, ConfigNode> copy = new LinkedHashMap<>(entries);
        copy.remove(key);
        return map(copy, source, line);
    }

    @Override
    public String toString() {
        switch (kind) {
            case MAP:
                return entries.toString();
            case LIST:
                return elements.toString();
            default:
                return String.valueOf(value);
        }
    }
}
