package io.refractium.bench.detect;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.refractium.protocols.mqtt.MqttDetector;
import io.refractium.protocols.postgres.PostgresDetector;
import io.refractium.protocols.rdp.RdpDetector;
import io.refractium.protocols.redis.RedisDetector;
import io.refractium.protocols.socks.SocksDetector;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
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
 * RDP), on the first bytes real clients sent (psql 15, curl 7.88, redis-cli 7.0, mosquitto_pub 2.0, FreeRDP 2.11;
 * the same bytes as the tests' {@code samples/*.hex}) held in pooled direct buffers as the engine holds them: the whole
 * message at once ({@code MATCH} with its attributes), and each detector rejecting an HTTP request.
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

    private static final DetectionContext TCP = new DetectionContext() {
        private final InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
        private final InetSocketAddress local = new InetSocketAddress("127.0.0.1", 443);

        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        @Override
        public SocketAddress remoteAddress() {
            return remote;
        }

        @Override
        public SocketAddress localAddress() {
            return local;
        }

        @Override
        public boolean isInputComplete() {
            return false;
        }
    };

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

    private final PostgresDetector postgres = new PostgresDetector();
    private final SocksDetector socks = new SocksDetector();
    private final RedisDetector redis = new RedisDetector();
    private final MqttDetector mqtt = new MqttDetector();
    private final RdpDetector rdp = new RdpDetector();

    private final List<ByteBuf> buffers = new ArrayList<>();
    private ByteBuf postgresStartup;
    private ByteBuf postgresSsl;
    private ByteBuf socks4a;
    private ByteBuf socks5;
    private ByteBuf redisArray;
    private ByteBuf redisInline;
    private ByteBuf mqtt5;
    private ByteBuf rdpRequest;
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
        return p.detect(buf, TCP);
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

    /** Each of the five detectors rejecting an HTTP request (five decisions). */
    @Benchmark
    public int allRejectHttp() {
        return detect(postgres, httpRequest).status().ordinal() + detect(socks, httpRequest).status().ordinal()
                + detect(redis, httpRequest).status().ordinal() + detect(mqtt, httpRequest).status().ordinal()
                + detect(rdp, httpRequest).status().ordinal();
    }
}
