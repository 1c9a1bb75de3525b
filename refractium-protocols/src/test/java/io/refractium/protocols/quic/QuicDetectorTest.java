package io.refractium.protocols.quic;

import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.DetectorChecks.udp;
import static io.refractium.protocols.quic.QuicInitials.DCID;
import static io.refractium.protocols.quic.QuicInitials.SCID;
import static io.refractium.protocols.quic.QuicInitials.crypto;
import static io.refractium.protocols.quic.QuicInitials.ends;
import static io.refractium.protocols.quic.QuicInitials.flight;
import static io.refractium.protocols.quic.QuicInitials.initial;
import static io.refractium.protocols.quic.QuicInitials.postQuantumHello;
import static io.refractium.protocols.quic.QuicInitials.quicHello;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.CountingByteBuf;
import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.DetectorChecks.Kind;
import io.refractium.protocols.Samples;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.Transport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The QUIC detector on Initial packets built per RFC 9001: whole, in datagrams, out of order, broken. */
class QuicDetectorTest {

    private final QuicDetector detector = new QuicDetector();

    /** Runs the detector on the concatenated datagrams, on every kind of buffer, and checks it answers the same. */
    private DetectionResult detectFlight(List<byte[]> datagrams, boolean complete) {
        byte[] bytes = Samples.concat(datagrams.toArray(new byte[0][]));
        return assertSameOnEveryBuffer(detector, bytes, udp(ends(datagrams), complete));
    }

