package io.refractium.internal.engine;

import io.netty.channel.Channel;
import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionFailure;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * One client connection's state from accept to close. Mutated only on the connection's event loop; the hook view
 * ({@link ConnectionInfo}) is read there too.
 */
final class ConnectionState implements ConnectionInfo {

    final long id;
    final Channel client;
    final Engine engine;
    final RoutingSnapshot snapshot;
    final CountingRecvByteBufAllocator clientCounter;
    private final InetSocketAddress clientAddress;
    private final InetSocketAddress localAddress;
    private final Instant acceptedAt = Instant.now();
    final long acceptedNanos = System.nanoTime();

    String protocol;
    ProtocolAttributes attributes = ProtocolAttributes.EMPTY;
    Route route;
    DetectionFailure detectionFailure;
    ForwardTarget target;

    Channel backend;
    CountingRecvByteBufAllocator backendCounter;
    InetSocketAddress backendAddress;
    boolean backendConnected;

    private CloseReason reason;
    private boolean finished;

    ConnectionState(long id, Channel client, Engine engine, RoutingSnapshot snapshot,
                    CountingRecvByteBufAllocator clientCounter) {
        this.id = id;
        this.client = client;
        this.engine = engine;
        this.snapshot = snapshot;
        this.clientCounter = clientCounter;
        this.clientAddress = (InetSocketAddress) client.remoteAddress();
        this.localAddress = (InetSocketAddress) client.localAddress();
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public Instant acceptedAt() {
        return acceptedAt;
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public ProtocolAttributes attributes() {
        return attributes;
    }

    @Override
    public Route route() {
        return route;
    }

    @Override
    public DetectionFailure detectionFailure() {
        return detectionFailure;
    }

    @Override
    public ForwardTarget target() {
        return target;
    }

    /** Records why the connection ends, if no reason was recorded yet. */
    void reason(CloseReason r) {
        if (reason == null) {
            reason = r;
        }
    }

    /** Records the reason (first one wins) and closes both sides at once. */
    void close(CloseReason r) {
        reason(r);
        client.close();
        Channel b = backend;
        if (b != null) {
            b.close();
        }
    }

    /** Called whenever one of the connection's channels closes; reports the end once both are closed. */
    void channelClosed() {
        if (finished || client.isOpen() || (backend != null && backend.isOpen())) {
            return;
        }
        finished = true;
        reason(CloseReason.COMPLETED);
        ConnectionSummary summary = new ConnectionSummary(clientCounter.bytesRead(),
                backendCounter == null ? 0 : backendCounter.bytesRead(),
                Duration.ofNanos(System.nanoTime() - acceptedNanos), reason,
                backendConnected ? backendAddress : null);
        engine.connectionFinished(this, summary);
    }

    @Override
    public String toString() {
        return "#" + id + " " + clientAddress;
    }
}
