package io.refractium.server.admin;

/** The little JSON the admin endpoint writes: strings, escaped. */
final class Json {

    private Json() {
    }

    /** Returns {@code s} as a JSON string literal, or {@code null}. */
    static String string(String s) {
        return s == null ? "null" : "\"" + escape(s) + "\"";
    }

    /** Escapes {@code s} for the inside of a JSON string literal. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
