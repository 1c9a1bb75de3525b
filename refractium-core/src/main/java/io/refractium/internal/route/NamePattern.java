package io.refractium.internal.route;

import java.util.Locale;
import java.util.Objects;

/**
 * A server name to match: exact, or {@code *.suffix} for any name below the suffix (not the suffix itself).
 * Case-insensitive, a trailing dot ignored on both sides.
 */
public final class NamePattern {

    private final String text;
    /** The lower-case name, or for a wildcard the lower-case suffix with its leading dot. */
    private final String value;
    private final boolean wildcard;

    private NamePattern(String text, String value, boolean wildcard) {
        this.text = text;
        this.value = value;
        this.wildcard = wildcard;
    }

    /**
     * Parses a pattern.
     *
     * @param setting the setting's name, for the error message
     * @param pattern {@code name} or {@code *.suffix}
     * @return the pattern
     */
    public static NamePattern parse(String setting, String pattern) {
        Objects.requireNonNull(pattern, setting);
        String p = normalize(pattern.trim());
        boolean wildcard = p.startsWith("*.");
        String rest = wildcard ? p.substring(1) : p;
        if (p.isEmpty() || rest.equals(".") || rest.indexOf('*') >= 0 || rest.contains("..")
                || rest.chars().anyMatch(c -> c <= ' ' || c == '/' || c == '@')) {
            throw new IllegalArgumentException(setting + ": \"" + pattern
                    + "\" (expected: a host name such as a.example, or *.example for any name below it)");
        }
        return new NamePattern(pattern.trim(), rest, wildcard);
    }

    /**
     * Lower-cases a name and drops one trailing dot.
     *
     * @param name the name
     * @return the normalized name
     */
    public static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    /**
     * Returns whether the name matches.
     *
     * @param name a name as detected (normalized again here), or {@code null}
     * @return whether it matches
     */
    public boolean matches(String name) {
        if (name == null) {
            return false;
        }
        String n = normalize(name);
        if (!wildcard) {
            return n.equals(value);
        }
        return n.length() > value.length() && n.regionMatches(true, n.length() - value.length(), value, 0, value.length());
    }

    /** Returns whether this is a {@code *.suffix} pattern. */
    public boolean isWildcard() {
        return wildcard;
    }

    /** Returns how specific the pattern is: exact names beat wildcards, longer suffixes beat shorter ones. */
    public int specificity() {
        return wildcard ? value.length() : 100_000 + value.length();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamePattern && ((NamePattern) o).wildcard == wildcard && ((NamePattern) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode() * 2 + (wildcard ? 1 : 0);
    }

    @Override
    public String toString() {
        return text;
    }
}
