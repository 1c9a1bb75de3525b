package io.refractium.internal.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionSummary;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The drain after a spliced FIN, on real epoll sockets with buffer sizes fixed so that the outcome does not depend on
 * the kernel's autotuning: the proxy's client socket has a large receive buffer (it holds most of the upload and the
 * FIN), the backend side small buffers and a backend that never reads. The relay must not read the receive queue into
 * memory faster than the backend takes it.
 */
@Timeout(60)
@EnabledOnOs(OS.LINUX)
class SpliceDrainTest {

    private static final int UPLOAD = 2 * 1024 * 1024;

    private IoEventLoopGroup group;
    private ServerSocket backend;
    private Channel listener;
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch relaying = new CountDownLatch(1);
    private final BlockingQueue<ConnectionSummary> finished = new LinkedBlockingQueue<>();

    @AfterEach
    void tearDown() throws Exception {
        release.countDown();
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (backend != null) {
            backend.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void theDrainReadsTheRestOfTheReceiveQueueNoFasterThanTheBackendTakesIt() throws Exception {
        assumeTrue(Epoll.isAvailable(), "epoll is not available");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        backend = new ServerSocket();
        backend.setReceiveBufferSize(16 * 1024);
        backend.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread stuck = new Thread(() -> {
            try (Socket s = backend.accept()) {
                release.await(30, TimeUnit.SECONDS); // never reads
            } catch (IOException | InterruptedException ignored) {
                // the test is over
            }
        }, "stuck-backend");
        stuck.setDaemon(true);
        stuck.start();

        EngineConfig config = new EngineConfig(List.of(), 1024, 1 << 20, Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(5), Duration.ZERO, Duration.ofMillis(500), Duration.ofSeconds(1), null, List.of(),
                null, null, 1, true, true, List.of(), EngineConfig.DEFAULT_DNS_MIN_TTL,
                EngineConfig.DEFAULT_DNS_MAX_TTL, EngineConfig.DEFAULT_QUIET_TIMEOUT);
        listener = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED)
                .childOption(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                ctx.pipeline().remove(this);
                                connectBackend(ch, config);
                            }
                        });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();

        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 2000);
            client.setSoTimeout(10_000);
            assertThat(relaying.await(5, TimeUnit.SECONDS)).isTrue();
            // Most of this waits in the proxy's receive queue, with the FIN behind it.
            client.getOutputStream().write(new byte[UPLOAD]);
            client.shutdownOutput();
            ConnectionSummary s = finished.poll(20, TimeUnit.SECONDS);
            assertThat(s).as("the connection ended").isNotNull();
            assertThat(s.reason()).isEqualTo(CloseReason.DRAIN_TIMEOUT);
            // The old drain read everything left (nearly all of the upload) into memory at once.
            assertThat(s.bytesFromClient()).as("bytes read from the client of %d", UPLOAD).isLessThan(UPLOAD / 2);
            assertThat(s.bytesFromClient()).as("the direction spliced").isGreaterThan(Relay.SPLICE_AFTER_READ_BYTES);
        }
    }

    private void connectBackend(SocketChannel client, EngineConfig config) {
        CountingRecvByteBufAllocator clientCounter = new CountingRecvByteBufAllocator();
        client.config().setRecvByteBufAllocator(clientCounter);
        ConnectionState conn = new ConnectionState(1, client, client.remoteAddress(), client.localAddress(), null,
                clientCounter, new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary summary) {
                        finished.add(summary);
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        client.closeFuture().addListener(f -> conn.channelClosed());
        CountingRecvByteBufAllocator backendCounter = new CountingRecvByteBufAllocator();
        InetSocketAddress address = (InetSocketAddress) backend.getLocalSocketAddress();
        new Bootstrap().group(client.eventLoop()).channel(EpollSocketChannel.class)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED)
                .option(ChannelOption.SO_SNDBUF, 16 * 1024)
                .option(ChannelOption.RCVBUF_ALLOCATOR, backendCounter)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(address).addListener(f -> {
                    Channel b = ((io.netty.channel.ChannelFuture) f).channel();
                    conn.attempt(b, backendCounter, address);
                    b.closeFuture().addListener(cf -> conn.channelClosed());
                    if (!f.isSuccess()) {
                        client.close();
                        return;
                    }
                    conn.backendConnected(address);
                    Relay.start(conn, config, false);
                    relaying.countDown();
                });
    }
}
