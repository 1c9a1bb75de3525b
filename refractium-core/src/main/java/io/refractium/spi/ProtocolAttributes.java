package io.refractium.spi;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The attributes a detector found in the first bytes of a connection: SNI, ALPN, HTTP Host, path, and any a
 * custom detector defines. Immutable and thread-safe; build one with {@link #builder()}.
 */
public final class ProtocolAttributes {

    /** No attributes. */
    public static final ProtocolAttributes EMPTY = new ProtocolAttributes(new Object[0], 0);

    /**
     * Keys and values alternating, in insertion order, in the first {@code length} slots: a detector reports a
     * handful, so a scan beats hashing. The array of the builder that built these attributes, which never writes
     * to it again (it copies it first).
     */
    private final Object[] entries;
    private final int length;
    private volatile Map<AttributeKey<?>, Object> map;

    private ProtocolAttributes(Object[] entries, int length) {
        this.entries = entries;
        this.length = length;
    }

    /** Returns a new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the value of the attribute, or {@code null} when the detector did not report it.
     *
     * @param key the attribute
     * @param <T> the type of the value
     * @return the value or {@code null}
     */
    @SuppressWarnings("unchecked")
    public <T> T get(AttributeKey<T> key) {
        Objects.requireNonNull(key, "key");
        for (int i = 0; i < length; i += 2) {
            if (entries[i] == key || entries[i].equals(key)) {
                return (T) entries[i + 1];
            }
        }
        return null;
    }

    /** Returns whether the attribute is present. */
    public boolean has(AttributeKey<?> key) {
        return get(key) != null;
    }

    /** Returns the attributes as an unmodifiable map, in the order they were added. */
    public Map<AttributeKey<?>, Object> asMap() {
        Map<AttributeKey<?>, Object> m = map;
        if (m == null) {
            Map<AttributeKey<?>, Object> built = new LinkedHashMap<>();
            for (int i = 0; i < length; i += 2) {
                built.put((AttributeKey<?>) entries[i], entries[i + 1]);
            }
            map = m = Collections.unmodifiableMap(built);
        }
        return m;
    }

    /** Returns whether there are no attributes. */
    public boolean isEmpty() {
        return length == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProtocolAttributes && ((ProtocolAttributes) o).asMap().equals(asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    @Override
    public String toString() {
        return asMap().toString();
    }

    /** Builds {@link ProtocolAttributes}; not thread-safe, reusable after {@link #build()}. */
    public static final class Builder {
        private Object[] entries = new Object[12];
        private int size;
        /** Whether {@code entries} is held by attributes built from it, and must be copied before a change. */
        private boolean shared;

        private Builder() {
        }

        /**
         * Sets an attribute; a {@code null} value is ignored, so optional fields can be passed as they are.
         * Lists are copied.
         *
         * @param key the attribute
         * @param value the value, or {@code null} to leave it unset
         * @param <T> the type of the value
         * @return this builder
         */
        public <T> Builder put(AttributeKey<T> key, T value) {
            Objects.requireNonNull(key, "key");
            if (value != null) {
                // String first: a final class, so the usual value skips the costlier interface check.
                Object v = key.cast(value instanceof String || !(value instanceof List) ? value
                        : List.copyOf((List<?>) value));
                for (int i = 0; i < size * 2; i += 2) {
                    if (entries[i].equals(key)) {
                        own(entries.length);
                        entries[i + 1] = v;
                        return this;
                    }
                }
                own(size * 2 == entries.length ? entries.length * 2 : entries.length);
                entries[size * 2] = key;
                entries[size * 2 + 1] = v;
                size++;
            }
            return this;
        }

        /** Returns the immutable attributes. */
        public ProtocolAttributes build() {
            if (size == 0) {
                return EMPTY;
            }
            shared = true;
            return new ProtocolAttributes(entries, size * 2);
        }

        /** Makes {@code entries} this builder's own array of the given capacity, copying it when needed. */
        private void own(int capacity) {
            if (shared || capacity != entries.length) {
                entries = Arrays.copyOf(entries, capacity);
                shared = false;
            }
        }
    }
}
