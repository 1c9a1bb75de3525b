package io.refractium.server.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration in use as the admin endpoint shows it ({@code GET /config}): the file's text with the value of
 * every key that looks secret (a name that contains {@code password}, {@code secret}, {@code token},
 * {@code credential} or {@code private-key}) replaced by {@code <hidden>}.
 */
public final class ConfigText {

    private static final Pattern SECRET = Pattern.compile(
            "^(\\s*-?\\s*[\"']?[A-Za-z0-9_.-]*(?i:password|secret|token|credential|private[-_]?key)[A-Za-z0-9_.-]*"
                    + "[\"']?\\s*:)(\\s*)(\\S.*)$");

    private ConfigText() {
    }

    /**
     * Returns the text of a configuration file with secrets hidden, or a line saying there is none.
     *
     * @param file the file, or {@code null} when the server was configured by command-line flags
     * @return the text
     */
    public static String of(Path file) {
        if (file == null) {
            return "# configured by command-line flags, not by a file\n";
        }
        try {
            return redact(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return "# " + file + " cannot be read now: " + e.getMessage() + "\n";
        }
    }

    /** Replaces the values of secret-looking keys, line by line. */
    static String redact(String yaml) {
        StringBuilder sb = new StringBuilder(yaml.length());
        for (String line : yaml.split("\n", -1)) {
            Matcher m = SECRET.matcher(line);
            sb.append(m.matches() ? m.group(1) + m.group(2) + "<hidden>" : line).append('\n');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }
}
