package io.refractium.internal.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.Hook;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.connect.Dialer;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.engine.ProtocolRegistry;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.testing.PrefixProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The detect stage on an {@link EmbeddedChannel}, driven by the channel's own clock: the priority wait, the
 * detection deadline, silence, the peek cap, hooks refusing, the hand-over of the peeked bytes and the memory the
 * peek buffer holds.
 */
class DetectHandlerTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);
    private static final ForwardTarget LONG = ForwardTarget.of("long", "127.0.0.1:1001");
    private static final ForwardTarget SHORT = ForwardTarget.of("short", "127.0.0.1:1002");
    private static final ForwardTarget FALLBACK = ForwardTarget.of("fallback", "127.0.0.1:1003");
    private static final ForwardTarget SILENT = ForwardTarget.of("silent", "127.0.0.1:1004");

    private final MockTicker ticker = Ticker.newMockTicker();
    private final List<String> events = new ArrayList<>();
    private final List<Integer> dialed = new ArrayList<>();
    private final List<ChannelPromise> pendingDials = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<ConnectionSummary> finished = new ArrayList<>();
    private Admission admission = Admission.ACCEPT;
    private RouteDecision decision = RouteDecision.proceed();
    private int maxPeekBytes = 1024;
    private PeekBudget budget = new PeekBudget(1 << 20);
    private InetSocketAddress local = LOCAL;
    private final List<DetectionReport> reports = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aLowerPriorityMatchWaitsWhileAHigherPriorityDetectorNeedsMore() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPH");
        assertThat(events).containsExactly("accepted");
        assertThat(dialed).isEmpty();
        write(ch, "ABET\n");
        assertThat(events).containsExactly("accepted", "detected long 9", "route long");
        assertThat(dialed).containsExactly(LONG.backends().get(0).port());
    }

    @Test
    void atTheDeadlineTheWaitingDetectorDropsOutAndTheLowerPriorityMatchWins() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPH");
        advance(ch, Duration.ofMillis(4999));
        assertThat(dialed).isEmpty();
        advance(ch, Duration.ofMillis(1));
        assertThat(events).containsExactly("accepted", "detected short 4", "route short");
        assertThat(dialed).containsExactly(SHORT.backends().get(0).port());
    }

    @Test
    void bytesThatStayUndecidedGoToTheFallbackAtTheDeadline() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK), new PrefixProtocol("slow", "SLOWPROTOCOL"));
        write(ch, "SLOW");
        advance(ch, Duration.ofSeconds(5));
        assertThat(events).containsExactly("accepted", "failed DEADLINE 4", "route fallback");
        assertThat(dialed).containsExactly(FALLBACK.backends().get(0).port());
    }

    @Test
    void aSilentClientGoesToTheSilenceTargetAfterTheSilenceTimeout() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK).onSilence(SILENT));
        advance(ch, Duration.ofMillis(1999));
        assertThat(events).containsExactly("accepted");
        advance(ch, Duration.ofMillis(1));
        assertThat(events).containsExactly("accepted", "failed SILENCE 0", "route silent");
        assertThat(dialed).containsExactly(SILENT.backends().get(0).port());
    }

    @Test
    void withoutASilenceTargetASilentClientWaitsForTheDeadlineThenTheFallback() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        advance(ch, Duration.ofSeconds(2));
        assertThat(events).containsExactly("accepted");
        advance(ch, Duration.ofSeconds(3));
        assertThat(events).containsExactly("accepted", "failed SILENCE 0", "route fallback");
    }

    @Test
    void aClientThatSendsOneByteIsNotSilent() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK).onSilence(SILENT),
                new PrefixProtocol("slow", "SLOWPROTOCOL"));
        write(ch, "S");
        advance(ch, Duration.ofSeconds(2));
        assertThat(events).containsExactly("accepted");
        advance(ch, Duration.ofSeconds(3));
        assertThat(events).containsExactly("accepted", "failed DEADLINE 1", "route fallback");
    }

    @Test
    void reachingThePeekCapWhileADetectorNeedsMoreIsTooManyBytes() {
        maxPeekBytes = 16;
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK), new PrefixProtocol("slow", "SLOW" + "x".repeat(40)));
        write(ch, "SLOW" + "x".repeat(11));
        assertThat(events).containsExactly("accepted");
        write(ch, "x");
        assertThat(events).containsExactly("accepted", "failed TOO_MANY_BYTES 16", "route fallback");
    }

    @Test
    void theClientsFinDecidesWithTheBytesReceived() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPH");
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(events).containsExactly("accepted", "detected short 4", "route short");
    }

    @Test
    void aHookThatRefusesAtAcceptClosesTheConnectionBeforeAnyByteIsRead() {
        admission = Admission.REFUSE;
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.REFUSED);
        assertThat(dialed).isEmpty();
        assertThat(budget.held()).isZero();
    }

    @Test
    void aHookThatRefusesTheRouteClosesTheConnectionAndReleasesThePeekedBytes() {
        decision = RouteDecision.refuse("not today");
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPHABET\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.REFUSED);
        assertThat(dialed).isEmpty();
        assertThat(budget.held()).isZero();
    }

    @Test
    void aRerouteToATargetTheTableDoesNotNameIsClosed() {
        decision = RouteDecision.reroute(ForwardTarget.of("stranger", "127.0.0.1:9"));
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPHABET\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.NO_ROUTE);
        assertThat(dialed).isEmpty();
    }

    @Test
    void thePeekedBytesAreReplayedToTheBackendBeforeAnythingElse() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        write(ch, "ALPHABET\nfirst");
        write(ch, "-second");
        assertThat(pendingDials).hasSize(1);
        EmbeddedChannel backend = pendingDials.get(0).channel() instanceof EmbeddedChannel e ? e : null;
        pendingDials.get(0).setSuccess();
        assertThat(readAll(backend)).isEqualTo("ALPHABET\nfirst-second");
        write(ch, "-third");
        assertThat(readAll(backend)).isEqualTo("-third");
        assertThat(budget.held()).isZero();
    }

    @Test
    void oneByteInALargeReadBufferHoldsMemoryForOneByteNotForTheBuffer() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK), new PrefixProtocol("slow", "SLOWPROTOCOL"));
        ByteBuf big = ch.alloc().directBuffer(16 * 1024);
        big.writeByte('S');
        ch.writeInbound(big);
        assertThat(budget.held()).isPositive().isLessThanOrEqualTo(64);
        assertThat(big.refCnt()).isZero();
        ch.close();
        assertThat(budget.held()).isZero();
    }

    @Test
    void memoryHeldGrowsWithTheBytesReceivedAndReturnsToZero() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK), new PrefixProtocol("slow", "S" + "x".repeat(900)));
        write(ch, "S");
        for (int i = 0; i < 500; i++) {
            ByteBuf b = ch.alloc().directBuffer(16 * 1024);
            b.writeByte('x');
            ch.writeInbound(b);
            assertThat(budget.held()).as("after %d bytes", i + 2).isLessThanOrEqualTo(Math.max(64, 2L * (i + 2)));
        }
        ch.close();
        assertThat(budget.held()).isZero();
    }

    @Test
    void theListenersOwnSilenceRouteWinsOverTheDefaultWithItsOwnDeadline() {
        ForwardTarget greeter = ForwardTarget.of("greeter", "127.0.0.1:1005");
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK).onSilence(SILENT)
                .onSilence(LOCAL.getPort(), greeter, Duration.ofMillis(500)));
        advance(ch, Duration.ofMillis(499));
        assertThat(events).containsExactly("accepted");
        advance(ch, Duration.ofMillis(1));
        assertThat(events).containsExactly("accepted", "failed SILENCE 0", "route greeter");
        assertThat(dialed).containsExactly(1005);
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(DetectionReport.Outcome.SILENCE);
            assertThat(r.elapsed()).isEqualTo(Duration.ofMillis(500));
        });
    }

    @Test
    void aListenerWithoutASilenceRouteDoesNotWaitForSilenceAndSendsSilentClientsToTheFallbackAtTheDeadline() {
        local = new InetSocketAddress("127.0.0.1", 8443);
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK)
                .onSilence(2222, SILENT, Duration.ofMillis(500)));
        advance(ch, Duration.ofMillis(4999));
        assertThat(events).as("neither port 2222's deadline nor the instance's applies").containsExactly("accepted");
        advance(ch, Duration.ofMillis(1));
        assertThat(events).containsExactly("accepted", "failed SILENCE 0", "route fallback");
        assertThat(dialed).containsExactly(FALLBACK.backends().get(0).port());
    }

    @Test
    void aListenerWithoutASilenceRouteOrAFallbackClosesSilentClients() {
        local = new InetSocketAddress("127.0.0.1", 8443);
        EmbeddedChannel ch = connection(routes().onSilence(2222, SILENT, Duration.ofMillis(500)));
        advance(ch, Duration.ofSeconds(5));
        assertThat(events).containsExactly("accepted", "failed SILENCE 0");
        assertThat(ch.isOpen()).isFalse();
        assertThat(dialed).isEmpty();
    }

    @Test
    void hooksSeeTheDetectionReportWithEachVerdictAndTheTimeToDecision() {
        EmbeddedChannel ch = connection(routes().fallback(FALLBACK));
        advance(ch, Duration.ofMillis(30));
        write(ch, "ALPH");
        advance(ch, Duration.ofMillis(4970));
        assertThat(events).containsExactly("accepted", "detected short 4", "route short");
        DetectionReport r = reports.get(0);
        assertThat(r.protocol()).isEqualTo("short");
        assertThat(r.outcome()).isEqualTo(DetectionReport.Outcome.ROUTED);
        assertThat(r.elapsed()).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.verdicts()).containsExactly(
                new DetectionReport.DetectorVerdict("long", DetectionReport.Verdict.DROPPED_AT_DEADLINE, 4),
                new DetectionReport.DetectorVerdict("short", DetectionReport.Verdict.MATCH, 4));
    }

    @Test
    void aDetectedProtocolWithoutARouteIsReportedAsNoRoute() {
        EmbeddedChannel ch = connection(RoutingTable.builder().route("long", LONG).fallback(FALLBACK));
        write(ch, "ALX");
        assertThat(events).containsExactly("accepted", "detected short 3", "route fallback");
        assertThat(reports.get(0).outcome()).isEqualTo(DetectionReport.Outcome.NO_ROUTE);
        assertThat(reports.get(0).isFallback()).isTrue();
        assertThat(reports.get(0).verdict("long").verdict()).isEqualTo(DetectionReport.Verdict.NO_MATCH);
    }

    // ---------------------------------------------------------------- fixture

    private static RoutingTable.Builder routes() {
        return RoutingTable.builder().route("long", LONG).route("short", SHORT);
    }

    private EmbeddedChannel connection(RoutingTable.Builder table, RefractiumProtocol... protocols) {
        List<RefractiumProtocol> list = protocols.length > 0 ? List.of(protocols)
                : List.of(new PrefixProtocol("long", "ALPHABET", 10, false), new PrefixProtocol("short", "AL", 0, false));
        RoutingTable routes = table.build();
        Map<ForwardTarget, TargetRuntime> runtimes = new HashMap<>();
        for (ForwardTarget t : routes.targets().values()) {
            runtimes.put(t, new TargetRuntime(t, null, change -> { }));
        }
        EngineConfig config = new EngineConfig(List.of(LOCAL), maxPeekBytes, budget.limit(), Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofSeconds(10),
                ProtocolRegistry.create(list, false, null), List.of(), null, null, 1, false, false, List.of(),
                EngineConfig.DEFAULT_DNS_MIN_TTL, EngineConfig.DEFAULT_DNS_MAX_TTL);
        ConnectionPath path = new ConnectionPath(config, new HookDispatcher(List.of(new RecordingHook())), new FakeDialer(),
                budget);
        EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).build();
        channels.add(ch);
        ConnectionState conn = new ConnectionState(1, ch, CLIENT, local, new RoutingSnapshot(routes, Map.copyOf(runtimes)),
                new CountingRecvByteBufAllocator(), new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary s) {
                        finished.add(s);
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        ch.closeFuture().addListener(f -> conn.channelClosed());
        ch.pipeline().addLast(new DetectHandler(path, conn));
        return ch;
    }

    private static void write(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }

    private void advance(EmbeddedChannel ch, Duration d) {
        ticker.advance(d.toNanos(), TimeUnit.NANOSECONDS);
        ch.runScheduledPendingTasks();
    }

    private static String readAll(EmbeddedChannel backend) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = backend.readOutbound()) != null; ) {
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }

    private final class FakeDialer implements Dialer {
        @Override
        public ChannelFuture dial(EventLoop loop, InetSocketAddress address, RecvByteBufAllocator allocator,
                                  int connectTimeoutMillis) {
            dialed.add(address.getPort());
            EmbeddedChannel backend = EmbeddedChannel.builder().ticker(ticker).build();
            channels.add(backend);
            ChannelPromise p = backend.newPromise();
            pendingDials.add(p);
            return p;
        }
    }

    private final class RecordingHook implements Hook {
        @Override
        public Admission onAccepted(ConnectionInfo c) {
            events.add("accepted");
            return admission;
        }

        @Override
        public void onDetected(ConnectionInfo c, Detection d) {
            events.add("detected " + d.protocol() + " " + d.peekedBytes());
            reports.add(c.detection());
        }

        @Override
        public void onDetectionFailed(ConnectionInfo c, DetectionFailure reason, int peekedBytes) {
            events.add("failed " + reason + " " + peekedBytes);
            reports.add(c.detection());
        }

        @Override
        public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget target) {
            events.add("route " + target.name());
            return decision;
        }
    }
}
