package io.refractium.internal.connect;

/**
 * A connect attempt failed on this side before reaching the backend: no socket could be created or registered
 * (file descriptors exhausted, say) or the address could not be resolved locally. It is not held against the
 * backend's health.
 */
public final class LocalDialException extends java.io.IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param cause the underlying error
     */
    public LocalDialException(String message, Throwable cause) {
        super(message, cause);
    }
}
