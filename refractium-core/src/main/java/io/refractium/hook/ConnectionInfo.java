package io.refractium.hook;

import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * What is known about one client connection at the moment a {@link Hook} is called. The values that detection and
 * routing fill in are {@code null} before those steps. Read it on the hook's thread; do not keep it past the call
 * expecting it to stay the same.
 */
public interface ConnectionInfo {

    /** Returns the connection's id, unique within this process; also in every log line about the connection. */
    long id();

    /**
     * Returns the client's address: the one a trusted PROXY protocol header gave (see {@link #proxyHeader()}), else
     * the socket's peer address.
     */
    InetSocketAddress clientAddress();

    /** Returns the listening address the client connected to. */
    InetSocketAddress localAddress();

    /** Returns when the connection was accepted. */
    Instant acceptedAt();

    /** Returns the detected protocol id, or {@code null} before detection or when it failed. */
    String protocol();

    /** Returns what the detector found; empty before detection or when it failed. */
    ProtocolAttributes attributes();

    /** Returns the route that matched, or {@code null} (before routing, or for the fallback and silence targets). */
    Route route();

    /**
     * Returns why detection failed, or {@code null} while detecting and when a protocol was detected.
     */
    DetectionFailure detectionFailure();

    /**
     * Returns the target the connection was sent to (after hooks had their say), or {@code null} before routing
     * and when no target took it.
     */
    ForwardTarget target();

    /**
     * Returns how detection decided: each detector's last verdict and the bytes it had seen, the time to the
     * decision and the outcome (routed, or why the connection went to the fallback); {@code null} while detecting
     * and for a connection refused before detection. Available from {@link Hook#onDetected} and
     * {@link Hook#onDetectionFailed} on. The default returns {@code null}.
     *
     * @return the report, or {@code null}
     */
    default DetectionReport detection() {
        return null;
    }

    /**
     * Returns the PROXY protocol header the connection arrived with, or {@code null} when none came (the listener
     * takes none, or an optional one was absent). Set before {@link Hook#onAccepted}, so every hook event of the
     * connection sees it. The default returns {@code null}.
     *
     * @return the header, or {@code null}
     */
    default ProxyInfo proxyHeader() {
        return null;
    }

    /**
     * Returns the connection's value for the key, set by a hook with {@link #attr(HookAttributeKey, Object)}, or
     * {@code null}. Values live as long as the connection (the {@link Hook#onClosed} call included). Safe to call
     * from any thread. The default returns {@code null}.
     *
     * @param key the key
     * @param <T> the type of the value
     * @return the value or {@code null}
     */
    default <T> T attr(HookAttributeKey<T> key) {
        return null;
    }

    /**
     * Sets (or, with {@code null}, removes) the connection's value for the key. Safe to call from any thread,
     * such as the one that completes an asynchronous decision. The default throws
     * {@link UnsupportedOperationException}.
     *
     * @param key the key
     * @param value the value, or {@code null} to remove it
     * @param <T> the type of the value
     * @return the previous value or {@code null}
     */
    default <T> T attr(HookAttributeKey<T> key, T value) {
        throw new UnsupportedOperationException("attr");
    }
}
