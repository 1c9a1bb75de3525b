package io.refractium.balance;

import java.net.InetSocketAddress;

/**
 * What a {@link LoadBalancer.Selector} knows when it chooses a backend: which backends are eligible, how loaded
 * each one is, and the connection's keys for hashing. Implemented by the engine; valid only during the
 * {@link LoadBalancer.Selector#select(SelectionContext)} call.
 */
public interface SelectionContext {

    /** Returns the number of backends, the size of the list the selector was created with. */
    int size();

    /**
     * Returns whether the backend may be chosen now: it is healthy, under its connection cap, not already tried for
     * this connection, and of the tier in use (primaries, or backups when no primary is available).
     *
     * @param index an index into the backend list
     * @return whether the backend is eligible
     */
    boolean isEligible(int index);

    /**
     * Returns the number of client connections open to the backend right now (health checks not counted).
     *
     * @param index an index into the backend list
     * @return the active connections
     */
    int activeConnections(int index);

    /** Returns the client's address, or {@code null} when unknown. */
    InetSocketAddress clientAddress();

    /** Returns the server name the client asked for (TLS SNI or HTTP Host), or {@code null} when there is none. */
    String serverName();
}