    @Test
    void aClientHelloInOnePacket() {
        byte[] hello = quicHello("q.example", "h3").handshake();
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, hello.length, 1, 1, null);
        assertThat(datagrams).hasSize(1);
        assertThat(datagrams.get(0).length).isEqualTo(1200);
        DetectionResult r = detectFlight(datagrams, false);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("q.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3"));
        assertThat(r.attributes().get(AttributeKey.TLS_VERSION)).isEqualTo("TLSv1.3");
        assertThat(r.attributes().get(QuicDetector.VERSION)).isEqualTo("1");
        assertThat(r.attributes().get(QuicDetector.DCID)).isEqualTo("0011223344556677");
        // a context that tells no datagrams: the buffer is one datagram
        assertSameResult(assertSameOnEveryBuffer(detector, datagrams.get(0), UDP), r);
    }

    @Test
    void aPostQuantumClientHelloOverSeveralDatagramsMatchesOnTheLastOne() {
        byte[] hello = postQuantumHello("pq.example", "h3", "h3-29");
        assertThat(hello.length).isGreaterThan(1500);
        for (int version : new int[] {InitialKeys.VERSION_1, InitialKeys.VERSION_2}) {
            List<byte[]> datagrams = flight(version, hello, 700, 1, 1, null);
            assertThat(datagrams).hasSizeGreaterThanOrEqualTo(3);
            for (int k = 1; k < datagrams.size(); k++) {
                assertThat(detectFlight(datagrams.subList(0, k), false).status()).as("%d datagrams", k)
                        .isEqualTo(Status.NEED_MORE);
            }
            DetectionResult r = detectFlight(datagrams, false);
            assertThat(r.status()).isEqualTo(Status.MATCH);
            assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("pq.example");
            assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3", "h3-29"));
            assertThat(r.attributes().get(AttributeKey.TLS_ECH)).isEqualTo("true");
            assertThat(r.attributes().get(AttributeKey.TLS_ECH_PUBLIC_NAME)).isEqualTo("pq.example");
            assertThat(r.attributes().get(QuicDetector.VERSION))
                    .isEqualTo(version == InitialKeys.VERSION_2 ? "2" : "1");
        }
    }

    @Test
    void severalInitialPacketsCoalescedInOneDatagram() {
        byte[] hello = postQuantumHello("pq.example", "h3");
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, 600, 1, 4, null);
        assertThat(datagrams).hasSize(1);
        DetectionResult r = detectFlight(datagrams, false);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("pq.example");
    }

    @Test
    void framesPacketsAndDatagramsInAnyOrderAndCut() {
        Random random = new Random(0x9001);
        byte[] hello = postQuantumHello("r.example", "h3");
        for (int it = 0; it < 60; it++) {
            // at least 60 bytes a frame: at most 32 datagrams, the most the detector reads
            int frameSize = 60 + random.nextInt(1100);
            int framesPerPacket = 1 + random.nextInt(frameSize < 100 ? 12 : 2);
            int packetsPerDatagram = 1 + random.nextInt(3);
            int version = random.nextBoolean() ? InitialKeys.VERSION_1 : InitialKeys.VERSION_2;
            List<byte[]> datagrams = new ArrayList<>(flight(version, hello, frameSize, framesPerPacket,
                    packetsPerDatagram, random));
            if (random.nextBoolean()) {
                // network reordering: the first datagram stays first, the engine's flow begins with it
                Collections.shuffle(datagrams.subList(1, datagrams.size()), random);
            }
            String where = "iteration " + it + ": frames of " + frameSize + ", " + framesPerPacket + " a packet, "
                    + packetsPerDatagram + " packets a datagram, " + datagrams.size() + " datagrams";
            DetectionResult r = detectFlight(datagrams, false);
            if (r.status() == Status.NO_MATCH) {
                // the first frames may be ones the hello's start is not in: the first datagram must still be QUIC
                throw new AssertionError(where + ": " + r);
            }
            assertThat(r.status()).as(where).isEqualTo(Status.MATCH);
            assertThat(r.attributes().get(AttributeKey.SNI)).as(where).isEqualTo("r.example");
            assertThat(r.attributes().get(AttributeKey.ALPN)).as(where).isEqualTo(List.of("h3"));
            // one datagram less (not the first): a gap, or the end missing
            if (datagrams.size() > 1) {
                List<byte[]> fewer = new ArrayList<>(datagrams);
                fewer.remove(1 + random.nextInt(datagrams.size() - 1));
                assertThat(detectFlight(fewer, false).status()).as(where + ", one missing")
                        .isEqualTo(Status.NEED_MORE);
            }
        }
    }

    @Test
    void aGapOnTheLastCallParsesTheHelloUpToTheGap() {
        byte[] hello = postQuantumHello("pq.example", "h3");
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, 700, 1, 1, null);
        // the first 700 bytes hold the server name and ALPN; the cut is in the key share
        DetectionResult r = detectFlight(datagrams.subList(0, 1), true);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("pq.example");
        assertThat(r.attributes().get(AttributeKey.ALPN)).isEqualTo(List.of("h3"));
        // a hello whose server name is cut does not match
        List<byte[]> tiny = flight(InitialKeys.VERSION_1, hello, 60, 1, 1, null);
        assertThat(detectFlight(tiny.subList(0, 1), true).status()).isEqualTo(Status.NO_MATCH);
        assertThat(detectFlight(tiny.subList(0, 1), false).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void aHelloLongerThanTheReassemblyCapMatchesOnWhatItHolds() {
        byte[] big = new byte[20_000];
        byte[] hello = quicHello("big.example", "h3").extension(0x0015, big).handshake();
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, 1100, 1, 1, null);
        int needed = (QuicDetector.MAX_CRYPTO_BYTES + 1099) / 1100;
        assertThat(detectFlight(datagrams.subList(0, needed - 1), false).status()).isEqualTo(Status.NEED_MORE);
        DetectionResult r = detectFlight(datagrams.subList(0, needed), false);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("big.example");
        assertSameResult(detectFlight(datagrams, false), r);
    }

    @Test
    void framesAndDatagramsBeyondTheCapsAreNotRead() {
        byte[] hello = quicHello("q.example", "h3").extension(0x0015, new byte[300]).handshake();
        // one byte a frame: more frames than the detector keeps, so the end of the hello is missing
        List<byte[]> tiny = flight(InitialKeys.VERSION_1, hello, 1, hello.length, 1, null);
        assertThat(tiny).hasSize(1);
        assertThat(hello.length).isGreaterThan(QuicDetector.MAX_CRYPTO_FRAMES);
        assertThat(detectFlight(tiny, false).status()).isEqualTo(Status.NEED_MORE);
        // the cut falls after the server name and ALPN: on the last call the hello matches with them
        DetectionResult last = detectFlight(tiny, true);
        assertThat(last.attributes().get(AttributeKey.SNI)).isEqualTo("q.example");
        // the last part of the hello in a datagram after the 32nd
        byte[] pq = postQuantumHello("pq.example", "h3");
        List<byte[]> many = new ArrayList<>(flight(InitialKeys.VERSION_1, pq, pq.length - 10, 1, 1, null));
        byte[] filler = many.get(0);
        List<byte[]> flow = new ArrayList<>();
        flow.add(filler);
        for (int i = 1; i < QuicDetector.MAX_DATAGRAMS; i++) {
            flow.add(filler);
        }
        flow.add(many.get(1));
        assertThat(detectFlight(flow, false).status()).isEqualTo(Status.NEED_MORE);
        flow.remove(1);
        assertThat(detectFlight(flow, false).status()).isEqualTo(Status.MATCH);
    }

    @Test
    void coalescedZeroRttAndOtherConnectionsAreSteppedOver() {
        byte[] hello = postQuantumHello("pq.example", "h3");
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, 1000, 1, 1, null);
        // a 0-RTT packet (type 1) after the Initial in the first datagram
        byte[] zeroRtt = Samples.concat(new byte[] {(byte) 0xd1, 0, 0, 0, 1, 8}, DCID, new byte[] {4}, SCID,
                new byte[] {0x40, 30}, new byte[30]);
        // an Initial of another connection at the start of an extra datagram, with the missing part
        byte[] other = initial(InitialKeys.VERSION_1, Samples.hex("ffeeddccbbaa9988"), SCID, new byte[0], 0,
                crypto(hello, 1000, hello.length - 1000), 1200);
        List<byte[]> flow = List.of(Samples.concat(datagrams.get(0), zeroRtt), other);
        assertThat(detectFlight(flow, false).status()).isEqualTo(Status.NEED_MORE);
        List<byte[]> withRest = List.of(flow.get(0), other, datagrams.get(1));
        assertThat(detectFlight(withRest, false).attributes().get(AttributeKey.SNI)).isEqualTo("pq.example");
    }

    @Test
    void aLaterDatagramShorterThan1200BytesOrUndecryptableIsSkipped() {
        byte[] hello = postQuantumHello("pq.example", "h3");
        List<byte[]> datagrams = flight(InitialKeys.VERSION_1, hello, 1000, 1, 1, null);
        byte[] second = datagrams.get(1);
        byte[] shortSecond = initial(InitialKeys.VERSION_1, DCID, SCID, new byte[0], 1,
                crypto(hello, 1000, hello.length - 1000), 0);
        assertThat(shortSecond.length).isLessThan(1200);
        assertThat(detectFlight(List.of(datagrams.get(0), shortSecond), false).status())
                .isEqualTo(Status.NEED_MORE);
        byte[] broken = second.clone();
        broken[broken.length - 1] ^= 1;
        assertThat(detectFlight(List.of(datagrams.get(0), broken), false).status()).isEqualTo(Status.NEED_MORE);
        assertThat(detectFlight(List.of(datagrams.get(0), broken, second), false).status())
                .isEqualTo(Status.MATCH);
    }

    @Test
    void firstDatagramsThatAreNotAClientInitialDoNotMatch() {
        byte[] rfc = Samples.captured("quic-rfc9001-client-initial");
        assertNoMatch(Arrays.copyOf(rfc, 1199), "a datagram shorter than 1200 bytes");
        assertNoMatch(new byte[1200], "zeros");
        byte[] b = rfc.clone();
        b[0] = 0x40;
        assertNoMatch(b, "a short header");
        b = rfc.clone();
        b[4] = 2;
        assertNoMatch(b, "version 2 in a v1 packet's layout");
        b = rfc.clone();
        b[1] = (byte) 0xff;
        b[4] = 0x1d;
        assertNoMatch(b, "draft 29");
        b = rfc.clone();
        b[1] = 0;
        b[4] = 0;
        assertNoMatch(b, "version negotiation");
        b = rfc.clone();
        b[0] = (byte) 0xe0;
        assertNoMatch(b, "a Handshake packet");
        b = rfc.clone();
        b[0] = (byte) 0xd0;
        assertNoMatch(b, "a 0-RTT packet");
        b = rfc.clone();
        b[6] ^= 1;
        assertNoMatch(b, "another DCID: other keys");
        b = rfc.clone();
        b[600] ^= 1;
        assertNoMatch(b, "a ciphertext byte changed: the tag fails");
        b = rfc.clone();
        b[1199] ^= 1;
        assertNoMatch(b, "a tag byte changed");
        b = rfc.clone();
        b[5] = 4;
        assertNoMatch(b, "a DCID of 4 bytes");
        b = rfc.clone();
        b[5] = 21;
        assertNoMatch(b, "a DCID of 21 bytes");
        byte[] hello = quicHello("q.example", "h3").handshake();
        assertNoMatch(initial(InitialKeys.VERSION_1, DCID, SCID, new byte[0], 0, Samples.concat(
                crypto(hello, 0, hello.length), new byte[] {0x1c, 0x0a, 0x00, 0x00}), 1200),
                "a CONNECTION_CLOSE frame");
        assertNoMatch(initial(InitialKeys.VERSION_1, DCID, SCID, new byte[0], 0, Samples.concat(
                new byte[] {0x08, 0x00}, crypto(hello, 0, hello.length)), 1200), "a STREAM frame");
        byte[] serverHello = hello.clone();
        serverHello[0] = 2;
        assertNoMatch(initial(InitialKeys.VERSION_1, DCID, SCID, new byte[0], 0,
                crypto(serverHello, 0, serverHello.length), 1200), "a ServerHello");
        byte[] noSni = quicHello("q.example", "h3").handshake();
        noSni[55] ^= 0x40; // the server_name list's length no longer fits the extension
        assertNoMatch(initial(InitialKeys.VERSION_1, DCID, SCID, new byte[0], 0, crypto(noSni, 0, noSni.length),
                1200), "a malformed ClientHello");
        // the answer for bytes that are QUIC, just not a client's first flight, over TCP too
        assertThat(detect(detector, rfc, DetectorChecks.TCP).status()).isEqualTo(Status.MATCH);
    }

    private static void assertSameResult(DetectionResult actual, DetectionResult expected) {
        assertThat(actual.status()).isEqualTo(expected.status());
        assertThat(actual.attributes()).isEqualTo(expected.attributes());
    }

    private void assertNoMatch(byte[] datagram, String what) {
        assertThat(assertSameOnEveryBuffer(detector, datagram, UDP).status()).as(what).isEqualTo(Status.NO_MATCH);
        assertThat(assertSameOnEveryBuffer(detector, datagram, udp(new int[] {datagram.length}, false)).status())
                .as(what + ", more datagrams may come").isEqualTo(Status.NO_MATCH);
    }

    @Test
    void aTokenAndAnAckFrameAreAccepted() {
        byte[] hello = quicHello("q.example", "h3").handshake();
        byte[] frames = Samples.concat(new byte[] {0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01},
                crypto(hello, 0, hello.length), new byte[] {0x01, 0x00, 0x00});
        byte[] packet = initial(InitialKeys.VERSION_2, DCID, new byte[0], new byte[40], 7, frames, 1200);
        DetectionResult r = assertSameOnEveryBuffer(detector, packet, UDP);
        assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("q.example");
        assertThat(r.attributes().get(QuicDetector.VERSION)).isEqualTo("2");
    }

    @Test
    void otherProtocolsCostAFewHeaderBytes() {
        byte[] dns = Samples.dnsQuery("example.com", 1, true);
        byte[] zeros = new byte[1300];
        byte[] notInitial = Samples.captured("quic-rfc9001-client-initial");
        notInitial[0] = (byte) 0xe0;
        for (byte[] bytes : List.of(dns, zeros, notInitial)) {
            CountingByteBuf buf = new CountingByteBuf(bytes);
            try {
                buf.writerIndex(bytes.length);
                assertThat(detector.detect(buf, UDP).status()).isEqualTo(Status.NO_MATCH);
                assertThat(buf.bytesRead()).isLessThanOrEqualTo(6);
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void mutatedInitialsNeverThrowAndNeverMatchOtherwise() {
        Random random = new Random(0x9369);
        byte[][] samples = {Samples.captured("quic-rfc9001-client-initial"),
            Samples.captured("quic-rfc9369-client-initial")};
        DetectionContext udp = DetectorChecks.context(Transport.UDP, true);
        int matches = 0;
        for (int it = 0; it < 2000; it++) {
            byte[] b = samples[it & 1].clone();
            int changes = 1 + random.nextInt(3);
            for (int c = 0; c < changes; c++) {
                // most changes in the header, where the parsing is
                int at = random.nextInt(random.nextBoolean() ? 64 : b.length);
                b[at] = (byte) random.nextInt(256);
            }
            DetectionResult r = detect(detector, b, 0, b.length, udp, Kind.values()[it % 4], it % 3);
            if (r.isMatch()) {
                matches++;
                // only changes that leave the packet as it was, or in bits that header protection covers
                assertThat(r.attributes().get(AttributeKey.SNI)).isEqualTo("example.com");
            }
        }
        assertThat(matches).isLessThan(2000);
    }
}
