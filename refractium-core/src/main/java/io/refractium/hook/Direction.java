package io.refractium.hook;

/** Which way bytes move through a connection. */
public enum Direction {
    /** Bytes the client sent, on their way to the backend. */
    CLIENT_TO_BACKEND,
    /** Bytes the backend sent, on their way to the client. */
    BACKEND_TO_CLIENT;

    /** Returns the other direction. */
    public Direction reverse() {
        return this == CLIENT_TO_BACKEND ? BACKEND_TO_CLIENT : CLIENT_TO_BACKEND;
    }
}
