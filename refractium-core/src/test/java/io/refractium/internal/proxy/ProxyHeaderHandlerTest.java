package io.refractium.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.refractium.ProxyProtocolVersion;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.refractium.Cidr;
import io.refractium.ForwardTarget;
import io.refractium.ProxyProtocolMode;
import io.refractium.RoutingTable;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.ProxyInfo;
import io.refractium.hook.Refusal;
import io.refractium.hook.RefusalReason;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.relay.CountingRecvByteBufAllocator;
import io.refractium.internal.route.RoutingSnapshot;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header stage on an {@link EmbeddedChannel}, driven by the channel's clock: v1 and v2 headers whole, byte
 * by byte and in random splits, the bytes after them passed on and the header's never, optional listeners passing
 * other bytes on untouched, and every way a connection is refused.
 */
class ProxyHeaderHandlerTest {

    private static final InetSocketAddress SOCKET = new InetSocketAddress("127.0.0.1", 50000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 443);
    private static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"));
    private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(5);
    private static final byte[] PAYLOAD = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final MockTicker ticker = Ticker.newMockTicker();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final ByteArrayOutputStream passedOn = new ByteArrayOutputStream();
    private int done;
    private ConnectionState conn;
    /** What the gate was told: each refusal's reason, and each client address it was asked to admit. */
    private final List<String> gateEvents = new ArrayList<>();
    /** The refusal the gate answers when asked to admit a client address, or {@code null} to admit it. */
    private Refusal admitAnswer;
    private CloseReason closedWith;

    private final ProxyGate gate = new ProxyGate() {
        @Override
        public Refusal admitClient(ConnectionState c) {
            gateEvents.add("admit " + c.clientAddress().getAddress().getHostAddress());
            return admitAnswer;
        }

        @Override
        public Refusal refusal(RefusalReason reason, String limit) {
            return new Refusal(reason, limit);
        }

        @Override
        public void refuse(ConnectionState c, Refusal refusal) {
            gateEvents.add("refuse " + refusal.reason() + " " + refusal.limit());
            c.close(CloseReason.REFUSED);
        }
    };

