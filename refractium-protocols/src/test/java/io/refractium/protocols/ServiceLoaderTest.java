package io.refractium.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.http2.Http2Detector;
import io.refractium.protocols.minecraft.MinecraftDetector;
import io.refractium.protocols.mqtt.MqttDetector;
import io.refractium.protocols.openvpn.OpenVpnDetector;
import io.refractium.protocols.postgres.PostgresDetector;
import io.refractium.protocols.proxy.ProxyProtocolDetector;
import io.refractium.protocols.quic.QuicDetector;
import io.refractium.protocols.rdp.RdpDetector;
import io.refractium.protocols.redis.RedisDetector;
import io.refractium.protocols.socks.SocksDetector;
import io.refractium.protocols.ssh.SshDetector;
import io.refractium.protocols.stun.StunDetector;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.protocols.wireguard.WireGuardDetector;
import io.refractium.protocols.xmpp.XmppDetector;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.TestServer;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ServiceLoaderTest {

    @Test
    void serviceLoaderFindsEveryDetector() {
        List<RefractiumProtocol> found = ServiceLoader.load(RefractiumProtocol.class).stream()
                .map(ServiceLoader.Provider::get)
                .collect(Collectors.toList());
        assertThat(found).extracting(RefractiumProtocol::id)
                .containsExactlyInAnyOrder("tls", "http", "http2", "ssh", "dns", "postgres", "socks", "redis", "mqtt", "rdp",
                        "proxy", "xmpp", "minecraft", "openvpn", "stun", "quic", "wireguard");
        assertThat(found).extracting(p -> (Object) p.getClass()).containsExactlyInAnyOrder(TlsDetector.class,
                HttpDetector.class, Http2Detector.class, SshDetector.class, DnsDetector.class, PostgresDetector.class,
                SocksDetector.class, RedisDetector.class, MqttDetector.class, RdpDetector.class,
                ProxyProtocolDetector.class, XmppDetector.class, MinecraftDetector.class, OpenVpnDetector.class,
                StunDetector.class, QuicDetector.class, WireGuardDetector.class);
        assertThat(found).allSatisfy(p -> assertThat(p.maxBytes()).isPositive());
    }

    @Test
    void discoveryAddsTheDetectorsInPriorityOrderAndAnExplicitOneWinsItsId() throws Exception {
        try (TestServer backend = TestServer.greeter("explicit")) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                    .protocol(new PrefixProtocol("http", "HELLO"))
                    .discoverProtocols()
                    .route("http", ForwardTarget.of("web", backend.hostAndPort()))
                    .build().start();
            try (r; Socket c = new Socket()) {
                assertThat(r.protocols()).containsExactly("proxy", "http", "http2", "minecraft", "mqtt", "openvpn",
                        "postgres", "quic", "rdp", "socks", "ssh", "stun", "tls", "wireguard", "xmpp", "redis", "dns");
                c.connect(r.localAddress(), 2000);
                c.setSoTimeout(5000);
                c.getOutputStream().write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(TestServer.readLine(c.getInputStream())).isEqualTo("explicit");
            }
        }
    }
}
