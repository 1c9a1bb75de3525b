package io.refractium.hook;

import java.util.Objects;

/**
 * The key of a typed per-connection value that hooks keep on a connection with
 * {@link ConnectionInfo#attr(HookAttributeKey, Object)} and read back with {@link ConnectionInfo#attr(HookAttributeKey)}.
 * Keys compare by identity: create each once, as a constant, and share it between the hooks that use it. Immutable
 * and thread-safe.
 *
 * @param <T> the type of the value
 */
public final class HookAttributeKey<T> {

    private final String name;

    private HookAttributeKey(String name) {
        this.name = name;
    }

    /**
     * Creates a key; two calls with the same name give two different keys.
     *
     * @param name a name for logs and {@link #toString()}
     * @param <T> the type of the value
     * @return the key
     */
    public static <T> HookAttributeKey<T> of(String name) {
        return new HookAttributeKey<>(Objects.requireNonNull(name, "name"));
    }

    /** Returns the key's name. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
