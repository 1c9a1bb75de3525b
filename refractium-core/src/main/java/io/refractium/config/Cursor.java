package io.refractium.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A node and the dotted path that leads to it, with typed readers that fail naming both. */
final class Cursor {

    static final String DURATION_FORMS = "a duration such as 500ms, 2s, 1m, 1h or PT2S";
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");

    final ConfigNode node;
    final String path;

    Cursor(ConfigNode node, String path) {
        this.node = node;
        this.path = path;
    }

    ConfigException fail(String problem) {
        return new ConfigException(node.where(), path, problem);
    }

    /** Fails with the value as written and what was expected. */
    ConfigException expected(String what) {
        return fail(shown() + " (expected: " + what + ")");
    }

    String shown() {
        switch (node.kind()) {
            case MAP:
                return "a map";
            case LIST:
                return "a list";
            default:
                return node.value() == null ? "empty" : "\"" + node.value() + "\"";
        }
    }

    /** Checks that this is a map whose keys are all allowed. */
    Cursor map(Set<String> allowed) {
        if (node.kind() != ConfigNode.Kind.MAP) {
            throw expected("a map with keys " + sorted(allowed));
        }
        for (String key : node.entries().keySet()) {
            if (!allowed.contains(key)) {
                ConfigNode n = node.get(key);
                throw new ConfigException(n.where(), child(path, key), "unknown key (expected one of: "
                        + sorted(allowed) + ")");
            }
        }
        return this;
    }

    private static String sorted(Set<String> keys) {
        List<String> list = new ArrayList<>(keys);
        list.sort(null);
        return String.join(", ", list);
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(String key) {
        return node.get(key) != null;
    }

    /** Returns the child under the key, or {@code null}. */
    Cursor get(String key) {
        ConfigNode n = node.get(key);
        return n == null ? null : new Cursor(n, child(path, key));
    }

    /** Returns the child under the key, failing when it is missing. */
    Cursor require(String key, String what) {
        Cursor c = get(key);
        if (c == null) {
            throw new ConfigException(node.where(), child(path, key), "missing (expected: " + what + ")");
        }
        return c;
    }

    /** Returns the elements of a list; a single scalar counts as a list of one. */
    List<Cursor> list() {
        List<Cursor> out = new ArrayList<>();
        if (node.kind() == ConfigNode.Kind.LIST) {
            List<ConfigNode> elements = node.elements();
            for (int i = 0; i < elements.size(); i++) {
                out.add(new Cursor(elements.get(i), path + "[" + i + "]"));
            }
        } else if (node.kind() == ConfigNode.Kind.SCALAR && node.value() != null) {
            out.add(this);
        } else if (node.kind() == ConfigNode.Kind.MAP) {
            throw expected("a list");
        }
        return out;
    }

    boolean isScalar() {
        return node.kind() == ConfigNode.Kind.SCALAR;
    }

    String string() {
        if (node.kind() != ConfigNode.Kind.SCALAR || node.value() == null || node.value().isEmpty()) {
            throw expected("a non-empty value");
        }
        return node.value();
    }

    /** A scalar that may be empty (an empty string, for a health check's request). */
    String text() {
        if (node.kind() != ConfigNode.Kind.SCALAR) {
            throw expected("a text");
        }
        return node.value() == null ? "" : node.value();
    }

    int integer(long min, long max) {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        if (s != null && !s.isEmpty() && s.length() <= 10 && s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            long n = Long.parseLong(s);
            if (n >= min && n <= max) {
                return (int) n;
            }
        }
        throw expected("an integer " + min + "-" + max);
    }

    long longValue(long min, long max) {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        if (s != null && !s.isEmpty() && s.length() <= 18 && s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            long n = Long.parseLong(s);
            if (n >= min && n <= max) {
                return n;
            }
        }
        throw expected("an integer " + min + "-" + max);
    }

    double number(double min, double max) {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        if (s != null && s.matches("\\d{1,9}(\\.\\d{1,9})?")) {
            double d = Double.parseDouble(s);
            if (d >= min && d <= max) {
                return d;
            }
        }
        throw expected("a number " + (min == 0 ? "above 0" : ">= " + min) + " and <= " + (long) max);
    }

    boolean bool() {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        if ("true".equals(s)) {
            return true;
        }
        if ("false".equals(s)) {
            return false;
        }
        throw expected("true or false");
    }

    /** A duration; zero only when {@code zeroAllowed}. */
    Duration duration(boolean zeroAllowed) {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        Duration d = s == null ? null : parseDuration(s);
        if (d == null || d.isNegative() || (d.isZero() && !zeroAllowed)) {
            throw expected((zeroAllowed ? "0 or " : "more than zero, ") + DURATION_FORMS);
        }
        return d;
    }

    /** One of the given lower-case words. */
    String oneOf(String... words) {
        String s = node.kind() == ConfigNode.Kind.SCALAR ? node.value() : null;
        for (String w : words) {
            if (w.equals(s)) {
                return w;
            }
        }
        throw expected("one of " + String.join(", ", words));
    }

    /**
     * Parses {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h}, ISO-8601 ({@code PT2S}) or {@code 0}.
     *
     * @return the duration, or {@code null} when the text is none of these
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
        if (text.toUpperCase(Locale.ROOT).startsWith("PT") || text.toUpperCase(Locale.ROOT).startsWith("P")) {
            try {
                return Duration.parse(text);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }
}
