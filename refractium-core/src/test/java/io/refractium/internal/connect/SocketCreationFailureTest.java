package io.refractium.internal.connect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ReflectiveChannelFactory;
import io.refractium.BackendStatus;
import io.refractium.BackendStatus.Health;
import io.refractium.ForwardTarget;
import io.refractium.RoutingTable;
import io.refractium.TargetStatus;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Hook;
import io.refractium.internal.engine.Engine;
import io.refractium.internal.engine.EngineConfig;
import io.refractium.internal.engine.ProtocolRegistry;
import io.refractium.internal.transport.BootstrapDialer;
import io.refractium.testing.Await;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Socket creation failing on this side ({@code EMFILE}), through the production {@link BootstrapDialer} with a
 * channel factory that throws as the epoll and NIO factories do when no file descriptor is left: the backends are
 * not held responsible (no connect failure counted, none ejected), every connect callback runs on the client's
 * event loop, the client is closed with a FIN, and the counts return to zero.
 */
@Timeout(30)
class SocketCreationFailureTest {

    private final AtomicBoolean noDescriptors = new AtomicBoolean(true);
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final Map<Long, Thread> acceptThreads = new ConcurrentHashMap<>();
    private TestServer a;
    private TestServer b;
    private Engine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @Test
    void noSocketForTheBackendEjectsNothingAndClosesOnlyThatClient() throws Exception {
        a = TestServer.greeter("a");
        b = TestServer.greeter("b");
        ForwardTarget target = ForwardTarget.builder("ab").backend(a.hostAndPort()).backend(b.hostAndPort())
                .ejectAfter(1).build();
        engine = start(target);

        for (int i = 0; i < 3; i++) {
            try (Socket s = connect()) {
                s.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(s.getInputStream().read()).as("closed with a FIN, not a reset").isEqualTo(-1);
            }
            assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo("failed on the client's loop: LocalDialException");
            assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo("failed on the client's loop: LocalDialException");
            assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo("closed on the client's loop: BACKEND_UNAVAILABLE");
        }
        Await.until("no connection and no backend slot", () -> engine.activeConnections() == 0
                && status().backends().stream().allMatch(s -> s.activeConnections() == 0));
        for (BackendStatus s : status().backends()) {
            assertThat(s.health()).as(s.backend().hostAndPort()).isEqualTo(Health.UP);
            assertThat(s.connectFailures()).as(s.backend().hostAndPort()).isZero();
        }

        // Descriptors are back: the backends take traffic at once, none was ejected.
        noDescriptors.set(false);
        try (Socket s = connect()) {
            s.getOutputStream().write("ALPHA\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(TestServer.readLine(s.getInputStream())).isIn("a", "b");
        }
        assertThat(engine.isRunning()).isTrue();
    }

    private TargetStatus status() {
        return engine.targets().get(0);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(engine.localAddresses().get(0), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    private Engine start(ForwardTarget target) {
        Hook hook = new Hook() {
            @Override
            public io.refractium.hook.Admission onAccepted(ConnectionInfo c) {
                acceptThreads.put(c.id(), Thread.currentThread());
                return io.refractium.hook.Admission.ACCEPT;
            }

            @Override
            public void onBackendFailed(ConnectionInfo c, InetSocketAddress backend, Throwable cause) {
                events.add("failed " + where(c) + ": " + cause.getClass().getSimpleName());
            }

            @Override
            public void onClosed(ConnectionInfo c, ConnectionSummary s) {
                events.add("closed " + where(c) + ": " + s.reason());
            }

            private String where(ConnectionInfo c) {
                return acceptThreads.get(c.id()) == Thread.currentThread() ? "on the client's loop" : "on "
                        + Thread.currentThread().getName();
            }
        };
        EngineConfig config = new EngineConfig(List.of(new InetSocketAddress("127.0.0.1", 0)), 1024, 1 << 20,
                Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMinutes(10),
                Duration.ZERO, ProtocolRegistry.create(List.of(new PrefixProtocol("alpha", "ALPHA")), false, null),
                List.of(hook), null, null, 2, true, true, List.of(),
                EngineConfig.DEFAULT_DNS_MIN_TTL, EngineConfig.DEFAULT_DNS_MAX_TTL);
        Engine e = new Engine(config, RoutingTable.builder().route("alpha", target).build(), transports -> {
            ChannelFactory<? extends Channel> real = new ReflectiveChannelFactory<>(transports.socketChannel());
            return new BootstrapDialer(transports, Engine.WATER_MARK, () -> {
                if (noDescriptors.get()) {
                    throw new ChannelException("newSocketStream(..) failed: Too many open files");
                }
                return real.newChannel();
            });
        });
        e.start();
        return e;
    }
}
