package io.refractium.protocols.quic;

import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.detect;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.protocols.Samples;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.spi.DetectionResult;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Routes by SNI and ALPN read a QUIC match as they read a TLS one: the same hello routes the same way. */
class QuicRoutingTest {

    private static final RoutingTable TABLE = RoutingTable.builder()
            .route(Route.builder("quic").sni("example.com").to(ForwardTarget.of("rfc", "127.0.0.1:4431")))
            .route(Route.builder("quic").sni("*.b.example").alpn("h3").to(ForwardTarget.of("b-h3", "127.0.0.1:4432")))
            .route(Route.builder("quic").sni("*.b.example").to(ForwardTarget.of("b", "127.0.0.1:4433")))
            .route(Route.builder("tls").sni("*.b.example").alpn("h3").to(ForwardTarget.of("tls-b", "127.0.0.1:4434")))
            .build();

    @Test
    void quicRoutesBySniAndAlpn() {
        assertThat(route(Samples.captured("quic-rfc9001-client-initial"))).isEqualTo("rfc");
        assertThat(route(flight(QuicInitials.quicHello("x.b.example", "h3").handshake()))).isEqualTo("b-h3");
        assertThat(route(flight(QuicInitials.quicHello("x.b.example", "hq-interop").handshake()))).isEqualTo("b");
        assertThat(route(flight(QuicInitials.quicHello("x.c.example", "h3").handshake()))).isNull();
    }

    @Test
    void theSameHelloOverTlsHasTheSameAttributes() {
        byte[] hello = QuicInitials.quicHello("x.b.example", "h3").handshake();
        DetectionResult quic = detect(new QuicDetector(), flight(hello), UDP);
        DetectionResult tls = detect(new TlsDetector(), Samples.records(hello, 16384));
        tls.attributes().asMap().forEach((k, v) -> assertThat(quic.attributes().asMap()).containsEntry(k, v));
        Route route = TABLE.select("tls", tls.attributes(), InetAddress.getLoopbackAddress());
        assertThat(route.target().name()).isEqualTo("tls-b");
    }

    private static byte[] flight(byte[] hello) {
        List<byte[]> datagrams = QuicInitials.flight(InitialKeys.VERSION_1, hello, hello.length, 1, 1, null);
        return datagrams.get(0);
    }

    private static String route(byte[] datagram) {
        DetectionResult r = detect(new QuicDetector(), datagram, UDP);
        assertThat(r.isMatch()).isTrue();
        Route route = TABLE.select("quic", r.attributes(), InetAddress.getLoopbackAddress());
        return route == null ? null : route.target().name();
    }
}
