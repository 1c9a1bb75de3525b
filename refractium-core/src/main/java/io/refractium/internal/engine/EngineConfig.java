package io.refractium.internal.engine;

import io.netty.channel.IoEventLoopGroup;
import io.refractium.hook.Hook;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/** The validated, immutable settings of one Refractium instance, as built by {@code RefractiumBuilder}. */
public record EngineConfig(
        List<InetSocketAddress> listenAddresses,
        int maxPeekBytes,
        long maxPeekMemoryBytes,
        Duration peekTimeout,
        Duration silenceTimeout,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration drainTimeout,
        Duration shutdownGracePeriod,
        ProtocolRegistry protocols,
        List<Hook> hooks,
        IoEventLoopGroup bossGroup,
        IoEventLoopGroup workerGroup,
        int workerThreads,
        boolean nativeTransport,
        boolean splice) {
}
