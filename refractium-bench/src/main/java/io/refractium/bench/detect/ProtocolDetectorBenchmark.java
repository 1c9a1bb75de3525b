package io.refractium.bench.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.refractium.protocols.minecraft.MinecraftDetector;
import io.refractium.protocols.mqtt.MqttDetector;
import io.refractium.protocols.openvpn.OpenVpnDetector;
import io.refractium.protocols.postgres.PostgresDetector;
import io.refractium.protocols.proxy.ProxyProtocolDetector;
import io.refractium.protocols.rdp.RdpDetector;
import io.refractium.protocols.redis.RedisDetector;
import io.refractium.protocols.socks.SocksDetector;
import io.refractium.protocols.stun.StunDetector;
import io.refractium.protocols.xmpp.XmppDetector;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one detection decision for each detector added after the first five (PostgreSQL, SOCKS, Redis, MQTT,
 * RDP, then PROXY, XMPP, Minecraft, OpenVPN, STUN), on the first bytes real clients sent (psql 15, curl 7.88,
 * redis-cli 7.0, mosquitto_pub 2.0, FreeRDP 2.11, curl's and HAProxy 2.6's PROXY headers, go-sendxmpp 0.5,
 * minecraft-server-util 5.4, OpenVPN 2.6, coturn's turnutils_uclient 4.6; the same bytes as the tests'
 * {@code samples/*.hex}) held in pooled direct buffers as the engine holds them: the whole message at once
 * ({@code MATCH} with its attributes), and each detector rejecting an HTTP request.
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -o -q -B -DskipTests package && java -jar refractium-bench/target/benchmarks.jar ProtocolDetectorBenchmark \
 *     -f 1 -wi 3 -i 5 -w 1 -r 1 -prof gc
 * }</pre>
 * {@code gc.alloc.rate.norm} is the bytes allocated per decision: the attributes of a match, nothing on a rejection.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ProtocolDetectorBenchmark {

    private static final String PSQL_STARTUP = "00000043000300007573657200616c6963650064617461626173650073686f7000"
            + "6170706c69636174696f6e5f6e616d65007265667261637469756d2d746573740000";
    private static final String PSQL_SSL = "0000000804d2162f";
    private static final String CURL_SOCKS4A = "04011f9000000001006578616d706c652e7465737400";
    private static final String CURL_SOCKS5 = "05020001";
    private static final String REDIS_CLI_PING = "2a310d0a24340d0a70696e670d0a";
    private static final String MOSQUITTO_MQTT5 = "102a00044d51545405c2003c03210014000d7265667261637469756d2d763500"
            + "03626f620006736563726574";
    private static final String FREERDP = "0300002b26e00000000000436f6f6b69653a206d737473686173683d616c6963650d0a"
            + "010008000300000000";

    private static final String CURL_PROXY_V1 = "50524f58592054435034203132372e302e302e31203132372e302e302e3120353437"
            + "30362031363030390d0a474554202f20485454502f312e310d0a";
    private static final String HAPROXY_PROXY_V2 = "0d0a0d0a000d0a515549540a2111000c7f0000017f000001862c3e9f474554202f"
            + "20485454502f312e310d0a";
    private static final String GO_SENDXMPP = "3c3f786d6c2076657273696f6e3d27312e30273f3e0a3c73747265616d3a7374"
            + "7265616d20746f3d276578616d706c652e746573742720786d6c6e733d276a61626265723a636c69656e742720786d6c6e733a"
            + "73747265616d3d27687474703a2f2f6574686572782e6a61626265722e6f72672f73747265616d732720766572"
            + "73696f6e3d27312e30273e0a";
    private static final String MINECRAFT_STATUS = "0f002f096c6f63616c686f73743ea2010100";
    private static final String OPENVPN_V2 = "000e3806d1323ab3ead65e0000000000";
    private static final String TURNUTILS_ALLOCATE = "000300202112a442d67c045710dec7ee6cd0e2dc0019000411000000000d0004"
            + "0000030900180001800000008028000448871344";

    private final PostgresDetector postgres = new PostgresDetector();
    private final SocksDetector socks = new SocksDetector();
    private final RedisDetector redis = new RedisDetector();
    private final MqttDetector mqtt = new MqttDetector();
    private final RdpDetector rdp = new RdpDetector();
    private final ProxyProtocolDetector proxy = new ProxyProtocolDetector();
    private final XmppDetector xmpp = new XmppDetector();
    private final MinecraftDetector minecraft = new MinecraftDetector();
    private final OpenVpnDetector openvpn = new OpenVpnDetector();
    private final StunDetector stun = new StunDetector();

    private final List<ByteBuf> buffers = new ArrayList<>();
    private ByteBuf postgresStartup;
    private ByteBuf postgresSsl;
    private ByteBuf socks4a;
    private ByteBuf socks5;
    private ByteBuf redisArray;
    private ByteBuf redisInline;
    private ByteBuf mqtt5;
    private ByteBuf rdpRequest;
    private ByteBuf proxyV1;
    private ByteBuf proxyV2;
    private ByteBuf xmppHeader;
    private ByteBuf minecraftHandshake;
    private ByteBuf openvpnReset;
    private ByteBuf stunAllocate;
    private ByteBuf httpRequest;

    /** Fills pooled direct buffers with the samples. */
    @Setup
    public void setUp() {
        postgresStartup = hex(PSQL_STARTUP);
        postgresSsl = hex(PSQL_SSL);
        socks4a = hex(CURL_SOCKS4A);
        socks5 = hex(CURL_SOCKS5);
        redisArray = hex(REDIS_CLI_PING);
        redisInline = direct("SET key value\r\n".getBytes(StandardCharsets.US_ASCII));
        mqtt5 = hex(MOSQUITTO_MQTT5);
        rdpRequest = hex(FREERDP);
        proxyV1 = hex(CURL_PROXY_V1);
        proxyV2 = hex(HAPROXY_PROXY_V2);
        xmppHeader = hex(GO_SENDXMPP);
        minecraftHandshake = hex(MINECRAFT_STATUS);
        openvpnReset = hex(OPENVPN_V2);
        stunAllocate = hex(TURNUTILS_ALLOCATE);
        httpRequest = direct(("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n"
                + "Accept: */*\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Releases the buffers. */
    @TearDown
    public void tearDown() {
        buffers.forEach(ByteBuf::release);
        buffers.clear();
    }

    private ByteBuf hex(String hex) {
        return direct(HexFormat.of().parseHex(hex));
    }

    private ByteBuf direct(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        b.writeBytes(bytes);
        buffers.add(b);
        return b;
    }

    private static DetectionResult detect(RefractiumProtocol p, ByteBuf buf) {
        return p.detect(buf, Contexts.TCP);
    }

    /** PostgreSQL: psql's StartupMessage, with user, database and application name. */
    @Benchmark
    public DetectionResult postgresStartup() {
        return detect(postgres, postgresStartup);
    }

    /** PostgreSQL: psql's SSLRequest (a shared attributes instance). */
    @Benchmark
    public DetectionResult postgresSslRequest() {
        return detect(postgres, postgresSsl);
    }

    /** SOCKS4a: curl's request, with the host name. */
    @Benchmark
    public DetectionResult socks4a() {
        return detect(socks, socks4a);
    }

    /** SOCKS5: curl's greeting. */
    @Benchmark
    public DetectionResult socks5() {
        return detect(socks, socks5);
    }

    /** Redis: redis-cli's PING array. */
    @Benchmark
    public DetectionResult redisArray() {
        return detect(redis, redisArray);
    }

    /** Redis: an inline command. */
    @Benchmark
    public DetectionResult redisInline() {
        return detect(redis, redisInline);
    }

    /** MQTT 5.0: mosquitto_pub's CONNECT. */
    @Benchmark
    public DetectionResult mqtt5() {
        return detect(mqtt, mqtt5);
    }

    /** RDP: FreeRDP's Connection Request with its cookie. */
    @Benchmark
    public DetectionResult rdp() {
        return detect(rdp, rdpRequest);
    }

    /** PROXY v1: curl's line (the whole line is checked). */
    @Benchmark
    public DetectionResult proxyV1() {
        return detect(proxy, proxyV1);
    }

    /** PROXY v2: HAProxy's header (the 16-byte fixed header is checked; a shared attributes instance). */
    @Benchmark
    public DetectionResult proxyV2() {
        return detect(proxy, proxyV2);
    }

    /** XMPP: go-sendxmpp's XML declaration and stream header, with the to and namespace attributes. */
    @Benchmark
    public DetectionResult xmpp() {
        return detect(xmpp, xmppHeader);
    }

    /** Minecraft: minecraft-server-util's Handshake (status ping), with address, protocol, port, next state. */
    @Benchmark
    public DetectionResult minecraft() {
        return detect(minecraft, minecraftHandshake);
    }

    /** OpenVPN: the 2.6 client's P_CONTROL_HARD_RESET_CLIENT_V2 (a shared attributes instance). */
    @Benchmark
    public DetectionResult openvpn() {
        return detect(openvpn, openvpnReset);
    }

    /** STUN: turnutils_uclient's Allocate request (a shared attributes instance). */
    @Benchmark
    public DetectionResult stun() {
        return detect(stun, stunAllocate);
    }

    /** Each of the first five detectors rejecting an HTTP request (five decisions). */
    @Benchmark
    public int allRejectHttp() {
        return detect(postgres, httpRequest).status().ordinal() + detect(socks, httpRequest).status().ordinal()
                + detect(redis, httpRequest).status().ordinal() + detect(mqtt, httpRequest).status().ordinal()
                + detect(rdp, httpRequest).status().ordinal();
    }

    /** Each of the five later detectors (PROXY, XMPP, Minecraft, OpenVPN, STUN) rejecting an HTTP request. */
    @Benchmark
    public int newRejectHttp() {
        return detect(proxy, httpRequest).status().ordinal() + detect(xmpp, httpRequest).status().ordinal()
                + detect(minecraft, httpRequest).status().ordinal() + detect(openvpn, httpRequest).status().ordinal()
                + detect(stun, httpRequest).status().ordinal();
    }
}
