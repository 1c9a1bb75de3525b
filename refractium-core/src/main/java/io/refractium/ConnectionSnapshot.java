package io.refractium;

import io.refractium.spi.ProtocolAttributes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One open client connection at the moment {@link Refractium#connections()} looked: who, what protocol, where it
 * goes and how much it moved. Immutable; taken on the connection's event loop, so its values are consistent.
 *
 * @param id the connection id, as in log lines ({@code [id]}) and {@link io.refractium.hook.ConnectionInfo#id()}
 * @param client the client's address (the one a trusted PROXY protocol header gave, else the socket's)
 * @param listener the local address the client connected to
 * @param protocol the detected protocol id, or {@code null} while detecting or when none matched
 * @param attributes what the detector found ({@link ProtocolAttributes#EMPTY} when nothing)
 * @param target the name of the target the connection goes to, or {@code null} before routing
 * @param backend the backend's address (the connected one, else the one being tried), or {@code null}
 * @param backendConnected whether the backend is connected (bytes flow), rather than being tried
 * @param bytesFromClient bytes read from the client so far, peeked bytes included
 * @param bytesToClient bytes read from the backend for the client so far
 * @param acceptedAt when the connection was accepted (wall clock)
 * @param age how long it has been open
 */
public record ConnectionSnapshot(long id, InetSocketAddress client, InetSocketAddress listener, String protocol,
                                 ProtocolAttributes attributes, String target, InetSocketAddress backend,
                                 boolean backendConnected, long bytesFromClient, long bytesToClient,
                                 Instant acceptedAt, Duration age) {

    /** Checks the values. */
    public ConnectionSnapshot {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(attributes, "attributes");
        Objects.requireNonNull(acceptedAt, "acceptedAt");
        Objects.requireNonNull(age, "age");
    }
}