    @AfterEach
    void close() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel channel(ProxyProtocolMode mode, List<Cidr> trusted) {
        EmbeddedChannel ch = EmbeddedChannel.builder().ticker(ticker).build();
        channels.add(ch);
        RoutingTable table = RoutingTable.builder().route("x", ForwardTarget.of("x", "127.0.0.1:1")).build();
        conn = new ConnectionState(7, ch, SOCKET, LOCAL, new RoutingSnapshot(table, Map.of()),
                new CountingRecvByteBufAllocator(), new ConnectionState.Listener() {
                    @Override
                    public void finished(ConnectionState c, ConnectionSummary s) {
                        closedWith = s.reason();
                    }

                    @Override
                    public void spliced(ConnectionState c) {
                    }
                });
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                passedOn.writeBytes(bytes);
            }
        });
        ConnectionState c = conn;
        ch.closeFuture().addListener(f -> c.channelClosed());
        ch.pipeline().addFirst("proxy-header", new ProxyHeaderHandler(conn, new ProxyAcceptance(mode, trusted), TIMEOUT,
                gate, () -> done++));
        return ch;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] v1(String line) {
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] v2(HAProxyCommand command, HAProxyProxiedProtocol family, String src, String dst) {
        EmbeddedChannel enc = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        enc.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, command, family, src, dst,
                src == null ? 0 : 41000, dst == null ? 0 : 443));
        ByteBuf b = enc.readOutbound();
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        enc.finishAndReleaseAll();
        return bytes;
    }

    /** Writes the bytes in pieces cut at the given offsets. */
    private static void write(EmbeddedChannel ch, byte[] bytes, int... cuts) {
        int from = 0;
        for (int cut : cuts) {
            ch.writeInbound(Unpooled.copiedBuffer(bytes, from, cut - from));
            from = cut;
        }
        ch.writeInbound(Unpooled.copiedBuffer(bytes, from, bytes.length - from));
    }

    private void assertReal(EmbeddedChannel ch, InetSocketAddress expected) {
        assertThat(ch.isOpen()).isTrue();
        assertThat(done).isEqualTo(1);
        assertThat(conn.clientAddress()).isEqualTo(expected);
        assertThat(conn.socketAddress()).isEqualTo(SOCKET);
        assertThat(passedOn.toByteArray()).isEqualTo(PAYLOAD);
        assertThat(ch.pipeline().get(ProxyHeaderHandler.class)).isNull();
        assertThat(ch.pipeline().names()).doesNotContain("proxy-decoder", "proxy-guard");
    }

    @Test
    void v1WholeAndTheBytesAfterIt() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, concat(v1("PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n"), PAYLOAD));
        assertReal(ch, new InetSocketAddress("203.0.113.7", 40000));
    }

    @Test
    void v1ByteByByte() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.OPTIONAL, LOOPBACK);
        byte[] all = concat(v1("PROXY TCP6 2001:db8::1 ::1 40000 443\r\n"), PAYLOAD);
        for (byte b : all) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertReal(ch, new InetSocketAddress("2001:db8::1", 40000));
    }

    @Test
    void v2InRandomSplits() {
        Random random = new Random(8);
        for (int i = 0; i < 50; i++) {
            passedOn.reset();
            done = 0;
            EmbeddedChannel ch = channel(i % 2 == 0 ? ProxyProtocolMode.REQUIRED : ProxyProtocolMode.OPTIONAL, LOOPBACK);
            byte[] all = concat(v2(HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4, "198.51.100.4", "127.0.0.1"),
                    PAYLOAD);
            int a = 1 + random.nextInt(all.length - 2);
            int b = a + 1 + random.nextInt(all.length - a - 1);
            write(ch, all, a, b);
            assertReal(ch, new InetSocketAddress("198.51.100.4", 41000));
        }
    }

    @Test
    void v2LocalKeepsTheSocketAddress() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, concat(v2(HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null), PAYLOAD));
        assertReal(ch, SOCKET);
    }

    @Test
    void optionalPassesOtherBytesOnUntouched() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.OPTIONAL, LOOPBACK);
        write(ch, v1("PRO"));
        assertThat(passedOn.size()).as("a prefix of the signature waits").isZero();
        write(ch, v1("PFIND\r\n"));
        assertThat(ch.isOpen()).isTrue();
        assertThat(done).isEqualTo(1);
        assertThat(new String(passedOn.toByteArray(), StandardCharsets.US_ASCII)).isEqualTo("PROPFIND\r\n");
        assertThat(conn.clientAddress()).isEqualTo(SOCKET);
    }

    @Test
    void optionalPassesAMismatchOnTheFirstByteAtOnce() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.OPTIONAL, List.of(Cidr.parse("10.0.0.0/8")));
        write(ch, PAYLOAD);
        assertThat(passedOn.toByteArray()).isEqualTo(PAYLOAD);
        assertThat(done).isEqualTo(1);
    }

    @Test
    void requiredWithoutAHeaderIsClosed() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, PAYLOAD);
        assertThat(ch.isOpen()).isFalse();
        assertThat(done).isZero();
        assertThat(passedOn.size()).isZero();
    }

    @Test
    void untrustedSourcesAreRefused() {
        List<Cidr> elsewhere = List.of(Cidr.parse("10.0.0.0/8"));
        EmbeddedChannel required = channel(ProxyProtocolMode.REQUIRED, elsewhere);
        assertThat(required.isOpen()).as("required: closed at once").isFalse();
        EmbeddedChannel optional = channel(ProxyProtocolMode.OPTIONAL, elsewhere);
        write(optional, concat(v1("PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n"), PAYLOAD));
        assertThat(optional.isOpen()).isFalse();
        assertThat(done).isZero();
        assertThat(passedOn.size()).isZero();
    }

    @Test
    void malformedHeadersAreRefused() {
        EmbeddedChannel v1 = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(v1, v1("PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n"));
        assertThat(v1.isOpen()).isFalse();
        EmbeddedChannel split = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(split, v1("PROXY TCP4 1.2.3.4 "));
        write(split, v1("127.0.0.1 99999 2\r\n"));
        assertThat(split.isOpen()).as("malformed in a later read").isFalse();
        assertThat(done).isZero();
        assertThat(passedOn.size()).isZero();
    }

    @Test
    void anIncompleteHeaderIsClosedAtTheDeadline() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, v1("PROXY TCP4 203.0.113.7"));
        ticker.advance(TIMEOUT - 1, TimeUnit.NANOSECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        ticker.advance(1, TimeUnit.NANOSECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(done).isZero();
    }

    @Test
    void eachRefusalTellsTheGateItsReason() {
        List<Cidr> elsewhere = List.of(Cidr.parse("10.0.0.0/8"));
        channel(ProxyProtocolMode.REQUIRED, elsewhere);
        write(channel(ProxyProtocolMode.OPTIONAL, elsewhere), v1("PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n"));
        write(channel(ProxyProtocolMode.REQUIRED, LOOPBACK), PAYLOAD);
        write(channel(ProxyProtocolMode.REQUIRED, LOOPBACK), v1("PROXY TCP4 1.2.3.4 "));
        EmbeddedChannel malformed = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(malformed, v1("PROXY TCP4 1.2.3.4 127.0.0.1 99999 2\r\n"));
        assertThat(malformed.isOpen()).isFalse();
        assertThat(closedWith).isEqualTo(CloseReason.REFUSED);
        EmbeddedChannel late = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(late, v1("PROXY TCP4 1.2.3.4 "));
        ticker.advance(TIMEOUT, TimeUnit.NANOSECONDS);
        late.runScheduledPendingTasks();
        assertThat(late.isOpen()).isFalse();
        assertThat(gateEvents).containsExactly(
                "refuse PROXY_HEADER_UNTRUSTED acceptProxyProtocol trusted=[10.0.0.0/8]",
                "refuse PROXY_HEADER_UNTRUSTED acceptProxyProtocol trusted=[10.0.0.0/8]",
                "refuse PROXY_HEADER_MISSING acceptProxyProtocol=REQUIRED",
                "refuse PROXY_HEADER_MALFORMED malformed PROXY header: invalid HAProxy message: invalid port: 99999 "
                        + "(expected: 1 ~ 65535)",
                "refuse PROXY_HEADER_TIMEOUT peekTimeout=PT5S");
        assertThat(done).isZero();
        assertThat(passedOn.size()).isZero();
    }

    @Test
    void aMalformedHeaderInALaterReadIsRefusedOnceByTheGate() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, v1("PROXY TCP4 1.2.3.4 "));
        assertThat(ch.isOpen()).isTrue();
        write(ch, v1("127.0.0.1 99999 2\r\n"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(gateEvents).hasSize(1).allMatch(e -> e.startsWith("refuse PROXY_HEADER_MALFORMED "));
    }

    @Test
    void theGateChecksTheRealAddressAfterTheHeaderAndMayRefuseIt() {
        admitAnswer = new Refusal(RefusalReason.MAX_CONNECTIONS_PER_IP, "maxConnectionsPerIp=1");
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, concat(v1("PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n"), PAYLOAD));
        assertThat(ch.isOpen()).isFalse();
        assertThat(gateEvents).containsExactly("admit 203.0.113.7",
                "refuse MAX_CONNECTIONS_PER_IP maxConnectionsPerIp=1");
        assertThat(done).isZero();
        assertThat(passedOn.size()).as("nothing after the header passed on").isZero();
        assertThat(conn.clientAddress()).isEqualTo(new InetSocketAddress("203.0.113.7", 40000));
    }

    @Test
    void anOptionalListenerChecksTheSocketAddressWhenNoHeaderCame() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.OPTIONAL, LOOPBACK);
        write(ch, PAYLOAD);
        assertThat(gateEvents).containsExactly("admit 127.0.0.1");
        assertThat(conn.proxyHeader()).isNull();
        assertThat(passedOn.toByteArray()).isEqualTo(PAYLOAD);
        admitAnswer = new Refusal(RefusalReason.DENIED, "deny=127.0.0.1/32");
        gateEvents.clear();
        passedOn.reset();
        EmbeddedChannel refused = channel(ProxyProtocolMode.OPTIONAL, LOOPBACK);
        write(refused, PAYLOAD);
        assertThat(refused.isOpen()).isFalse();
        assertThat(gateEvents).containsExactly("admit 127.0.0.1", "refuse DENIED deny=127.0.0.1/32");
        assertThat(passedOn.size()).isZero();
    }

    @Test
    void theHeaderIsRecordedWithCopiesOfItsTlvs() {
        EmbeddedChannel enc = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        enc.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP6, "2001:db8::7", "2001:db8::1", 41000, 443,
                List.of(new HAProxyTLV((byte) 0x02, Unpooled.copiedBuffer("a.example", StandardCharsets.UTF_8)),
                        new HAProxyTLV((byte) 0x01, Unpooled.copiedBuffer("h2", StandardCharsets.UTF_8)),
                        new HAProxyTLV((byte) 0x05, Unpooled.copiedBuffer("id-1", StandardCharsets.UTF_8)),
                        new HAProxyTLV((byte) 0xE1, Unpooled.wrappedBuffer(new byte[] {0, (byte) 0xff})))));
        ByteBuf header = enc.readOutbound();
        enc.finishAndReleaseAll();
        byte[] bytes = new byte[header.readableBytes()];
        header.readBytes(bytes);
        header.release();
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, concat(bytes, PAYLOAD), 7);
        assertReal(ch, new InetSocketAddress("2001:db8::7", 41000));
        ProxyInfo h = conn.proxyHeader();
        assertThat(h.version()).isEqualTo(ProxyProtocolVersion.V2);
        assertThat(h.isLocal()).isFalse();
        assertThat(h.socketAddress()).isEqualTo(SOCKET);
        assertThat(h.source()).isEqualTo(new InetSocketAddress("2001:db8::7", 41000));
        assertThat(h.destination()).isEqualTo(new InetSocketAddress("2001:db8::1", 443));
        assertThat(h.authority()).isEqualTo("a.example");
        assertThat(h.alpn()).isEqualTo("h2");
        assertThat(h.uniqueId()).isEqualTo("id-1");
        assertThat(h.tlv(0xE1)).containsExactly(0, 0xff);
        assertThat(h.tlvs()).extracting(ProxyInfo.Tlv::type).containsExactly(0x02, 0x01, 0x05, 0xE1);
        assertThat(gateEvents).containsExactly("admit 2001:db8:0:0:0:0:0:7");
    }

    @Test
    void aLocalHeaderIsRecordedWithoutAddresses() {
        EmbeddedChannel ch = channel(ProxyProtocolMode.REQUIRED, LOOPBACK);
        write(ch, concat(v2(HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null), PAYLOAD));
        assertReal(ch, SOCKET);
        assertThat(conn.proxyHeader().isLocal()).isTrue();
        assertThat(conn.proxyHeader().source()).isNull();
        assertThat(conn.proxyHeader().destination()).isNull();
        assertThat(conn.proxyHeader().tlvs()).isEmpty();
    }
}
