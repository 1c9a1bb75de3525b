package io.refractium.internal.route;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A route's condition on one attribute a detector reports, by the attribute's name: an exact value, a
 * {@code *.suffix} {@link NamePattern}, or a predicate. A list-valued attribute (such as ALPN) matches when any
 * element matches; other values are compared by their string form. Immutable and thread-safe when the predicate is.
 */
public final class AttributeCondition {

    /** The kind of test, in order of specificity. */
    public enum Kind {
        /** The value equals a string, case-sensitively. */
        EXACT,
        /** The value is a name below a suffix ({@link NamePattern}, case-insensitive). */
        SUFFIX,
        /** A predicate in code decides. */
        PREDICATE
    }

    private final String name;
    private final AttributeKey<Object> key;
    private final Kind kind;
    private final String exact;
    private final NamePattern suffix;
    private final Predicate<String> predicate;

    private AttributeCondition(String name, Kind kind, String exact, NamePattern suffix, Predicate<String> predicate) {
        this.name = name;
        this.key = AttributeKey.of(name, Object.class);
        this.kind = kind;
        this.exact = exact;
        this.suffix = suffix;
        this.predicate = predicate;
    }

    /**
     * Returns a condition on a value: {@code *.suffix} for any name below the suffix, otherwise the exact value.
     *
     * @param name the attribute's name, e.g. {@code postgres.database}
     * @param value the exact value, or {@code *.suffix}
     * @return the condition
     * @throws IllegalArgumentException naming the attribute when the name or the pattern is malformed
     */
    public static AttributeCondition of(String name, String value) {
        checkName(name);
        Objects.requireNonNull(value, name);
        if (value.startsWith("*.")) {
            return new AttributeCondition(name, Kind.SUFFIX, null, NamePattern.parse(name, value), null);
        }
        if (value.isEmpty()) {
            throw new IllegalArgumentException(name + ": \"\" (expected: a value, or *.suffix for any name below it)");
        }
        return new AttributeCondition(name, Kind.EXACT, value, null, null);
    }

    /**
     * Returns a condition decided by a predicate on the value's string form (each element of a list).
     *
     * @param name the attribute's name
     * @param predicate the test; called on the connection's event loop, must not block
     * @return the condition
     */
    public static AttributeCondition of(String name, Predicate<String> predicate) {
        checkName(name);
        return new AttributeCondition(name, Kind.PREDICATE, null, null, Objects.requireNonNull(predicate, name));
    }

    private static void checkName(String name) {
        Objects.requireNonNull(name, "attribute");
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == '=' || c == ',' || c == '[' || c == ']')) {
            throw new IllegalArgumentException("attribute: \"" + name
                    + "\" (expected: an attribute name such as postgres.database, without spaces, = , [ or ])");
        }
    }

    /** Returns the attribute's name. */
    public String name() {
        return name;
    }

    /** Returns the kind of test. */
    public Kind kind() {
        return kind;
    }

    /** Returns how specific the condition is among conditions of its kind: a longer suffix is more specific. */
    public int specificity() {
        return suffix == null ? 0 : suffix.specificity();
    }

    /**
     * Returns whether the attributes satisfy the condition.
     *
     * @param attributes what the detector found
     * @return whether the attribute is present and its value (or any element of it) matches
     */
    public boolean matches(ProtocolAttributes attributes) {
        Object v = attributes.get(key);
        if (v == null) {
            return false;
        }
        if (v instanceof List) {
            List<?> list = (List<?>) v;
            for (int i = 0, n = list.size(); i < n; i++) {
                Object e = list.get(i);
                if (e != null && test(e.toString())) {
                    return true;
                }
            }
            return false;
        }
        return test(v.toString());
    }

    private boolean test(String value) {
        switch (kind) {
            case EXACT:
                return exact.equals(value);
            case SUFFIX:
                return suffix.matches(value);
            default:
                return predicate.test(value);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof AttributeCondition)) {
            return false;
        }
        AttributeCondition c = (AttributeCondition) o;
        return c.name.equals(name) && c.kind == kind && Objects.equals(c.exact, exact)
                && Objects.equals(c.suffix, suffix) && c.predicate == predicate;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, kind, exact, suffix, predicate == null ? 0 : System.identityHashCode(predicate));
    }

    /** Returns {@code name=value}, {@code name=*.suffix} or {@code name~predicate}. */
    @Override
    public String toString() {
        switch (kind) {
            case EXACT:
                return name + "=" + exact;
            case SUFFIX:
                return name + "=" + suffix;
            default:
                return name + "~predicate";
        }
    }
}
