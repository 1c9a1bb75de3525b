package io.refractium.protocols.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.netty.util.ReferenceCountUtil;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.Route;
import io.refractium.protocols.quic.QuicDetector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * QUIC through a Refractium UDP listener: a Netty QUIC client's flow is routed by the SNI of its Initial packets to
 * one of two Netty QUIC servers, and the handshake and a stream complete end to end through the proxy.
 */
@Timeout(60)
class QuicEndToEndTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private Refractium refractium;

    @BeforeEach
    void setUp() {
        assumeTrue(Quic.isAvailable(), () -> "QUIC native library: " + Quic.unavailabilityCause());
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (refractium != null) {
            refractium.close();
        }
        for (Channel c : channels) {
            c.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aQuicClientIsRoutedBySniToTheRightServer() throws Exception {
        X509Bundle certificate = new CertificateBuilder()
                .subject("CN=a.quic.test")
                .addSanDnsName("a.quic.test")
                .addSanDnsName("b.quic.test")
                .ecp256()
                .setIsCertificateAuthority(true)
                .buildSelfSigned();
        InetSocketAddress a = server("server-a", certificate);
        InetSocketAddress b = server("server-b", certificate);
        refractium = Refractium.builder()
                .listenUdp("127.0.0.1", 0)
                .shutdownGracePeriod(Duration.ZERO)
                .protocol(new QuicDetector())
                .route(Route.builder(QuicDetector.ID).sni("a.quic.test").alpn("e2e")
                        .to(ForwardTarget.of("a", "127.0.0.1:" + a.getPort())))
                .route(Route.builder(QuicDetector.ID).sni("*.quic.test")
                        .to(ForwardTarget.of("b", "127.0.0.1:" + b.getPort())))
                .build().start();
        InetSocketAddress proxy = refractium.udpLocalAddresses().get(0);
        assertThat(exchange(proxy, "a.quic.test", certificate)).isEqualTo("server-a");
        assertThat(exchange(proxy, "b.quic.test", certificate)).isEqualTo("server-b");
        assertThat(exchange(proxy, "a.quic.test", certificate)).isEqualTo("server-a");
    }

    /** Starts a QUIC server that answers each stream's first bytes with its name and closes the stream. */
    private InetSocketAddress server(String name, X509Bundle certificate) throws Exception {
        QuicSslContext ssl = QuicSslContextBuilder.forServer(certificate.getKeyPair().getPrivate(), null,
                certificate.getCertificatePath()).applicationProtocols("e2e").build();
        ChannelHandler codec = new QuicServerCodecBuilder()
                .sslContext(ssl)
                .maxIdleTimeout(10, TimeUnit.SECONDS)
                .initialMaxData(1 << 20)
                .initialMaxStreamDataBidirectionalRemote(1 << 20)
                .initialMaxStreamsBidirectional(10)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new Accept())
                .streamHandler(new Answer(name))
                .build();
        Channel channel = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                .bind(LOOPBACK, 0).sync().channel();
        channels.add(channel);
        return (InetSocketAddress) channel.localAddress();
    }

    /** Accepts every connection; one instance serves all of a server's connections. */
    @ChannelHandler.Sharable
    private static final class Accept extends ChannelInboundHandlerAdapter {
    }

    /** Answers a stream's first bytes with the server's name and closes the stream's output. */
    @ChannelHandler.Sharable
    private static final class Answer extends ChannelInboundHandlerAdapter {
        private final String name;

        Answer(String name) {
            this.name = name;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.writeAndFlush(Unpooled.copiedBuffer(name, StandardCharsets.US_ASCII))
                    .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
        }
    }

    /** Connects through the proxy with an SNI, opens a stream, sends a line and returns what the server answers. */
    private String exchange(InetSocketAddress proxy, String sni, X509Bundle certificate) throws Exception {
        QuicSslContext ssl = QuicSslContextBuilder.forClient()
                .trustManager(certificate.getCertificate())
                .applicationProtocols("e2e")
                .build();
        ChannelHandler codec = new QuicClientCodecBuilder()
                .sslEngineProvider(q -> ssl.newEngine(q.alloc(), sni, 443))
                .maxIdleTimeout(10, TimeUnit.SECONDS)
                .initialMaxData(1 << 20)
                .initialMaxStreamDataBidirectionalLocal(1 << 20)
                .build();
        Channel channel = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                .bind(LOOPBACK, 0).sync().channel();
        try {
            QuicChannel quic = QuicChannel.newBootstrap(channel)
                    .handler(new ChannelInboundHandlerAdapter())
                    .streamHandler(new ChannelInboundHandlerAdapter())
                    .remoteAddress(proxy)
                    .connect().get(20, TimeUnit.SECONDS);
            BlockingQueue<String> answers = new LinkedBlockingQueue<>();
            StringBuilder answer = new StringBuilder();
            QuicStreamChannel stream = quic.createStream(QuicStreamType.BIDIRECTIONAL,
                    new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            answer.append(b.toString(StandardCharsets.US_ASCII));
                            b.release();
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt == io.netty.channel.socket.ChannelInputShutdownReadComplete.INSTANCE) {
                                answers.add(answer.toString());
                            }
                            ctx.fireUserEventTriggered(evt);
                        }
                    }).sync().getNow();
            stream.writeAndFlush(Unpooled.copiedBuffer("hello\n", StandardCharsets.US_ASCII)).sync();
            String got = answers.poll(20, TimeUnit.SECONDS);
            assertThat(got).as("answer through the proxy for %s", sni).isNotNull();
            quic.close().sync();
            return got;
        } finally {
            channel.close().sync();
        }
    }
}
