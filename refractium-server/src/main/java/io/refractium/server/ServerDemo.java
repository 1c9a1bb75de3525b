package io.refractium.server;

/**
 * A demo that {@code refractium demo} can run, found through {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.refractium.server.ServerDemo}). The product jar ships none; the examples jar
 * ({@code refractium-examples}) ships the demo with its own backends and throwaway certificates.
 */
public interface ServerDemo {

    /**
     * Runs the demo until the JVM is asked to stop.
     *
     * @throws Exception when the demo cannot start
     */
    void run() throws Exception;
}
