package io.refractium.internal.relay;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionSummary;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay on {@code EmbeddedChannel}s with one clock: half-close, backpressure, the drain timeout, resets, and the
 * per-connection resources (timers, the end reported once). The backend can be "blocked": what is flushed to it stays
 * queued, as when its socket's send buffer is full.
 */
class RelayTest {

    private static final InetSocketAddress CLIENT = new InetSocketAddress("192.0.2.1", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);
    private static final InetSocketAddress BACKEND = new InetSocketAddress("127.0.0.1", 8080);
    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final Duration IDLE = Duration.ofSeconds(60);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final List<ConnectionSummary> finished = new ArrayList<>();
    private TestChannel client;
    private TestChannel backend;

    @AfterEach
    void tearDown() {
        for (TestChannel ch : new TestChannel[] {client, backend}) {
            if (ch != null) {
                ch.blocked = false;
                ch.finishAndReleaseAll();
            }
        }
    }

    /** Starts a relay between two fresh channels, as the connect stage does once the backend is connected. */
    private void start(Duration idle) {
        client = new TestChannel(ticker);
        backend = new TestChannel(ticker);
        CountingRecvByteBufAllocator clientCounter = new CountingRecvByteBufAllocator();
        CountingRecvByteBufAllocator backendCounter = new CountingRecvByteBufAllocator();
        ConnectionState conn = new ConnectionState(1, client, CLIENT, LOCAL, null, clientCounter,
                new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary summary) {
                        finished.add(summary);
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        conn.attempt(backend, backendCounter, BACKEND);
        conn.backendConnected(BACKEND);
        client.closeFuture().addListener(f -> conn.channelClosed());
        backend.closeFuture().addListener(f -> conn.channelClosed());
        client.config().setAutoRead(false);
        EngineConfig config = new EngineConfig(List.of(LOCAL), 1024, 1 << 20, Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofSeconds(5), idle, DRAIN, Duration.ofSeconds(1), null, List.of(),
                null, null, 1, false, true, List.of(), EngineConfig.DEFAULT_DNS_MIN_TTL,
                EngineConfig.DEFAULT_DNS_MAX_TTL, EngineConfig.DEFAULT_QUIET_TIMEOUT);
        Relay.start(conn, config, false);
    }

    private static ByteBuf bytes(int n) {
        return Unpooled.wrappedBuffer(new byte[n]);
    }

    private static String readAscii(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (;;) {
            ByteBuf b = ch.readOutbound();
            if (b == null) {
                return sb.toString();
            }
            sb.append(b.toString(US_ASCII));
            b.release();
        }
    }

    private static long drainOutbound(EmbeddedChannel ch) {
        long n = 0;
        for (;;) {
            ByteBuf b = ch.readOutbound();
            if (b == null) {
                return n;
            }
            n += b.readableBytes();
            b.release();
        }
    }

    /** Lets the clock run for {@code d} in small steps, running the timers due on the way. */
    private void elapse(Duration d) {
        long step = TimeUnit.MILLISECONDS.toNanos(100);
        for (long t = 0; t < d.toNanos(); t += step) {
            ticker.advance(step, TimeUnit.NANOSECONDS);
            client.runScheduledPendingTasks();
            backend.runScheduledPendingTasks();
        }
    }

    @Test
    void aFinIsPassedOnAfterTheBytesBeforeItAndTheOtherDirectionKeepsGoing() {
        start(Duration.ZERO);
        client.writeInbound(Unpooled.copiedBuffer("request", US_ASCII));
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(readAscii(backend)).isEqualTo("request");
        assertThat(backend.outputShutdown).as("FIN passed on to the backend").isTrue();
        assertThat(client.isOpen()).isTrue();

        backend.writeInbound(Unpooled.copiedBuffer("response", US_ASCII));
        assertThat(readAscii(client)).isEqualTo("response");
        assertThat(client.outputShutdown).isFalse();

        backend.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        client.runPendingTasks();
        backend.runPendingTasks();
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(finished).hasSize(1);
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.COMPLETED);
    }

    @Test
    void aFinWaitsForTheBytesQueuedBeforeIt() {
        start(Duration.ZERO);
        backend.blocked = true;
        client.writeInbound(bytes(100 * 1024));
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(backend.outputShutdown).as("no FIN while bytes before it are queued").isFalse();

        backend.unblock();
        assertThat(drainOutbound(backend)).isEqualTo(100 * 1024);
        assertThat(backend.outputShutdown).isTrue();
    }

    @Test
    void aSideStopsReadingWhileItsPeerIsNotWritableAndResumesWhenItIs() {
        start(Duration.ZERO);
        assertThat(client.config().isAutoRead()).isTrue();
        backend.blocked = true;
        client.writeInbound(bytes(100 * 1024));
        assertThat(backend.isWritable()).isFalse();
        assertThat(client.config().isAutoRead()).as("reading the client paused").isFalse();

        backend.unblock();
        assertThat(backend.isWritable()).isTrue();
        assertThat(client.config().isAutoRead()).as("reading the client resumed").isTrue();
        assertThat(drainOutbound(backend)).isEqualTo(100 * 1024);

        // The other way round.
        client.blocked = true;
        backend.writeInbound(bytes(100 * 1024));
        assertThat(backend.config().isAutoRead()).isFalse();
        client.unblock();
        assertThat(backend.config().isAutoRead()).isTrue();
        assertThat(drainOutbound(client)).isEqualTo(100 * 1024);
    }

