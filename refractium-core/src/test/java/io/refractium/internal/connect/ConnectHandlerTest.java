package io.refractium.internal.connect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.refractium.BackendStatus;
import io.refractium.BackendStatus.Health;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.internal.detect.PeekBudget;
import io.refractium.internal.detect.PeekBuffer;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.HookDispatcher;
import io.refractium.internal.engine.ProtocolRegistry;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import io.refractium.testing.PrefixProtocol;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connect stage on an {@link EmbeddedChannel} with a fake {@link Dialer} and the channel's own clock: retry on
 * the next backend, the attempts bound, the connect deadline (which shortens the last attempt's timeout and is then
 * not held against the backend), local errors, a client that leaves mid-attempt, and connection counts returning
 * to zero.
 */
class ConnectHandlerTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final List<Dial> dials = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<ConnectionSummary> finished = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final PeekBudget budget = new PeekBudget(1 << 20);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private TargetRuntime runtime;

    /** One call to the fake dialer: the backend port, the timeout it was given and the promise to complete. */
    private record Dial(int port, int timeoutMillis, ChannelPromise promise) {
        EmbeddedChannel channel() {
            return (EmbeddedChannel) promise.channel();
        }
    }

    @AfterEach
    void closeChannels() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        assertThat(budget.held()).isZero();
    }

    @Test
    void aRefusedAttemptIsClosedCountedAndTheNextBackendIsTried() {
        EmbeddedChannel client = connection(target(3).ejectAfter(5).build());
        assertThat(dials).extracting(Dial::port).containsExactly(1001);
        dials.get(0).promise().setFailure(new ConnectException("Connection refused"));
        assertThat(dials.get(0).channel().isOpen()).as("the failed attempt's channel is closed").isFalse();
        assertThat(dials).extracting(Dial::port).containsExactly(1001, 1002);
        assertThat(failures).containsExactly("127.0.0.1:1001 Connection refused");

        dials.get(1).promise().setSuccess();
        assertThat(readAll(dials.get(1).channel())).isEqualTo("HELLO\n");
        assertThat(status(1001).connectFailures()).isEqualTo(1);
        assertThat(status(1001).activeConnections()).isZero();
        assertThat(status(1002).activeConnections()).isEqualTo(1);
        assertThat(client.isOpen()).isTrue();

        client.close();
        dials.get(1).channel().close();
        assertThat(activeTotal()).isZero();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.COMPLETED);
    }

    @Test
    void maxAttemptsBoundsTheRetries() {
        EmbeddedChannel client = connection(target(3).maxAttempts(2).ejectAfter(0).build());
        dials.get(0).promise().setFailure(new ConnectException("Connection refused"));
        dials.get(1).promise().setFailure(new ConnectException("Connection refused"));
        assertThat(dials).extracting(Dial::port).containsExactly(1001, 1002);
        assertThat(client.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.BACKEND_UNAVAILABLE);
        assertThat(activeTotal()).isZero();
    }

    @Test
    void theDeadlineShortensTheLastAttemptAndStopsFurtherOnes() {
        EmbeddedChannel client = connection(target(3).connectDeadline(Duration.ofSeconds(1)).ejectAfter(0).build());
        assertThat(dials.get(0).timeoutMillis()).as("the deadline is shorter than the connect timeout").isEqualTo(1000);
        advance(Duration.ofMillis(600));
        dials.get(0).promise().setFailure(new ConnectException("Connection refused"));
        assertThat(dials.get(1).timeoutMillis()).as("what is left of the deadline").isEqualTo(400);
        advance(Duration.ofMillis(400));
        dials.get(1).promise().setFailure(new ConnectTimeoutException("connection timed out after 400 ms"));
        assertThat(dials).as("no time left for a third attempt").hasSize(2);
        assertThat(client.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.BACKEND_UNAVAILABLE);
        assertThat(activeTotal()).isZero();
    }

    @Test
    void aTimeoutCutShortByTheDeadlineIsNotHeldAgainstTheBackend() {
        connectTimeout = Duration.ofSeconds(5);
        connection(target(2).connectDeadline(Duration.ofMillis(400)).ejectAfter(1).build());
        assertThat(dials.get(0).timeoutMillis()).isEqualTo(400);
        advance(Duration.ofMillis(400));
        dials.get(0).promise().setFailure(new ConnectTimeoutException("connection timed out after 400 ms"));
        assertThat(status(1001).connectFailures()).as("the backend was not given its full connect timeout").isZero();
        assertThat(status(1001).health()).isEqualTo(Health.UP);
    }

    @Test
    void aTimeoutOfTheFullConnectTimeoutCounts() {
        connectTimeout = Duration.ofMillis(300);
        connection(target(2).connectDeadline(Duration.ofSeconds(10)).ejectAfter(1).build());
        assertThat(dials.get(0).timeoutMillis()).isEqualTo(300);
        advance(Duration.ofMillis(300));
        dials.get(0).promise().setFailure(new ConnectTimeoutException("connection timed out after 300 ms"));
        assertThat(status(1001).connectFailures()).isEqualTo(1);
        assertThat(status(1001).health()).isEqualTo(Health.EJECTED);
        assertThat(dials).extracting(Dial::port).containsExactly(1001, 1002);
    }

    @Test
    void aLocalErrorIsNotHeldAgainstTheBackendAndTheNextOneIsTried() {
        EmbeddedChannel client = connection(target(2).ejectAfter(1).build());
        dials.get(0).promise().setFailure(new LocalDialException("no socket", new java.io.IOException("EMFILE")));
        assertThat(status(1001).connectFailures()).isZero();
        assertThat(status(1001).health()).isEqualTo(Health.UP);
        assertThat(dials).extracting(Dial::port).containsExactly(1001, 1002);
        dials.get(1).promise().setFailure(new LocalDialException("no socket", new java.io.IOException("EMFILE")));
        assertThat(status(1002).health()).isEqualTo(Health.UP);
        assertThat(client.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.BACKEND_UNAVAILABLE);
        assertThat(activeTotal()).isZero();
    }

    @Test
    void aClientThatLeavesMidAttemptClosesTheAttemptWithoutBlamingTheBackend() {
        EmbeddedChannel client = connection(target(2).ejectAfter(1).build());
        assertThat(status(1001).activeConnections()).isEqualTo(1);
        client.close();
        assertThat(dials.get(0).channel().isOpen()).isFalse();
        dials.get(0).promise().tryFailure(new java.nio.channels.ClosedChannelException());
        assertThat(dials).as("no further attempt after the client left").hasSize(1);
        assertThat(status(1001).connectFailures()).isZero();
        assertThat(activeTotal()).isZero();
        assertThat(finished).hasSize(1);
    }

    @Test
    void everyBackendDownGivesBackendUnavailableWithoutADial() {
        EmbeddedChannel client = connection(target(1).ejectAfter(1).build());
        dials.get(0).promise().setFailure(new ConnectException("Connection refused"));
        assertThat(client.isOpen()).isFalse();
        EmbeddedChannel second = connection(runtime.target());
        assertThat(dials).as("the ejected backend is not dialed").hasSize(1);
        assertThat(second.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason)
                .containsExactly(CloseReason.BACKEND_UNAVAILABLE, CloseReason.BACKEND_UNAVAILABLE);
    }

    @Test
    void waitingForTheFirstDnsAnswerIsBoundedByTheConnectTimeout() {
        connectTimeout = Duration.ofMillis(300);
        // The target's runtime is not started, so its name gets no answer: the wait must end on its own.
        EmbeddedChannel client = connection(ForwardTarget.builder("named").backend("backend.test", 80).build());
        assertThat(runtime.firstAnswers()).isNotDone();
        advance(Duration.ofMillis(299));
        assertThat(client.isOpen()).as("still waiting for the answer").isTrue();
        advance(Duration.ofMillis(1));
        assertThat(client.isOpen()).isFalse();
        assertThat(dials).isEmpty();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.BACKEND_UNAVAILABLE);
    }

    // ---------------------------------------------------------------- fixture

    private static ForwardTarget.Builder target(int backends) {
        ForwardTarget.Builder b = ForwardTarget.builder("t");
        for (int i = 1; i <= backends; i++) {
            b.backend("127.0.0.1", 1000 + i);
        }
        return b;
    }

    private BackendStatus status(int port) {
        return runtime.status().backend("127.0.0.1:" + port);
    }

    private int activeTotal() {
        return runtime.status().backends().stream().mapToInt(BackendStatus::activeConnections).sum();
    }

    private EmbeddedChannel connection(ForwardTarget target) {
        if (runtime == null || !runtime.target().equals(target)) {
            runtime = new TargetRuntime(target, null, change -> { });
        }
        RoutingTable routes = RoutingTable.builder().route("alpha", target).build();
        EngineConfig config = new EngineConfig(List.of(LOCAL), 1024, budget.limit(), Duration.ofSeconds(5),
                Duration.ofSeconds(2), connectTimeout, Duration.ofMinutes(10), Duration.ofSeconds(10),
                ProtocolRegistry.create(List.of(new PrefixProtocol("alpha", "HELLO")), false, null), List.of(), null,
                null, 1, false, false, List.of(),
                EngineConfig.DEFAULT_DNS_MIN_TTL, EngineConfig.DEFAULT_DNS_MAX_TTL);
        ConnectionPath path = new ConnectionPath(config, new HookDispatcher(List.of(new RecordingHook())),
                new FakeDialer(), budget);
        EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).build();
        channels.add(ch);
        ConnectionState conn = new ConnectionState(1, ch, CLIENT, LOCAL,
                new RoutingSnapshot(routes, Map.of(target, runtime)), new CountingRecvByteBufAllocator(),
                new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary s) {
                        finished.add(s);
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        conn.target(target);
        admit(path, conn);
        ch.closeFuture().addListener(f -> conn.channelClosed());
        PeekBuffer peeked = new PeekBuffer(budget);
        peeked.append(ch.alloc(), Unpooled.copiedBuffer("HELLO\n", StandardCharsets.US_ASCII));
        ch.pipeline().addLast(new ConnectHandler(path, conn, runtime, peeked, false));
        return ch;
    }

    /** Asks the hooks about admission, as the detect stage would, so that they hear of the connection's events. */
    private static void admit(ConnectionPath path, ConnectionState conn) {
        path.hooks().accepted(conn, new HookDispatcher.Verdicts() {
            @Override
            public void admitted(String refusal) {
                assertThat(refusal).isNull();
            }

            @Override
            public void routeDecided(io.refractium.hook.RouteDecision decision) {
            }
        });
    }

    private void advance(Duration d) {
        ticker.advance(d.toNanos(), TimeUnit.NANOSECONDS);
        for (EmbeddedChannel ch : channels) {
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
            assertThat(address.isUnresolved()).as("a literal backend is dialed without resolution").isFalse();
            EmbeddedChannel backend = EmbeddedChannel.builder().ticker(ticker).build();
            channels.add(backend);
            ChannelPromise p = backend.newPromise();
            dials.add(new Dial(address.getPort(), connectTimeoutMillis, p));
            return p;
        }
    }

    private final class RecordingHook implements Hook {
        @Override
        public void onBackendFailed(ConnectionInfo c, InetSocketAddress backend, Throwable cause) {
            failures.add(backend.getHostString() + ":" + backend.getPort() + " " + cause.getMessage());
        }
    }
}
