package io.refractium.protocols;

import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertNeverMatchesRandom;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.udp;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.openvpn.OpenVpnDetector;
import io.refractium.protocols.quic.QuicDetector;
import io.refractium.protocols.stun.StunDetector;
import io.refractium.protocols.wireguard.WireGuardDetector;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each UDP detector against the other UDP protocols' first datagrams, datagrams of zeros and random bytes: only the
 * right one matches. Over UDP every detector decides on the flow's first datagram alone, except QUIC, whose
 * ClientHello may need more.
 */
class UdpCrossProtocolTest {

    private static final List<RefractiumProtocol> DETECTORS = List.of(new DnsDetector(), new QuicDetector(),
            new StunDetector(), new OpenVpnDetector(), new WireGuardDetector());

    /** Samples by the id of the detector that must recognize them; {@code "none"} for none. */
    private static Map<String, List<byte[]>> samples() {
        Map<String, List<byte[]>> m = new LinkedHashMap<>();
        byte[] sig0 = Samples.sig0Query();
        m.put("dns", List.of(UdpSamples.dnsQuery(), Samples.dnsQuery("example.com", 28, false),
                Samples.dnsQuery("", 2, true), Arrays.copyOfRange(Samples.DIG_COOKIE, 2, Samples.DIG_COOKIE.length),
                Arrays.copyOfRange(Samples.DIG_TSIG, 2, Samples.DIG_TSIG.length),
                Arrays.copyOfRange(sig0, 2, sig0.length)));
        m.put("quic", List.of(Samples.captured("quic-rfc9001-client-initial"),
                Samples.captured("quic-rfc9369-client-initial"), Samples.captured("quic-netty-h3")));
        m.put("stun", List.of(UdpSamples.stunAllocate(), UdpSamples.stunBinding()));
        m.put("openvpn", List.of(UdpSamples.openVpn("ovpn2"), UdpSamples.openVpn("ovpn3")));
        m.put("wireguard", List.of(UdpSamples.wireGuardInitiation(1), UdpSamples.wireGuardInitiation(2)));
        byte[] ones = new byte[1200];
        Arrays.fill(ones, (byte) 0xff);
        m.put("none", List.of(new byte[12], new byte[17], new byte[20], new byte[148], new byte[1200],
                new byte[1500], ones));
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
    void onlyTheRightDetectorMatches(RefractiumProtocol detector, String sample, byte[] datagram, boolean own) {
        assertThat(detector.transports()).contains(Transport.UDP);
        Status expected = own ? Status.MATCH : Status.NO_MATCH;
        DetectionResult alone = assertSameOnEveryBuffer(detector, datagram, UDP);
        assertThat(alone.status()).as("%s on %s", detector.id(), sample).isEqualTo(expected);
        // the same first datagram with more behind it, the flow still open: the later datagrams change nothing
        byte[] next = new byte[300];
        new Random(sample.hashCode()).nextBytes(next);
        byte[] two = Samples.concat(datagram, next);
        DetectionResult first = assertSameOnEveryBuffer(detector, two,
                udp(new int[] {datagram.length, two.length}, false));
        assertThat(first.status()).as("%s on %s and another datagram", detector.id(), sample).isEqualTo(expected);
        assertThat(first.attributes()).isEqualTo(alone.attributes());
    }

    static Stream<RefractiumProtocol> detectors() {
        return DETECTORS.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("detectors")
    void randomDatagramsNeverMatch(RefractiumProtocol detector) {
        assertNeverMatchesRandom(detector, UDP, new byte[0], 0x0dd, 5_000, 1600);
    }

    @Test
    void randomBytesBehindAQuicInitialHeaderNeverDecrypt() {
        QuicDetector quic = new QuicDetector();
        // long header, Initial, version 1 or 2, an 8-byte DCID: everything passes the cheap checks but the crypto
        assertNeverMatchesRandom(quic, UDP, Samples.hex("c00000000108"), 0x9001, 500, 1500);
        assertNeverMatchesRandom(quic, UDP, Samples.hex("d06b3343cf08"), 0x9369, 500, 1500);
    }

    @Test
    void dnsIsStrictOnDatagramsOfOtherProtocols() {
        DnsDetector dns = new DnsDetector();
        Random random = new Random(53);
        for (int i = 0; i < 10_000; i++) {
            assertThat(DetectorChecks.detect(dns, UdpSamples.wireGuardInitiation(i), UDP).status())
                    .as("WireGuard initiation %d", i).isEqualTo(Status.NO_MATCH);
        }
        for (int n = 0; n <= 1500; n++) {
            assertThat(DetectorChecks.detect(dns, new byte[n], UDP).status()).as("%d zeros", n)
                    .isEqualTo(Status.NO_MATCH);
        }
        for (int i = 0; i < 2_000; i++) {
            // a STUN Binding request with a random transaction id and a random attribute
            byte[] stun = Samples.concat(Samples.hex("000100082112a442"), new byte[12], new byte[8]);
            random.nextBytes(stun);
            System.arraycopy(Samples.hex("000100082112a442"), 0, stun, 0, 8);
            assertThat(DetectorChecks.detect(dns, stun, UDP).status()).isEqualTo(Status.NO_MATCH);
        }
    }
}