    @Test
    void bytesQueuedAfterAFinThatDoNotMoveAreResetAfterTheDrainTimeout() {
        start(Duration.ZERO);
        backend.blocked = true;
        client.writeInbound(bytes(100 * 1024));
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        elapse(DRAIN.minusMillis(500));
        assertThat(backend.isOpen()).as("still within the drain timeout").isTrue();
        elapse(Duration.ofSeconds(1));
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(finished).hasSize(1);
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.DRAIN_TIMEOUT);
    }

    @Test
    void aHalfClosedConnectionThatKeepsMovingIsNotCutByTheDrainTimeout() {
        start(Duration.ZERO);
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        client.blocked = true; // a slow client: the response trickles out
        for (int i = 0; i < 10; i++) {
            backend.writeInbound(bytes(16 * 1024));
            elapse(Duration.ofMillis(500));
            client.unblock();
            client.blocked = true;
        }
        assertThat(client.isOpen()).isTrue();
        assertThat(backend.isOpen()).isTrue();
        assertThat(drainOutbound(client)).isEqualTo(10 * 16 * 1024);
    }

    @Test
    void aClientResetIsPassedOnAtOnceWithoutWaitingForTheQueuedBytes() {
        start(Duration.ZERO);
        backend.blocked = true;
        client.writeInbound(bytes(100 * 1024));
        client.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        client.runPendingTasks();
        backend.runPendingTasks();
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).as("the backend is reset, not flushed first").isFalse();
        assertThat(finished).hasSize(1);
        assertThat(finished.get(0).reason()).isEqualTo(CloseReason.ERROR);
    }

    @Test
    void aBackendErrorClosesTheBackendAndDeliversWhatIsQueuedForTheClientFirst() {
        start(Duration.ZERO);
        client.blocked = true;
        backend.writeInbound(Unpooled.copiedBuffer("last words", US_ASCII));
        backend.pipeline().fireExceptionCaught(new IOException("something else"));
        backend.runPendingTasks();
        assertThat(backend.isOpen()).isFalse();
        assertThat(client.isOpen()).as("flushing what is queued for the client").isTrue();
        client.unblock();
        assertThat(readAscii(client)).isEqualTo("last words");
        client.runPendingTasks();
        assertThat(client.isOpen()).isFalse();
        assertThat(finished).hasSize(1);
    }

    @Test
    void theTimersStopWhenTheConnectionEnds() {
        start(IDLE);
        assertThat(client.runScheduledPendingTasks()).as("the idle timer is scheduled").isNotEqualTo(-1);
        client.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE); // arms the drain timer
        backend.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        client.runPendingTasks();
        backend.runPendingTasks();
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(client.runScheduledPendingTasks()).as("no timer left").isEqualTo(-1);
        assertThat(finished).hasSize(1);
    }

    @Test
    void theIdleTimeoutClosesAConnectionThatMovesNothing() {
        start(IDLE);
        elapse(IDLE.plusSeconds(20));
        assertThat(client.isOpen()).isFalse();
        assertThat(backend.isOpen()).isFalse();
        assertThat(finished).extracting(ConnectionSummary::reason).containsExactly(CloseReason.IDLE_TIMEOUT);
    }

    @Test
    void resetsAreRecognisedOnBothTransports() {
        assertThat(Relay.isReset(new IOException("Connection reset"))).isTrue();
        assertThat(Relay.isReset(new IOException("Connection reset by peer"))).isTrue();
        assertThat(Relay.isReset(new IOException("wrapped", new IOException("Connection reset")))).isTrue();
        assertThat(Relay.isReset(new IOException("Broken pipe"))).isFalse();
        assertThat(Relay.isReset(new IOException((String) null))).isFalse();
    }

    /**
     * An embedded channel that is a {@link DuplexChannel} (so the relay half-closes it) and that can hold what is
     * flushed to it, like a socket whose send buffer is full.
     */
    static final class TestChannel extends EmbeddedChannel implements DuplexChannel {
        boolean blocked;
        boolean outputShutdown;
        boolean inputShutdown;

        TestChannel(Ticker ticker) {
            super(EmbeddedChannel.builder().ticker(ticker));
        }

        void unblock() {
            blocked = false;
            flush();
            runPendingTasks();
        }

        @Override
        protected void doWrite(ChannelOutboundBuffer in) throws Exception {
            if (!blocked) {
                super.doWrite(in);
            }
        }

        @Override
        public boolean isInputShutdown() {
            return inputShutdown;
        }

        @Override
        public ChannelFuture shutdownInput() {
            return shutdownInput(newPromise());
        }

        @Override
        public ChannelFuture shutdownInput(ChannelPromise promise) {
            inputShutdown = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isOutputShutdown() {
            return outputShutdown;
        }

        @Override
        public ChannelFuture shutdownOutput() {
            return shutdownOutput(newPromise());
        }

        @Override
        public ChannelFuture shutdownOutput(ChannelPromise promise) {
            outputShutdown = true;
            return promise.setSuccess();
        }

        @Override
        public boolean isShutdown() {
            return inputShutdown && outputShutdown;
        }

        @Override
        public ChannelFuture shutdown() {
            return shutdown(newPromise());
        }

        @Override
        public ChannelFuture shutdown(ChannelPromise promise) {
            inputShutdown = true;
            outputShutdown = true;
            return promise.setSuccess();
        }
    }
}
