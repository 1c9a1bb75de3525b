package io.refractium.protocols.quic;

import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.udp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.BoringSSLContextOption;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.Future;
import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Initial packets of a real QUIC client (Netty's QUIC codec: quiche with BoringSSL), recorded by a plain UDP
 * socket that never answers, then detected: the SNI and ALPN the client was given must come out.
 */
@Timeout(60)
class NettyQuicClientTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final QuicDetector detector = new QuicDetector();
    private EventLoopGroup group;

    @BeforeEach
    void setUp() {
        assumeTrue(Quic.isAvailable(), () -> "QUIC native library: " + Quic.unavailabilityCause());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aClientHelloInOneDatagram() throws Exception {
        List<byte[]> datagrams = firstFlight("quic-a.example", new String[] {"h3", "hq-interop"}, null);
        assertThat(datagrams.get(0).length).isGreaterThanOrEqualTo(1200);
        DetectionResult r = detect(datagrams.subList(0, 1), false);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("quic-a.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3", "hq-interop"));
        assertThat(r.attributes().get(AttributeKey.TLS_VERSION)).isEqualTo("TLSv1.3");
        assertThat(r.attributes().get(QuicDetector.VERSION)).isEqualTo("1");
        assertThat(r.attributes().get(QuicDetector.DCID)).hasSizeBetween(16, 40);
    }

    @Test
    void aPostQuantumClientHelloSpansTwoDatagrams() throws Exception {
        List<byte[]> datagrams = firstFlight("pq.quic.example", new String[] {"h3"},
                new String[] {"X25519MLKEM768", "X25519"});
        assertThat(datagrams).hasSizeGreaterThanOrEqualTo(2);
        int needed = decisiveDatagrams(datagrams);
        assertThat(needed).as("datagrams the hello needs").isGreaterThanOrEqualTo(2);
        DetectionResult r = detect(datagrams.subList(0, needed), false);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("pq.quic.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3"));
    }

    @Test
    void aClientHelloWithManyAlpnNamesSpansSeveralDatagrams() throws Exception {
        String[] alpn = new String[60];
        for (int i = 0; i < alpn.length; i++) {
            alpn[i] = "x-refractium-test-protocol-with-a-long-name-" + i;
        }
        List<byte[]> datagrams = firstFlight("many.quic.example", alpn, null);
        int needed = decisiveDatagrams(datagrams);
        assertThat(needed).as("datagrams the hello needs").isGreaterThanOrEqualTo(3);
        DetectionResult r = detect(datagrams.subList(0, needed), false);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("many.quic.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(Arrays.asList(alpn));
        // the datagrams in another order: the hello is reassembled all the same, once all are in
        List<byte[]> reordered = new ArrayList<>(datagrams.subList(0, needed));
        reordered.add(1, reordered.remove(needed - 1));
        assertThat(detect(reordered, false).attributes()).isEqualTo(r.attributes());
    }

    /**
     * Offers the datagrams one more at a time, as the engine does: {@code NEED_MORE} until the hello is complete,
     * then {@code MATCH}, with the same answer for every later datagram (retransmissions included).
     *
     * @return how many datagrams the match needed
     */
    private int decisiveDatagrams(List<byte[]> datagrams) {
        int decided = 0;
        DetectionResult first = null;
        for (int k = 1; k <= datagrams.size(); k++) {
            DetectionResult r = detect(datagrams.subList(0, k), false);
            if (decided == 0 && r.status() == Status.NEED_MORE) {
                continue;
            }
            assertThat(r.status()).as("%d datagrams", k).isEqualTo(Status.MATCH);
            if (decided == 0) {
                decided = k;
                first = r;
            } else {
                assertThat(r.attributes()).as("%d datagrams", k).isEqualTo(first.attributes());
            }
        }
        assertThat(decided).as("a match").isPositive();
        return decided;
    }

    private DetectionResult detect(List<byte[]> datagrams, boolean complete) {
        byte[] bytes = Samples.concat(datagrams.toArray(new byte[0][]));
        return assertSameOnEveryBuffer(detector, bytes, udp(QuicInitials.ends(datagrams), complete));
    }

    /**
     * Starts a QUIC client towards a UDP socket that records what arrives and never answers, and returns the
     * datagrams of the client's first flight: those that arrive until the socket has been quiet for 300 ms (the
     * client retransmits only after about a second).
     */
    private List<byte[]> firstFlight(String sni, String[] alpn, String[] groups) throws Exception {
        try (DatagramSocket recorder = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            QuicSslContextBuilder ssl = QuicSslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .applicationProtocols(alpn);
            if (groups != null) {
                ssl.option(BoringSSLContextOption.GROUPS, groups);
            }
            QuicSslContext context = ssl.build();
            ChannelHandler codec = new QuicClientCodecBuilder()
                    .sslEngineProvider(q -> context.newEngine(q.alloc(), sni, 443))
                    .maxIdleTimeout(5, TimeUnit.SECONDS)
                    .initialMaxData(1 << 20)
                    .initialMaxStreamDataBidirectionalLocal(1 << 20)
                    .build();
            Channel channel = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(codec)
                    .bind(LOOPBACK, 0).sync().channel();
            Future<QuicChannel> connect = null;
            try {
                connect = QuicChannel.newBootstrap(channel)
                        .handler(new ChannelInboundHandlerAdapter())
                        .streamHandler(new ChannelInboundHandlerAdapter())
                        .remoteAddress(recorder.getLocalSocketAddress())
                        .connect();
                List<byte[]> datagrams = new ArrayList<>();
                byte[] buffer = new byte[65536];
                recorder.setSoTimeout(5000);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline && datagrams.size() < 64) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    try {
                        recorder.receive(packet);
                    } catch (SocketTimeoutException e) {
                        break;
                    }
                    datagrams.add(Arrays.copyOf(packet.getData(), packet.getLength()));
                    recorder.setSoTimeout(300);
                }
                assertThat(datagrams).as("datagrams from the client").isNotEmpty();
                return datagrams;
            } finally {
                // closing the UDP channel closes the QUIC channel and fails the connect attempt
                channel.close().sync();
                if (connect != null) {
                    connect.await(5, TimeUnit.SECONDS);
                }
            }
        }
    }
}
