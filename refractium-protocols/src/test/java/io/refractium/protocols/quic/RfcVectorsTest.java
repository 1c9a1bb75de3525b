package io.refractium.protocols.quic;

import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.udp;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client Initial packets of RFC 9001 Appendix A.2 (version 1) and RFC 9369 Appendix A.2 (version 2), and the
 * recorded first flights of a real client (Netty's QUIC codec; {@link NettyQuicClientTest} records new ones live).
 */
class RfcVectorsTest {

    private final QuicDetector detector = new QuicDetector();

    @Test
    void version1() {
        DetectionResult r = assertSameOnEveryBuffer(detector, Samples.captured("quic-rfc9001-client-initial"), UDP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("example.com");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("alpn"));
        assertThat(r.attributes().get(AttributeKey.TLS_VERSION)).isEqualTo("TLSv1.3");
        assertThat(r.attributes().get(QuicDetector.VERSION)).isEqualTo("1");
        assertThat(r.attributes().get(QuicDetector.DCID)).isEqualTo("8394c8f03e515708");
        assertThat(r.attributes().has(AttributeKey.TLS_ECH)).isFalse();
    }

    @Test
    void version2() {
        DetectionResult r = assertSameOnEveryBuffer(detector, Samples.captured("quic-rfc9369-client-initial"), UDP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("example.com");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("alpn"));
        assertThat(r.attributes().get(QuicDetector.VERSION)).isEqualTo("2");
        assertThat(r.attributes().get(QuicDetector.DCID)).isEqualTo("8394c8f03e515708");
    }

    @Test
    void recordedNettyClientInOneDatagram() {
        DetectionResult r = assertSameOnEveryBuffer(detector, Samples.captured("quic-netty-h3"), UDP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("quic-a.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3", "hq-interop"));
    }

    @Test
    void recordedPostQuantumHelloInTwoDatagrams() {
        byte[] first = Samples.captured("quic-netty-pq-1");
        byte[] both = Samples.concat(first, Samples.captured("quic-netty-pq-2"));
        assertThat(assertSameOnEveryBuffer(detector, first, udp(new int[] {first.length}, false)).status())
                .isEqualTo(Status.NEED_MORE);
        DetectionResult r = assertSameOnEveryBuffer(detector, both, udp(new int[] {first.length, both.length}, false));
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("pq.quic.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3"));
        // the second datagram first: the flow does not begin with the hello's start, still QUIC
        byte[] swapped = Samples.concat(Samples.captured("quic-netty-pq-2"), first);
        assertThat(assertSameOnEveryBuffer(detector, swapped, udp(new int[] {first.length, both.length}, false))
                .attributes()).isEqualTo(r.attributes());
    }
}
