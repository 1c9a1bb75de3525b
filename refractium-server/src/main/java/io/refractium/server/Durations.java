package io.refractium.server;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the command line's durations: {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h}, ISO-8601 or {@code 0}. */
final class Durations {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)");

    private Durations() {
    }

    /** Returns the duration, or {@code null} when the text is not one. */
    static Duration parse(String text) {
        if (text == null) {
            return null;
        }
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
        try {
            Duration d = Duration.parse(text);
            return d.isNegative() ? null : d;
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }
}
