package io.refractium.server;

import io.refractium.config.RefractiumConfig;
import java.time.Duration;

/** Parses the command line's durations the way the configuration file does ({@link RefractiumConfig#parseDuration}). */
final class Durations {

    private Durations() {
    }

    /** Returns the duration, or {@code null} when the text is not one. */
    static Duration parse(String text) {
        return RefractiumConfig.parseDuration(text);
    }
}
