package io.refractium.internal.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.refractium.AdmissionLimits;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.Hook;
import io.refractium.hook.HookAttributeKey;
import io.refractium.hook.HookFactory;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.connect.Dialer;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.engine.HookSettings;
import io.refractium.internal.engine.ProtocolRegistry;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.testing.PrefixProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The hooks' verdict points on an {@link EmbeddedChannel}, driven by the channel's own clock: asynchronous admission
 * and route decisions (waiting, the bytes kept meanwhile, the timeout and the failure policy), per-connection hooks
 * and attributes, and the pairing of each hook's start and end events.
 */
class HookVerdictTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);
    private static final ForwardTarget LONG = ForwardTarget.of("long", "127.0.0.1:1001");
    private static final ForwardTarget SHORT = ForwardTarget.of("short", "127.0.0.1:1002");
    private static final ForwardTarget FALLBACK = ForwardTarget.of("fallback", "127.0.0.1:1003");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final List<String> events = new ArrayList<>();
    private final List<Integer> dialed = new ArrayList<>();
    private final List<ChannelPromise> pendingDials = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<ConnectionSummary> finished = new ArrayList<>();
    private final PeekBudget budget = new PeekBudget(1 << 20);
    private final List<HookFactory> factories = new ArrayList<>();
    private HookFailurePolicy policy = HookFailurePolicy.FAIL_CLOSED;

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    // ---------------------------------------------------------------- asynchronous admission

    @Test
    void aPendingAdmissionKeepsTheBytesAndDetectsNothingUntilItCompletes() {
        CompletableFuture<Admission> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", answer, null)));
        write(ch, "ALPHABET\nfirst");
        advance(Duration.ofSeconds(10)); // past the 5 s detection deadline: it is not armed yet
        assertThat(ch.isOpen()).isTrue();
        assertThat(dialed).isEmpty();
        assertThat(events).containsExactly("a accepted");
        assertThat(budget.held()).as("the kept bytes are charged to the peek budget").isPositive();
        answer.complete(Admission.ACCEPT);
        assertThat(events).containsExactly("a accepted", "a detected long 14", "a route long");
        assertThat(dialed).containsExactly(LONG.backends().get(0).port());
        EmbeddedChannel backend = (EmbeddedChannel) pendingDials.get(0).channel();
        pendingDials.get(0).setSuccess();
        assertThat(readAll(backend)).isEqualTo("ALPHABET\nfirst");
        assertThat(budget.held()).isZero();
    }

    @Test
    void theDetectionDeadlineStartsOnceThePendingAdmissionCompletes() {
        CompletableFuture<Admission> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", answer, null)));
        write(ch, "ALPH");
        advance(Duration.ofSeconds(10));
        answer.complete(Admission.ACCEPT);
        assertThat(dialed).as("ALPH still waits for the higher-priority detector").isEmpty();
        advance(Duration.ofMillis(4999));
        assertThat(dialed).isEmpty();
        advance(Duration.ofMillis(1));
        assertThat(dialed).containsExactly(SHORT.backends().get(0).port());
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void anAdmissionThatDoesNotAnswerInTimeRefusesTheConnectionWhenFailingClosed() {
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", new CompletableFuture<>(), null)));
        write(ch, "ALPHABET\n");
        advance(TIMEOUT.minusMillis(1));
        assertThat(ch.isOpen()).isTrue();
        advance(Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.REFUSED);
        assertThat(finished.get(0).detail()).contains("onAcceptedAsync").contains("TimeoutException");
        assertThat(dialed).isEmpty();
        assertThat(budget.held()).isZero();
        assertThat(events).containsExactly("a accepted", "a closed REFUSED");
    }

    @Test
    void anAdmissionThatDoesNotAnswerInTimeIsSkippedWhenFailingOpen() {
        policy = HookFailurePolicy.FAIL_OPEN;
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", new CompletableFuture<>(), null)));
        write(ch, "ALPHABET\n");
        advance(TIMEOUT);
        assertThat(ch.isOpen()).isTrue();
        assertThat(dialed).containsExactly(LONG.backends().get(0).port());
    }

    @Test
    void anAdmissionCompletedExceptionallyRefusesWithTheCauseAsDetail() {
        CompletableFuture<Admission> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", answer, null)));
        answer.completeExceptionally(new IllegalStateException("reputation service down"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(finished.get(0).detail()).contains("reputation service down");
    }

    @Test
    void anAlreadyCompletedStageIsTakenAtOnce() {
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", CompletableFuture.completedFuture(Admission.ACCEPT),
                CompletableFuture.completedFuture(RouteDecision.reroute("short")))));
        write(ch, "ALPHABET\n");
        assertThat(dialed).containsExactly(SHORT.backends().get(0).port());
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void aSynchronousHookThatThrowsAtAcceptRefusesByDefault() {
        EmbeddedChannel ch = connection(List.of(new Hook() {
            @Override
            public Admission onAccepted(ConnectionInfo c) {
                throw new IllegalStateException("broken allow-list");
            }
        }));
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(finished.get(0).detail()).contains("onAccepted").contains("broken allow-list");
    }

    // ---------------------------------------------------------------- asynchronous route decision

    @Test
    void aPendingRouteDecisionOutlivesTheDetectionDeadlineKeepsLaterBytesAndThenReroutes() {
        CompletableFuture<RouteDecision> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", null, answer)));
        write(ch, "ALPHABET\n");
        assertThat(events).containsExactly("a accepted", "a detected long 9", "a route long");
        write(ch, "more");
        advance(Duration.ofSeconds(10));
        assertThat(ch.isOpen()).isTrue();
        assertThat(dialed).isEmpty();
        assertThat(budget.held()).isPositive();
        answer.complete(RouteDecision.reroute("short"));
        assertThat(dialed).containsExactly(SHORT.backends().get(0).port());
        EmbeddedChannel backend = (EmbeddedChannel) pendingDials.get(0).channel();
        pendingDials.get(0).setSuccess();
        assertThat(readAll(backend)).isEqualTo("ALPHABET\nmore");
        assertThat(budget.held()).isZero();
    }

    @Test
    void readingPausesAtThePeekCapWhileARouteDecisionIsPending() {
        CompletableFuture<RouteDecision> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", null, answer)));
        write(ch, "ALPHABET\n");
        write(ch, "x".repeat(2000));
        assertThat(ch.config().isAutoRead()).isFalse();
        answer.complete(RouteDecision.proceed());
        assertThat(dialed).containsExactly(LONG.backends().get(0).port());
    }

    @Test
    void aRouteDecisionThatDoesNotAnswerInTimeRefusesAndReleasesTheBytes() {
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", null, new CompletableFuture<>())));
        write(ch, "ALPHABET\n");
        advance(TIMEOUT);
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(finished.get(0).detail()).contains("onRouteChosenAsync").contains("TimeoutException");
        assertThat(budget.held()).isZero();
    }

    @Test
    void anAsynchronousRefusalCarriesItsReasonToTheSummary() {
        CompletableFuture<RouteDecision> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", null, answer)));
        write(ch, "ALPHABET\n");
        answer.complete(RouteDecision.refuse("client on the deny list"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.REFUSED);
        assertThat(finished.get(0).detail()).isEqualTo("client on the deny list");
    }

    @Test
    void aClientThatLeavesStopsTheWaitAndItsTimer() {
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", new CompletableFuture<>(), null)));
        assertThat(ch.runScheduledPendingTasks()).as("the timeout is pending").isPositive();
        ch.close();
        assertThat(ch.runScheduledPendingTasks()).as("no timer left").isEqualTo(-1);
        assertThat(events).containsExactly("a accepted", "a closed DETECTION_FAILED");
    }

    @Test
    void anAnswerAfterTheClientLeftIsIgnored() {
        CompletableFuture<RouteDecision> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new AsyncHook("a", null, answer)));
        write(ch, "ALPHABET\n");
        ch.close();
        answer.complete(RouteDecision.proceed());
        assertThat(dialed).isEmpty();
        assertThat(budget.held()).isZero();
        assertThat(events).endsWith("a closed COMPLETED");
    }

    // ---------------------------------------------------------------- pairing

    @Test
    void aHookAfterTheOneThatRefusedHearsNothingAndTheOnesBeforeGetTheirEnd() {
        EmbeddedChannel ch = connection(List.of(new Recorder("a", Admission.ACCEPT), new Recorder("b", Admission.REFUSE),
                new Recorder("c", Admission.ACCEPT)));
        assertThat(ch.isOpen()).isFalse();
        assertThat(events).containsExactly("a accepted", "b accepted", "a closed REFUSED", "b closed REFUSED");
        assertThat(finished.get(0).detail()).contains("Recorder").contains("on accept");
    }

    @Test
    void aRouteRefusalStillEndsEveryStartedHook() {
        EmbeddedChannel ch = connection(List.of(new Recorder("a", Admission.ACCEPT),
                new Recorder("b", Admission.ACCEPT) {
                    @Override
                    public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
                        super.onRouteChosen(c, t);
                        return RouteDecision.refuse("b says no");
                    }
                }, new Recorder("c", Admission.ACCEPT)));
        write(ch, "ALPHABET\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(events).containsExactly("a accepted", "b accepted", "c accepted", "a detected", "b detected",
                "c detected", "a route", "b route", "a closed REFUSED", "b closed REFUSED", "c closed REFUSED");
    }

    @Test
    void aClientThatLeavesDuringAPendingAdmissionEndsOnlyTheHooksAskedSoFar() {
        CompletableFuture<Admission> answer = new CompletableFuture<>();
        EmbeddedChannel ch = connection(List.of(new Recorder("a", Admission.ACCEPT), new AsyncHook("b", answer, null),
                new Recorder("c", Admission.ACCEPT)));
        ch.close();
        answer.complete(Admission.ACCEPT);
        assertThat(events).containsExactly("a accepted", "b accepted", "a failed CLIENT_CLOSED",
                "a closed DETECTION_FAILED", "b closed DETECTION_FAILED");
    }

    // ---------------------------------------------------------------- per-connection hooks

    @Test
    void aFactoryMakesOneHookPerConnectionAfterTheSharedHooksAndItsAttributesLastTheConnection() {
        HookAttributeKey<StringBuilder> trail = HookAttributeKey.of("trail");
        List<String> closedTrails = new ArrayList<>();
        int[] created = {0};
        factories.add(c -> {
            created[0]++;
            int n = created[0];
            return new Hook() {
                @Override
                public Admission onAccepted(ConnectionInfo info) {
                    info.attr(trail).append("factory#").append(n);
                    return Admission.ACCEPT;
                }

                @Override
                public void onClosed(ConnectionInfo info, ConnectionSummary s) {
                    closedTrails.add(info.attr(trail).toString());
                }
            };
        });
        Hook shared = new Hook() {
            @Override
            public Admission onAccepted(ConnectionInfo info) {
                assertThat(info.attr(trail, new StringBuilder("shared,"))).isNull();
                return Admission.ACCEPT;
            }
        };
        connection(List.of(shared)).close();
        connection(List.of(shared)).close();
        assertThat(created[0]).isEqualTo(2);
        assertThat(closedTrails).containsExactly("shared,factory#1", "shared,factory#2");
    }

    @Test
    void aFactoryThatThrowsRefusesWhenFailingClosed() {
        factories.add(c -> {
            throw new IllegalStateException("no hook for you");
        });
        EmbeddedChannel ch = connection(List.of(new Recorder("a", Admission.ACCEPT)));
        assertThat(ch.isOpen()).isFalse();
        assertThat(events).isEmpty();
        assertThat(finished.get(0).detail()).contains("no hook for you");
    }

    // ---------------------------------------------------------------- fixture

    private EmbeddedChannel connection(List<Hook> hooks) {
        RoutingTable routes = RoutingTable.builder().route("long", LONG).route("short", SHORT).fallback(FALLBACK)
                .build();
        Map<ForwardTarget, TargetRuntime> runtimes = new HashMap<>();
        for (ForwardTarget t : routes.targets().values()) {
            runtimes.put(t, new TargetRuntime(t, null, change -> { }));
        }
        HookSettings settings = new HookSettings(factories, policy, TIMEOUT);
        EngineConfig config = new EngineConfig(List.of(LOCAL), 1024, budget.limit(), Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMinutes(10), EngineConfig.DEFAULT_DRAIN_TIMEOUT,
                Duration.ofSeconds(10), ProtocolRegistry.create(List.of(new PrefixProtocol("long", "ALPHABET", 10, false),
                        new PrefixProtocol("short", "AL", 0, false)), false, null), hooks, null, null, 1, false, false,
                List.of(), EngineConfig.DEFAULT_DNS_MIN_TTL, EngineConfig.DEFAULT_DNS_MAX_TTL,
                EngineConfig.DEFAULT_QUIET_TIMEOUT, AdmissionLimits.none(), settings);
        HookDispatcher dispatcher = new HookDispatcher(hooks, settings);
        ConnectionPath path = new ConnectionPath(config, dispatcher, new FakeDialer(), budget);
        EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).build();
        channels.add(ch);
        ConnectionState conn = new ConnectionState(channels.size(), ch, CLIENT, LOCAL,
                new RoutingSnapshot(routes, Map.copyOf(runtimes)), new CountingRecvByteBufAllocator(),
                new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary s) {
                        finished.add(s);
                        dispatcher.closed(c, s);
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

    private void advance(Duration d) {
        ticker.advance(d.toNanos(), TimeUnit.NANOSECONDS);
        for (EmbeddedChannel ch : List.copyOf(channels)) {
            ch.runScheduledPendingTasks();
        }
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

    /** Records its events; answers admission as told and proceeds on route. */
    private class Recorder implements Hook {
        final String name;
        final Admission admission;

        Recorder(String name, Admission admission) {
            this.name = name;
            this.admission = admission;
        }

        @Override
        public Admission onAccepted(ConnectionInfo c) {
            events.add(name + " accepted");
            return admission;
        }

        @Override
        public void onDetected(ConnectionInfo c, Detection d) {
            events.add(name + " detected");
        }

        @Override
        public void onDetectionFailed(ConnectionInfo c, DetectionFailure reason, int peekedBytes) {
            events.add(name + " failed " + reason);
        }

        @Override
        public RouteDecision onRouteChosen(ConnectionInfo c, ForwardTarget t) {
            events.add(name + " route");
            return RouteDecision.proceed();
        }

        @Override
        public void onClosed(ConnectionInfo c, ConnectionSummary s) {
            events.add(name + " closed " + s.reason());
        }
    }

    /** Answers with the given stages (a {@code null} stage answers at once: accept, proceed). */
    private final class AsyncHook implements Hook {
        final String name;
        final CompletionStage<Admission> admission;
        final CompletionStage<RouteDecision> route;

        AsyncHook(String name, CompletionStage<Admission> admission, CompletionStage<RouteDecision> route) {
            this.name = name;
            this.admission = admission;
            this.route = route;
        }

        @Override
        public CompletionStage<Admission> onAcceptedAsync(ConnectionInfo c) {
            events.add(name + " accepted");
            return admission != null ? admission : CompletableFuture.completedFuture(Admission.ACCEPT);
        }

        @Override
        public void onDetected(ConnectionInfo c, Detection d) {
            events.add(name + " detected " + d.protocol() + " " + d.peekedBytes());
        }

        @Override
        public CompletionStage<RouteDecision> onRouteChosenAsync(ConnectionInfo c, ForwardTarget t) {
            events.add(name + " route " + t.name());
            return route != null ? route : CompletableFuture.completedFuture(RouteDecision.proceed());
        }

        @Override
        public void onClosed(ConnectionInfo c, ConnectionSummary s) {
            events.add(name + " closed " + s.reason());
        }
    }
}
