package io.refractium.config;

/**
 * A configuration that cannot be used, with where the problem is: the message reads
 * {@code FILE:LINE: KEY: VALUE (expected: WHAT)}, for example
 * {@code refractium.yaml:12: targets.web.balance: "fastest" (expected one of: round-robin, weighted, ...)}.
 */
public final class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String where;
    private final String key;

    /**
     * Creates the exception.
     *
     * @param where {@code FILE:LINE}, or the flag, of the node at fault
     * @param key the dotted path of the key, such as {@code targets.web.balance}
     * @param problem the rest of the message: the value and what was expected
     */
    public ConfigException(String where, String key, String problem) {
        super(where + ": " + key + ": " + problem);
        this.where = where;
        this.key = key;
    }

    /** Returns {@code FILE:LINE}, or the flag, of the node at fault. */
    public String where() {
        return where;
    }

    /** Returns the dotted path of the key at fault. */
    public String key() {
        return key;
    }
}
