package io.refractium.server;

/**
 * Something that runs beside a started {@link Server} for its whole life, such as an admin endpoint or a metrics
 * exporter: the {@code refractium} command finds every extension on the class path through
 * {@link java.util.ServiceLoader} (list the class in {@code META-INF/services/io.refractium.server.ServerExtension}),
 * starts each once the server listens, and closes them, in reverse order, before the server drains and closes.
 * The product jar ships none.
 */
public interface ServerExtension {

    /**
     * Starts the extension beside a running server.
     *
     * @param server the running server; {@link Server#refractium()} is the instance, {@link Server#config()} the
     *        configuration in use
     * @return what stops the extension
     * @throws Exception when the extension cannot start; the server is then closed and the command fails
     */
    AutoCloseable start(Server server) throws Exception;
}
