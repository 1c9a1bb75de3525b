package io.refractium.balance;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
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

    /**
     * Returns the detected protocol id, or {@code null} when none was detected (the fallback and silence targets).
     * The default returns {@code null}.
     */
    default String protocol() {
        return null;
    }

    /**
     * Returns every attribute the protocol's detector reported for the connection (SNI, ALPN, Host, or any a
     * custom detector defines, such as {@code mqtt.clientid}); empty when none was detected. A connection that
     * arrived with a PROXY protocol v2 header also has {@link AttributeKey#PROXY_AUTHORITY} and
     * {@link AttributeKey#PROXY_ALPN} when the header carries them. The default returns
     * {@link ProtocolAttributes#EMPTY}.
     */
    default ProtocolAttributes attributes() {
        return ProtocolAttributes.EMPTY;
    }

    /**
     * Returns the value of one attribute by name, or {@code null} when the detector did not report it. Builds a key
     * per call: a selector called for every connection should hold an {@link AttributeKey} and use
     * {@code attributes().get(key)}.
     *
     * @param name the attribute's name, e.g. {@code mqtt.clientid}
     * @return the value (a {@code String}, or a {@code List} for a list-valued attribute), or {@code null}
     */
    default Object attribute(String name) {
        return attributes().get(AttributeKey.of(name, Object.class));
    }
}
