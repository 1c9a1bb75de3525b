package io.refractium.examples.launcher;

/**
 * A command line the launcher cannot use. The message names the argument, the value and what was expected, e.g.
 * {@code --peek-timeout "5x" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)}.
 */
public final class UsageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is wrong, naming the argument, the value and what was expected
     */
    public UsageException(String message) {
        super(message);
    }
}
