package io.refractium.hook;

/**
 * Makes the {@link DataHook} of a connection, or none. Register one with {@code RefractiumBuilder.dataHook(...)}.
 */
@FunctionalInterface
public interface DataHookFactory {

    /**
     * Called once per connection, on its event loop, when its backend has connected and before any byte is passed
     * on; the connection's protocol, attributes, route and target are known. A connection for which every factory
     * returns {@code null} (and that no tap wants) keeps the {@code splice(2)} path when splicing is on. A factory that throws closes
     * the connection (reason {@link CloseReason#ERROR}).
     *
     * @param connection the connection
     * @return the connection's data hook, or {@code null} to leave its bytes alone
     */
    DataHook create(ConnectionInfo connection);
}
