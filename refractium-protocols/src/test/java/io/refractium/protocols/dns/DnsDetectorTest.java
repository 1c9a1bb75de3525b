package io.refractium.protocols.dns;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_COMPLETE;
import static io.refractium.protocols.DetectorChecks.UDP;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.concat;
import static io.refractium.protocols.Samples.dnsName;
import static io.refractium.protocols.Samples.dnsQuery;
import static io.refractium.protocols.Samples.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.DetectorChecks;
import io.refractium.protocols.Samples;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.Transport;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DnsDetectorTest {

    private static final int A = 1;
    private static final int SOA = 6;

    private final DnsDetector detector = new DnsDetector();

    private static ProtocolAttributes qname(String name) {
        return ProtocolAttributes.builder().put(DnsDetector.QNAME, name).build();
    }

    private static byte[] header(int flags, int qd, int an, int ns, int ar) {
        return new byte[] {0x12, 0x34, (byte) (flags >>> 8), (byte) flags, (byte) (qd >>> 8), (byte) qd,
            (byte) (an >>> 8), (byte) an, (byte) (ns >>> 8), (byte) ns, (byte) (ar >>> 8), (byte) ar};
    }

    private static byte[] question(String name, int type, int qclass) {
        return concat(dnsName(name), new byte[] {(byte) (type >>> 8), (byte) type, (byte) (qclass >>> 8), (byte) qclass});
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("dns");
        assertThat(detector.priority()).isEqualTo(-10);
        assertThat(detector.transports()).containsExactlyInAnyOrder(Transport.TCP, Transport.UDP);
        assertThat(detector.maxBytes()).isEqualTo(65537);
        assertThat(DnsDetector.QNAME.name()).isEqualTo("dns.qname");
    }

    @Test
    void tcpQueryMatchesOnItsLastByte() {
        byte[] query = tcp(dnsQuery("example.com", A, false));
        DetectionResult r = assertDecidesAt(detector, query, query.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(qname("example.com"));
    }

    @Test
    void tcpQueryWithEdns() {
        byte[] query = tcp(dnsQuery("Example.COM", 28, true));
        DetectionResult r = assertDecidesAt(detector, query, query.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(qname("example.com"));
        assertRandomSplits(detector, query, query.length, r, TCP, 17, 300);
        assertThat(assertSameOnEveryBuffer(detector, query, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void pipelinedQueriesMatchOnTheFirst() {
        byte[] first = tcp(dnsQuery("a.example", A, true));
        byte[] both = concat(first, tcp(dnsQuery("b.example", A, true)));
        DetectionResult r = assertDecidesAt(detector, both, first.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(qname("a.example"));
    }

    @Test
    void udpQuery() {
        DetectionResult r = assertSameOnEveryBuffer(detector, dnsQuery("example.com", A, true), UDP);
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes()).isEqualTo(qname("example.com"));
        assertThat(detect(detector, dnsQuery("example.com", A, false), UDP).attributes())
                .isEqualTo(qname("example.com"));
    }

    @Test
    void truncatedOrPaddedUdpQueryFails() {
        byte[] query = dnsQuery("example.com", A, true);
        for (int n = 0; n < query.length; n++) {
            assertThat(detect(detector, Arrays.copyOf(query, n), UDP).status()).as("%d bytes", n)
                    .isEqualTo(Status.NO_MATCH);
        }
        assertThat(detect(detector, Arrays.copyOf(query, query.length + 1), UDP).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void rootQuery() {
        byte[] query = tcp(dnsQuery("", 2, false));
        assertThat(query.length).isEqualTo(2 + 17);
        assertThat(detect(detector, query).attributes()).isEqualTo(qname("."));
    }

    @Test
    void unusualLabelBytesAreEscaped() {
        byte[] name = {3, 'a', '.', 'b', 2, 0x01, '\\', 3, 'c', 'O', 'm', 0};
        byte[] query = tcp(concat(header(0x0100, 1, 0, 0, 0), name, new byte[] {0, 1, 0, 1}));
        assertThat(detect(detector, query).attributes()).isEqualTo(qname("a\\.b.\\001\\\\.com"));
    }

    @Test
    void notifyAndUpdate() {
        // NOTIFY (RFC 1996): AA set, one SOA question, an SOA answer
        byte[] soaAnswer = {(byte) 0xc0, 12, 0, SOA, 0, 1, 0, 0, 0, 60, 0, 0};
        byte[] notify = tcp(concat(header(0x2400, 1, 1, 0, 0), question("example.com", SOA, 1), soaAnswer));
        DetectionResult r = assertDecidesAt(detector, notify, notify.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(qname("example.com"));
        // UPDATE (RFC 2136): the zone section is the question; prerequisites and updates follow
        byte[] update = tcp(concat(header(0x2800, 1, 0, 1, 0), question("example.com", SOA, 1),
                new byte[] {(byte) 0xc0, 12, 0, 1, 0, (byte) 255, 0, 0, 0, 0, 0, 0}));
        assertThat(detect(detector, update).attributes()).isEqualTo(qname("example.com"));
        byte[] updateNotSoa = tcp(concat(header(0x2800, 1, 0, 0, 0), question("example.com", A, 1)));
        assertThat(detect(detector, updateNotSoa).status()).isEqualTo(Status.NO_MATCH);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 255})
    void everyQueryClass(int qclass) {
        byte[] query = tcp(concat(header(0x0100, 1, 0, 0, 0), question("example.com", A, qclass)));
        assertThat(detect(detector, query).status()).isEqualTo(Status.MATCH);
    }

    @Test
    void lengthPrefixBelow17Fails() {
        assertDecidesAt(detector, new byte[] {0, 15, 0, 0}, 2, Status.NO_MATCH, TCP);
        // 16 bytes: only a DSO message can be so short
        assertDecidesAt(detector, new byte[] {0, 16, 0, 0, 1, 0}, 5, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[] {0}).status()).isEqualTo(Status.NEED_MORE);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void badHeadersFailOnTheirByte() {
        int flags = 4; // offset of the flags in a TCP query
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), flags, 0x81), flags + 1);        // QR
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), flags, 0x11), flags + 1);        // STATUS
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), flags + 1, 0x40), flags + 2);    // Z
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), flags + 1, 0x03), flags + 2);    // RCODE
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 7, 2), 8);                      // QDCOUNT 2
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 7, 0), 14);                     // QDCOUNT 0
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 6, 1), 7);                      // QDCOUNT 257
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 9, 1), 10);                     // ANCOUNT
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 11, 1), 29);                    // NSCOUNT, A
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 11, 2), 12);                    // NSCOUNT 2
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 13, 2), 31);                    // ARCOUNT 2
        assertNoMatchAt(patch(tcp(dnsQuery("example.com", A, false)), 13, 4), 14);                    // ARCOUNT 4
    }

    @Test
    void badQuestionsFail() {
        byte[] h = header(0x0100, 1, 0, 0, 0);
        // compression pointer in the question
        assertNoMatchAt(tcp(concat(h, new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1})), 2 + 12 + 1);
        // a 64-byte label
        byte[] label64 = concat(new byte[] {64}, new byte[64], new byte[] {0, 0, 1, 0, 1});
        assertNoMatchAt(tcp(concat(h, label64)), 2 + 12 + 1);
        // a name longer than 255 bytes
        String longName = String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(63));
        byte[] tooLong = tcp(concat(h, question(longName, A, 1)));
        assertThat(dnsName(longName).length).isEqualTo(257);
        assertNoMatchAt(tooLong, 2 + 12 + 3 * 64 + 1);
        // QTYPE 0, class CS (2), class 256
        assertNoMatchAt(tcp(concat(h, question("example.com", 0, 1))), 2 + 12 + 13 + 2);
        assertNoMatchAt(tcp(concat(h, question("example.com", A, 2))), 2 + 12 + 13 + 4);
        assertNoMatchAt(tcp(concat(h, question("example.com", A, 256))), 2 + 12 + 13 + 3);
        // the question runs past the length prefix
        byte[] cut = tcp(concat(h, question("example.com", A, 1)));
        cut[1] -= 3;
        assertNoMatchAt(Arrays.copyOf(cut, cut.length - 3), 2 + 12 + 13);
    }

    @Test
    void queryMustEndWithItsRecords() {
        // bytes after the question, within the length prefix
        byte[] trailing = tcp(concat(dnsQuery("example.com", A, false), new byte[] {0}));
        assertNoMatchAt(trailing, trailing.length - 1);
        // an OPT record whose data runs past the message
        byte[] query = dnsQuery("example.com", A, true);
        query[query.length - 13] = 13;
        assertThat(detect(detector, tcp(query)).status()).isEqualTo(Status.NO_MATCH);
        // an OPT record with an owner name
        byte[] named = tcp(concat(header(0x0100, 1, 0, 0, 1), question("example.com", A, 1),
                new byte[] {1, 'x', 0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 0}));
        assertThat(detect(detector, named).status()).isEqualTo(Status.NO_MATCH);
        // an OPT option that runs past the record
        byte[] option = tcp(concat(header(0x0100, 1, 0, 0, 1), question("example.com", A, 1),
                new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2}));
        assertThat(detect(detector, option).status()).isEqualTo(Status.NO_MATCH);
        // an additional record other than OPT (a TSIG-like record) with a pointer to the question name
        byte[] other = tcp(concat(header(0x0100, 1, 0, 0, 1), question("example.com", A, 1),
                new byte[] {(byte) 0xc0, 12, 0, (byte) 250, 0, (byte) 255, 0, 0, 0, 0, 0, 2, 1, 2}));
        assertThat(detect(detector, other).attributes()).isEqualTo(qname("example.com"));
        // a pointer forward, or into the header
        byte[] forward = other.clone();
        forward[2 + 12 + 17 + 1] = 40;
        assertThat(detect(detector, forward).status()).isEqualTo(Status.NO_MATCH);
        byte[] intoHeader = other.clone();
        intoHeader[2 + 12 + 17 + 1] = 4;
        assertThat(detect(detector, intoHeader).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void incompleteTcpQueryNeedsMoreEvenWhenInputIsComplete() {
        byte[] query = tcp(dnsQuery("example.com", A, true));
        assertThat(detect(detector, Arrays.copyOf(query, query.length - 1), TCP_COMPLETE).status())
                .isEqualTo(Status.NEED_MORE);
    }

    @Test
    void randomBytesBehindAPlausibleLengthNeverMatch() {
        DetectorChecks.assertNeverMatchesRandom(detector, TCP, new byte[] {0, 40}, 23, 10_000, 60);
        DetectorChecks.assertNeverMatchesRandom(detector, DetectorChecks.UDP, new byte[0], 29, 10_000, 512);
    }

    // ---------------------------------------------------------------- IXFR, TSIG, SIG(0), cookies, DSO

    private void assertMatchesEveryWay(byte[] message, ProtocolAttributes attributes, long seed) {
        DetectionResult r = assertDecidesAt(detector, message, message.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes);
        assertRandomSplits(detector, message, message.length, r, TCP, seed, 300);
        assertThat(assertSameOnEveryBuffer(detector, message, TCP).attributes()).isEqualTo(attributes);
    }

    @Test
    void ixfrWithAnSoaInAuthority() {
        assertMatchesEveryWay(Samples.DIG_IXFR, qname("example.com"), 41);
        // the same over UDP
        byte[] udp = Arrays.copyOfRange(Samples.DIG_IXFR, 2, Samples.DIG_IXFR.length);
        assertThat(detect(detector, udp, UDP).attributes()).isEqualTo(qname("example.com"));
        // an SOA with full names, and pointers into the question
        byte[] soa = concat(new byte[] {(byte) 0xc0, 12, 0, SOA, 0, 1, 0, 0, 0, 0, 0, 34},
                dnsName("ns.x"), new byte[] {5, 'a', 'd', 'm', 'i', 'n', (byte) 0xc0, 12}, new byte[20]);
        byte[] ixfr = tcp(concat(header(0x0000, 1, 0, 1, 0), question("example.com", 251, 1), soa));
        assertMatchesEveryWay(ixfr, qname("example.com"), 43);
    }

    @Test
    void badIxfrFails() {
        // an authority record in a query that is not an IXFR
        byte[] notIxfr = Samples.DIG_IXFR.clone();
        notIxfr[2 + 12 + 13 + 1] = 1;
        assertNoMatchAt(notIxfr, 2 + 12 + 13 + 2);
        // an authority record that is not an SOA
        byte[] notSoa = Samples.DIG_IXFR.clone();
        notSoa[2 + 12 + 17 + 3] = 2;
        assertThat(detect(detector, notSoa).status()).isEqualTo(Status.NO_MATCH);
        // SOA data one byte short, or a pointer forward in it
        byte[] shortSoa = Samples.DIG_IXFR.clone();
        shortSoa[2 + 12 + 17 + 11] = 21;
        assertThat(detect(detector, shortSoa).status()).isEqualTo(Status.NO_MATCH);
        byte[] forward = Samples.DIG_IXFR.clone();
        forward[2 + 12 + 17 + 12] = (byte) 0xc0;
        forward[2 + 12 + 17 + 13] = 80;
        assertThat(detect(detector, forward).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void tsigAndSig0AfterOpt() {
        assertMatchesEveryWay(Samples.DIG_TSIG, qname("example.com"), 47);
        assertMatchesEveryWay(Samples.sig0Query(), qname("example.com"), 53);
        // TSIG and SIG(0) have class ANY and TTL 0
        byte[] tsigIn = Samples.DIG_TSIG.clone();
        int tsigClass = 2 + 12 + 17 + 23 + 18 + 3;
        assertThat(tsigIn[tsigClass]).isEqualTo((byte) 255);
        tsigIn[tsigClass] = 1;
        assertThat(detect(detector, tsigIn).status()).isEqualTo(Status.NO_MATCH);
        byte[] sigTtl = Samples.sig0Query();
        sigTtl[2 + 12 + 17 + 11 + 8] = 1;
        assertThat(detect(detector, sigTtl).status()).isEqualTo(Status.NO_MATCH);
        // two OPT records
        byte[] opt = {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 0};
        byte[] twoOpts = tcp(concat(header(0x0100, 1, 0, 0, 2), question("example.com", A, 1), opt, opt));
        assertThat(detect(detector, twoOpts).status()).isEqualTo(Status.NO_MATCH);
        // fewer records than ARCOUNT says
        byte[] missing = tcp(concat(header(0x0100, 1, 0, 0, 3), question("example.com", A, 1), opt));
        assertThat(detect(detector, missing).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void serverCookieQueryWithoutQuestion() {
        assertMatchesEveryWay(Samples.DIG_COOKIE, ProtocolAttributes.EMPTY, 59);
        assertThat(detect(detector, Arrays.copyOfRange(Samples.DIG_COOKIE, 2, Samples.DIG_COOKIE.length), UDP).status())
                .isEqualTo(Status.MATCH);
        // a client and a server cookie
        byte[] both = tcp(concat(header(0x0120, 0, 0, 0, 1),
                new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 28, 0, 10, 0, 24}, new byte[24]));
        assertMatchesEveryWay(both, ProtocolAttributes.EMPTY, 61);
        // without the cookie option, with a cookie of a bad length, or with other records
        byte[] noCookie = tcp(concat(header(0x0120, 0, 0, 0, 1),
                new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 12, 0, 8, 0, 8}, new byte[8]));
        assertThat(detect(detector, noCookie).status()).isEqualTo(Status.NO_MATCH);
        byte[] badLength = tcp(concat(header(0x0120, 0, 0, 0, 1),
                new byte[] {0, 0, 41, 4, (byte) 0xd0, 0, 0, 0, 0, 0, 11, 0, 10, 0, 7}, new byte[7]));
        assertThat(detect(detector, badLength).status()).isEqualTo(Status.NO_MATCH);
        assertNoMatchAt(patch(Samples.DIG_COOKIE.clone(), 13, 2), 14);
        assertNoMatchAt(patch(Samples.DIG_COOKIE.clone(), 11, 1), 14);
    }

    @Test
    void dsoKeepalive() {
        assertMatchesEveryWay(Samples.DSO_KEEPALIVE, ProtocolAttributes.EMPTY, 67);
        // a primary TLV, then an additional one (encryption padding)
        byte[] padded = tcp(concat(header(0x3000, 0, 0, 0, 0), new byte[] {0, 1, 0, 8}, new byte[8],
                new byte[] {0, 3, 0, 16}, new byte[16]));
        assertMatchesEveryWay(padded, ProtocolAttributes.EMPTY, 71);
        // not over UDP
        byte[] udp = Arrays.copyOfRange(Samples.DSO_KEEPALIVE, 2, Samples.DSO_KEEPALIVE.length);
        assertThat(detect(detector, udp, UDP).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void badDsoFails() {
        assertNoMatchAt(patch(Samples.DSO_KEEPALIVE.clone(), 4, 0x31), 5);          // RD
        assertNoMatchAt(patch(Samples.DSO_KEEPALIVE.clone(), 5, 0x01), 6);          // RCODE
        assertNoMatchAt(patch(Samples.DSO_KEEPALIVE.clone(), 7, 1), 8);             // QDCOUNT
        assertNoMatchAt(patch(Samples.DSO_KEEPALIVE.clone(), 13, 1), 14);           // ARCOUNT
        assertNoMatchAt(patch(Samples.DSO_KEEPALIVE.clone(), 15, 0), 18);           // primary TLV type 0
        byte[] past = patch(Samples.DSO_KEEPALIVE.clone(), 17, 9);                  // TLV past the message
        assertThat(detect(detector, past).status()).isEqualTo(Status.NO_MATCH);
        byte[] shortTlv = tcp(concat(header(0x3000, 0, 0, 0, 0), new byte[] {0, 1, 0, 8}, new byte[8], new byte[2]));
        assertThat(detect(detector, shortTlv).status()).isEqualTo(Status.NO_MATCH);
    }

    private void assertNoMatchAt(byte[] bytes, int decisive) {
        assertDecidesAt(detector, bytes, decisive, Status.NO_MATCH, TCP);
    }

    private static byte[] patch(byte[] bytes, int index, int value) {
        bytes[index] = (byte) value;
        return bytes;
    }

    @Test
    void overUdpOnlyTheFirstDatagramIsTheMessage() {
        byte[] query = dnsQuery("example.com", A, true);
        byte[] two = concat(query, dnsQuery("other.example", A, false));
        DetectionResult r = assertSameOnEveryBuffer(detector, two,
                DetectorChecks.udp(new int[] {query.length, two.length}, false));
        assertThat(r.attributes()).isEqualTo(qname("example.com"));
        // a query cut in two datagrams is not a query
        int[] cut = {query.length - 5, query.length};
        assertThat(assertSameOnEveryBuffer(detector, query, DetectorChecks.udp(cut, false)).status())
                .isEqualTo(Status.NO_MATCH);
        // a first datagram that is not a query, then one that is
        byte[] after = concat(new byte[20], query);
        assertThat(assertSameOnEveryBuffer(detector, after, DetectorChecks.udp(new int[] {20, after.length}, false))
                .status()).isEqualTo(Status.NO_MATCH);
    }
}
