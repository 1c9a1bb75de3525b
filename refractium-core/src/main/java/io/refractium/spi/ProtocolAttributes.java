package io.refractium.spi;

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
    public static final ProtocolAttributes EMPTY = new ProtocolAttributes(Map.of());

    private final Map<AttributeKey<?>, Object> values;

    private ProtocolAttributes(Map<AttributeKey<?>, Object> values) {
        this.values = values;
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
        return (T) values.get(Objects.requireNonNull(key, "key"));
    }

    /** Returns whether the attribute is present. */
    public boolean has(AttributeKey<?> key) {
        return values.containsKey(Objects.requireNonNull(key, "key"));
    }

    /** Returns the attributes as an unmodifiable map, in the order they were added. */
    public Map<AttributeKey<?>, Object> asMap() {
        return values;
    }

    /** Returns whether there are no attributes. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProtocolAttributes && ((ProtocolAttributes) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }

    /** Builds {@link ProtocolAttributes}; not thread-safe, reusable after {@link #build()}. */
    public static final class Builder {
        private final Map<AttributeKey<?>, Object> values = new LinkedHashMap<>();

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
                Object v = value instanceof List ? List.copyOf((List<?>) value) : value;
                values.put(key, key.cast(v));
            }
            return this;
        }

        /** Returns the immutable attributes. */
        public ProtocolAttributes build() {
            return values.isEmpty() ? EMPTY
                    : new ProtocolAttributes(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
        }
    }
}
