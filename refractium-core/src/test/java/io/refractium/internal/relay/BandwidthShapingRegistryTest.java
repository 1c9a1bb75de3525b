package io.refractium.internal.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.traffic.ChannelTrafficShapingHandler;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.refractium.BandwidthLimits;
import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.hook.ConnectionSummary;
import io.refractium.internal.engine.ConnectionState;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BandwidthShaping} on {@code EmbeddedChannel}s: which handlers go into which pipeline, which connections share
 * a per-key shaper, and that shapers and traffic counters are given back when the channels close.
 */
class BandwidthShapingRegistryTest {

    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);
    private static final InetSocketAddress BACKEND = new InetSocketAddress("127.0.0.1", 8080);
    private static final ForwardTarget TARGET = ForwardTarget.of("web", "127.0.0.1:8080");

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    private ConnectionState connect(BandwidthShaping shaping, String clientIp, Route route, ForwardTarget target,
                                    boolean[] shaped) {
        EmbeddedChannel client = new EmbeddedChannel();
        EmbeddedChannel backend = new EmbeddedChannel();
        channels.add(client);
        channels.add(backend);
        ConnectionState conn = new ConnectionState(channels.size(), client, new InetSocketAddress(clientIp, 40000),
                LOCAL, null, new CountingRecvByteBufAllocator(), new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary summary) {
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        conn.attempt(backend, new CountingRecvByteBufAllocator(), BACKEND);
        conn.route(route);
        conn.target(target);
        shaped[0] = shaping.install(conn);
        return conn;
    }

    private ConnectionState connect(BandwidthShaping shaping, String clientIp) {
        return connect(shaping, clientIp, null, TARGET, new boolean[1]);
    }

    private static void close(ConnectionState conn) {
        conn.client().close();
        conn.backend().close();
    }

    @Test
    void noCapNoHandler() {
        boolean[] shaped = new boolean[1];
        ConnectionState c = connect(BandwidthShaping.NONE, "192.0.2.1", null, TARGET, shaped);
        assertThat(shaped[0]).isFalse();
        assertThat(BandwidthShaping.isShaped(c.client(), c.backend())).isFalse();
        // A cap that does not apply to this connection adds nothing either.
        BandwidthShaping other = new BandwidthShaping(BandwidthLimits.builder().perTarget("other", 65536, 0)
                .perRoute(65536, 65536).build(), 64);
        c = connect(other, "192.0.2.1", null, TARGET, shaped);
        assertThat(shaped[0]).isFalse();
        assertThat(c.client().pipeline().names()).noneMatch(n -> n.startsWith("shape-"));
    }

    @Test
    void uploadIsShapedOnTheBackendAndDownloadOnTheClient() {
        BandwidthShaping shaping = new BandwidthShaping(BandwidthLimits.builder().perConnection(65536, 0)
                .perIp(0, 131072).build(), 64);
        boolean[] shaped = new boolean[1];
        ConnectionState c = connect(shaping, "192.0.2.1", null, TARGET, shaped);
        assertThat(shaped[0]).isTrue();
        assertThat(BandwidthShaping.isShaped(c.client(), c.backend())).isTrue();
        ChannelTrafficShapingHandler perConnection =
                (ChannelTrafficShapingHandler) c.backend().pipeline().get("shape-connection");
        assertThat(perConnection.getWriteLimit()).isEqualTo(65536);
        assertThat(perConnection.getReadLimit()).isZero();
        assertThat(perConnection.getMaxWriteSize()).isEqualTo(64 * 1024);
        GlobalTrafficShapingHandler perIp = (GlobalTrafficShapingHandler) c.client().pipeline().get("shape-ip");
        assertThat(perIp.getWriteLimit()).isEqualTo(131072);
        assertThat(c.client().pipeline().get("shape-connection")).isNull();
        assertThat(c.backend().pipeline().get("shape-ip")).isNull();
        assertThat(shaping.sharedShapers()).isEqualTo(1);
        assertThat(shaping.runningCounters()).isEqualTo(2);
        close(c);
        assertThat(shaping.sharedShapers()).isZero();
        assertThat(shaping.runningCounters()).isZero();
    }

    @Test
    void connectionsOfOneAddressShareItsShaperUntilTheLastCloses() {
        BandwidthShaping shaping = new BandwidthShaping(BandwidthLimits.builder().perIp(65536, 65536).build(), 64);
        ConnectionState a = connect(shaping, "192.0.2.1");
        ConnectionState b = connect(shaping, "192.0.2.1");
        ConnectionState other = connect(shaping, "192.0.2.2");
        // IPv6: one /64 is one client; another /64 is another.
        ConnectionState v6a = connect(shaping, "2001:db8:0:1::1");
        ConnectionState v6b = connect(shaping, "2001:db8:0:1::2");
        ConnectionState v6other = connect(shaping, "2001:db8:0:2::1");
        assertThat(a.client().pipeline().get("shape-ip")).isSameAs(b.client().pipeline().get("shape-ip"))
                .isNotSameAs(other.client().pipeline().get("shape-ip"));
        assertThat(a.backend().pipeline().get("shape-ip")).isSameAs(b.backend().pipeline().get("shape-ip"))
                .isNotSameAs(a.client().pipeline().get("shape-ip"));
        assertThat(v6a.client().pipeline().get("shape-ip")).isSameAs(v6b.client().pipeline().get("shape-ip"))
                .isNotSameAs(v6other.client().pipeline().get("shape-ip"));
        // Two directions for each of four clients.
        assertThat(shaping.sharedShapers()).isEqualTo(8);
        assertThat(shaping.runningCounters()).isEqualTo(8);
        close(a);
        assertThat(shaping.sharedShapers()).isEqualTo(8);
        close(b);
        assertThat(shaping.sharedShapers()).isEqualTo(6);
        close(other);
        close(v6a);
        close(v6b);
        close(v6other);
        assertThat(shaping.sharedShapers()).isZero();
        assertThat(shaping.runningCounters()).isZero();

    }

    @Test
    void routesAndTargetsHaveTheirOwnShapers() {
        BandwidthShaping shaping = new BandwidthShaping(BandwidthLimits.builder().perRoute(65536, 0)
                .perTarget(0, 65536).perTarget("slow", 32768, 32768).build(), 64);
        Route r1 = Route.builder("tls").sni("a.example").to(TARGET);
        Route r2 = Route.builder("tls").sni("b.example").to(TARGET);
        ForwardTarget slow = ForwardTarget.of("slow", "127.0.0.1:9");
        boolean[] shaped = new boolean[1];
        ConnectionState a = connect(shaping, "192.0.2.1", r1, TARGET, shaped);
        ConnectionState b = connect(shaping, "192.0.2.2", r1, TARGET, shaped);
        ConnectionState c = connect(shaping, "192.0.2.3", r2, slow, shaped);
        assertThat(a.backend().pipeline().get("shape-route")).isSameAs(b.backend().pipeline().get("shape-route"))
                .isNotSameAs(c.backend().pipeline().get("shape-route"));
        assertThat(a.client().pipeline().get("shape-target")).isSameAs(b.client().pipeline().get("shape-target"));
        assertThat(a.backend().pipeline().get("shape-target")).as("no upload cap for web").isNull();
        GlobalTrafficShapingHandler slowUp = (GlobalTrafficShapingHandler) c.backend().pipeline().get("shape-target");
        assertThat(slowUp.getWriteLimit()).isEqualTo(32768);
        // route r1 up, route r2 up, web down, slow up, slow down
        assertThat(shaping.sharedShapers()).isEqualTo(5);
        close(a);
        close(b);
        close(c);
        assertThat(shaping.sharedShapers()).isZero();
        assertThat(shaping.runningCounters()).isZero();
    }

    @Test
    void aFloodOfAddressesLeavesNothingBehind() {
        BandwidthShaping shaping = new BandwidthShaping(BandwidthLimits.builder().perIp(65536, 65536).build(), 64);
        for (int i = 0; i < 2000; i++) {
            ConnectionState c = connect(shaping, "10.0." + (i >> 8) + "." + (i & 0xff));
            assertThat(shaping.sharedShapers()).isEqualTo(2);
            close(c);
            ((EmbeddedChannel) c.client()).finishAndReleaseAll();
            ((EmbeddedChannel) c.backend()).finishAndReleaseAll();
        }
        channels.clear();
        assertThat(shaping.sharedShapers()).isZero();
        assertThat(shaping.runningCounters()).isZero();
    }

    /** The timer of a shared handler's traffic counter runs while a connection uses it and is cancelled after. */
    @Test
    void aSharedShapersTimerStopsWithItsLastConnection() throws InterruptedException {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
        timers.setRemoveOnCancelPolicy(true);
        // Keep the executor's one thread busy, so that no periodic task is running (and so out of the queue) while
        // the queue is counted.
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
        timers.execute(() -> {
            busy.countDown();
            try {
                hold.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(busy.await(5, TimeUnit.SECONDS)).isTrue();
        try {
            BandwidthShaping shaping = new BandwidthShaping(BandwidthLimits.builder().perIp(65536, 0)
                    .perRoute(0, 65536).build(), 64, timers);
            Route route = Route.of("tls", TARGET);
            ConnectionState a = connect(shaping, "192.0.2.1", route, TARGET, new boolean[1]);
            ConnectionState b = connect(shaping, "192.0.2.2", route, TARGET, new boolean[1]);
            // Two address shapers (upload) and one route shaper (download), one timer each.
            assertThat(timers.getQueue()).hasSize(3);
            close(a);
            assertThat(timers.getQueue()).as("the route shaper is still in use").hasSize(2);
            close(b);
            assertThat(timers.getQueue()).as("timers left").isEmpty();
            assertThat(shaping.runningCounters()).isZero();
        } finally {
            hold.countDown();
            timers.shutdownNow();
            assertThat(timers.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void theQueueIsAQuarterSecondBetween64KiBAnd4MiB() {
        assertThat(BandwidthShaping.maxQueuedBytes(16384)).isEqualTo(64 * 1024);
        assertThat(BandwidthShaping.maxQueuedBytes(4L << 20)).isEqualTo(1 << 20);
        assertThat(BandwidthShaping.maxQueuedBytes(1L << 40)).isEqualTo(4 << 20);
    }
}
