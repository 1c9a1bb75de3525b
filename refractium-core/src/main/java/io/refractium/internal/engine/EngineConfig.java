package io.refractium.internal.engine;

import io.netty.channel.IoEventLoopGroup;
import io.refractium.AdmissionLimits;
import io.refractium.BandwidthLimits;
import io.refractium.IoTransport;
import io.refractium.hook.Hook;
import io.refractium.internal.proxy.ProxyAcceptance;
import io.refractium.internal.udp.UdpSettings;
import io.refractium.metrics.MetricsRecorder;
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
        IoTransport transport,
        boolean splice,
        List<InetSocketAddress> dnsServers,
        Duration dnsMinTtl,
        Duration dnsMaxTtl,
        Duration quietTimeout,
        AdmissionLimits admission,
        HookSettings hookSettings,
        ProxyAcceptance.Listeners proxyProtocol,
        MetricsRecorder metrics,
        BandwidthLimits bandwidth,
        UdpSettings udp) {

    // ---- metrics: the recorder (MetricsRecorder.none() by default) and the settings without one
    /** Checks the recorder. */
    public EngineConfig {
        java.util.Objects.requireNonNull(metrics, "metrics");
        java.util.Objects.requireNonNull(bandwidth, "bandwidth");
        java.util.Objects.requireNonNull(udp, "udp");
    }

    /** Returns whether a recorder other than {@link MetricsRecorder#none()} is set. */
    public boolean hasMetrics() {
        return metrics != MetricsRecorder.none();
    }

    /** The settings without a metrics recorder ({@link MetricsRecorder#none()}) and without bandwidth caps. */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        IoTransport transport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout, AdmissionLimits admission,
                        HookSettings hookSettings, ProxyAcceptance.Listeners proxyProtocol) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, transport, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, admission,
                hookSettings, proxyProtocol, MetricsRecorder.none(), BandwidthLimits.none(), UdpSettings.NONE);
    }
    // ---- end metrics

    /** The settings without UDP listeners, for tests that build a config by hand. */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        IoTransport transport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout, AdmissionLimits admission,
                        HookSettings hookSettings, ProxyAcceptance.Listeners proxyProtocol, MetricsRecorder metrics) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, transport, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, admission,
                hookSettings, proxyProtocol, metrics, BandwidthLimits.none(), UdpSettings.NONE);
    }

    /** The settings without UDP listeners, with a metrics recorder and bandwidth caps. */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        IoTransport transport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout, AdmissionLimits admission,
                        HookSettings hookSettings, ProxyAcceptance.Listeners proxyProtocol, MetricsRecorder metrics,
                        BandwidthLimits bandwidth) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, transport, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, admission,
                hookSettings, proxyProtocol, metrics, bandwidth, UdpSettings.NONE);
    }

    /** The default of the drain timeout (see {@code RefractiumBuilder.drainTimeout}). */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    /** The defaults of the DNS settings, for tests that build a config by hand. */
    public static final Duration DEFAULT_DNS_MIN_TTL = Duration.ofSeconds(1);
    /** The default longest time a DNS answer is kept. */
    public static final Duration DEFAULT_DNS_MAX_TTL = Duration.ofMinutes(5);
    /** The default quiet timeout of detection (see {@code RefractiumBuilder.quietTimeout}). */
    public static final Duration DEFAULT_QUIET_TIMEOUT = Duration.ofMillis(100);

    /** The settings with the default {@link #hookSettings()}, as before hook factories existed. */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        boolean nativeTransport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout, AdmissionLimits admission) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, nativeTransport ? IoTransport.NATIVE : IoTransport.NIO, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, admission,
                HookSettings.DEFAULT, ProxyAcceptance.Listeners.NONE);
    }

    /**
     * The settings with the default {@link #drainTimeout()} and {@link #quietTimeout()}, for tests that build a
     * config by hand.
     */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration shutdownGracePeriod, ProtocolRegistry protocols, List<Hook> hooks,
                        IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        boolean nativeTransport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, DEFAULT_DRAIN_TIMEOUT, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, nativeTransport ? IoTransport.NATIVE : IoTransport.NIO, splice, dnsServers, dnsMinTtl, dnsMaxTtl, DEFAULT_QUIET_TIMEOUT,
                AdmissionLimits.none(), HookSettings.DEFAULT, ProxyAcceptance.Listeners.NONE);
    }

    /**
     * The settings without admission limits ({@link AdmissionLimits#none()}) and with the default
     * {@link #hookSettings()}, for tests that build a config by hand.
     */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        boolean nativeTransport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, nativeTransport ? IoTransport.NATIVE : IoTransport.NIO, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout,
                AdmissionLimits.none(), HookSettings.DEFAULT, ProxyAcceptance.Listeners.NONE);
    }

    /** The settings with no PROXY protocol listener, for tests that build a config by hand. */
    public EngineConfig(List<InetSocketAddress> listenAddresses, int maxPeekBytes, long maxPeekMemoryBytes,
                        Duration peekTimeout, Duration silenceTimeout, Duration connectTimeout, Duration idleTimeout,
                        Duration drainTimeout, Duration shutdownGracePeriod, ProtocolRegistry protocols,
                        List<Hook> hooks, IoEventLoopGroup bossGroup, IoEventLoopGroup workerGroup, int workerThreads,
                        boolean nativeTransport, boolean splice, List<InetSocketAddress> dnsServers,
                        Duration dnsMinTtl, Duration dnsMaxTtl, Duration quietTimeout, AdmissionLimits admission,
                        HookSettings hookSettings) {
        this(listenAddresses, maxPeekBytes, maxPeekMemoryBytes, peekTimeout, silenceTimeout, connectTimeout,
                idleTimeout, drainTimeout, shutdownGracePeriod, protocols, hooks, bossGroup, workerGroup,
                workerThreads, nativeTransport ? IoTransport.NATIVE : IoTransport.NIO, splice, dnsServers, dnsMinTtl, dnsMaxTtl, quietTimeout, admission,
                hookSettings, ProxyAcceptance.Listeners.NONE);
    }
}
