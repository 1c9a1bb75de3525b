package io.refractium.protocols;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertNeverMatchesRandom;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.Samples.ascii;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.http2.Http2Detector;
import io.refractium.protocols.minecraft.MinecraftDetector;
import io.refractium.protocols.mqtt.MqttDetector;
import io.refractium.protocols.openvpn.OpenVpnDetector;
import io.refractium.protocols.postgres.PostgresDetector;
import io.refractium.protocols.proxy.ProxyProtocolDetector;
import io.refractium.protocols.rdp.RdpDetector;
import io.refractium.protocols.redis.RedisDetector;
import io.refractium.protocols.socks.SocksDetector;
import io.refractium.protocols.ssh.SshDetector;
import io.refractium.protocols.stun.StunDetector;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.protocols.xmpp.XmppDetector;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.RefractiumProtocol;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each detector against the other protocols' first bytes and against random bytes. */
class CrossProtocolTest {

    private static final List<RefractiumProtocol> DETECTORS = List.of(new TlsDetector(), new HttpDetector(),
            new Http2Detector(), new SshDetector(), new DnsDetector(), new PostgresDetector(),
            new SocksDetector(), new RedisDetector(), new MqttDetector(), new RdpDetector(), new ProxyProtocolDetector(),
            new XmppDetector(), new MinecraftDetector(), new OpenVpnDetector(), new StunDetector());

    /** Samples by the id of the detector that must recognize them. */
    private static Map<String, List<byte[]>> samples() {
        Map<String, List<byte[]>> m = new LinkedHashMap<>();
        m.put("tls", List.of(Samples.jdkClientHello("a.test", List.of("h2", "http/1.1")),
                Samples.postQuantumClientHello().record(),
                Samples.records(Samples.postQuantumClientHello().handshake(), 100)));
        m.put("http", List.of(ascii(Samples.CURL_REQUEST), ascii(Samples.BROWSER_REQUEST),
                ascii(Samples.ABSOLUTE_FORM_REQUEST), ascii(Samples.HTTP_1_0_REQUEST),
                ascii("\r\nBREW /pot HTTP/1.1\r\nHost: a.test\r\n\r\n")));
        m.put("http2", List.of(Samples.h2cCurlRequest()));
        m.put("ssh", List.of(ascii(Samples.OPENSSH_BANNER), ascii("SSH-1.99-OpenSSH_3.9p1\r\n")));
        m.put("dns", List.of(Samples.tcp(Samples.dnsQuery("example.com", 1, true)),
                Samples.tcp(Samples.dnsQuery("example.com", 28, false)), Samples.DIG_IXFR, Samples.DIG_TSIG,
                Samples.DIG_COOKIE, Samples.DSO_KEEPALIVE, Samples.sig0Query()));
        m.put("postgres", List.of(Samples.captured("pg"), Samples.captured("pgssl"), Samples.hex("0000000804d21630"),
                Samples.hex("0000001004d2162e000004d201020304")));
        m.put("socks", List.of(Samples.captured("socks4"), Samples.captured("socks4a"), Samples.captured("socks5"),
                Samples.captured("socks5auth")));
        m.put("redis", List.of(Samples.captured("redis"), ascii("PING\r\n"), ascii("SET key value\r\n")));
        m.put("mqtt", List.of(Samples.captured("mqtt311"), Samples.captured("mqtt5"), Samples.captured("mqtt31")));
        m.put("rdp", List.of(Samples.captured("rdp")));
        m.put("proxy", List.of(Samples.captured("proxyv1"), Samples.captured("proxyv1-tcp6"),
                Samples.captured("proxyv2"), Samples.captured("proxyv2-ipv6"), ascii("PROXY UNKNOWN\r\n")));
        m.put("xmpp", List.of(Samples.captured("xmpp"), ascii("<stream:stream xmlns='jabber:server' "
                + "xmlns:stream='http://etherx.jabber.org/streams' to='b.example' version='1.0'>")));
        m.put("minecraft", List.of(Samples.captured("minecraft-status"),
                Samples.minecraftHandshake(767, "mc.example.test\0FML3\0", 25565, 2),
                Samples.minecraftHandshake(-1, "192.0.2.1", 25565, 1)));
        m.put("openvpn", List.of(Samples.captured("ovpn2"), Samples.captured("ovpn3")));
        m.put("stun", List.of(Samples.captured("stun"), Samples.hex("000100002112a442b7e7a701bc34d686fa87dfae")));
        return m;
    }

    static Stream<Arguments> pairs() {
        Stream.Builder<Arguments> b = Stream.builder();
        samples().forEach((id, list) -> {
            for (int i = 0; i < list.size(); i++) {
                for (RefractiumProtocol p : DETECTORS) {
                    b.add(Arguments.of(p, id + "#" + i, list.get(i), p.id().equals(id)));
                }
            }
        });
        return b.build();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("pairs")
    void onlyTheRightDetectorMatches(RefractiumProtocol detector, String sample, byte[] bytes, boolean own) {
        DetectionResult r = assertSameOnEveryBuffer(detector, bytes, TCP);
        String id = sample.substring(0, sample.indexOf('#'));
        RefractiumProtocol right = DETECTORS.stream().filter(p -> p.id().equals(id)).findFirst().orElse(null);
        if (!own && r.status() == Status.NEED_MORE && right != null && detector.priority() < right.priority()) {
            // Too short for this detector to decide (a 4-byte SOCKS5 greeting for DNS), but it is asked after the
            // right one, whose match does not wait for it; and once the client stops sending, it does not match.
            assertThat(assertSameOnEveryBuffer(detector, bytes, DetectorChecks.TCP_COMPLETE).status())
                    .as("%s on %s, input complete", detector.id(), sample).isNotEqualTo(Status.MATCH);
            return;
        }
        assertThat(r.status()).as("%s on %s", detector.id(), sample).isEqualTo(own ? Status.MATCH : Status.NO_MATCH);
    }

    static Stream<RefractiumProtocol> detectors() {
        return DETECTORS.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("detectors")
    void randomBytesNeverMatch(RefractiumProtocol detector) {
        assertNeverMatchesRandom(detector, TCP, new byte[0], 0x5eed, 10_000, 2048);
        if (detector.transports().contains(io.refractium.spi.Transport.UDP)) {
            assertNeverMatchesRandom(detector, UDP, new byte[0], 0x5eed + 1, 10_000, 2048);
        }
    }
}
