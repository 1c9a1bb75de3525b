package io.refractium.protocols.postgres;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.context;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.captured;
import static io.refractium.protocols.Samples.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import io.refractium.spi.Transport;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PostgresDetectorTest {

    private final PostgresDetector detector = new PostgresDetector();

    /** The StartupMessage of psql 15.18 (see samples/pg.hex). */
    static final byte[] PSQL = captured("pg");
    /** The SSLRequest of psql 15.18 (see samples/pgssl.hex). */
    static final byte[] PSQL_SSL = captured("pgssl");
    /** Hand-built from the spec: libpq sends it only with a Kerberos credential cache. */
    static final byte[] GSSENC = hex("00000008 04d21630");
    /** Hand-built from the spec: a CancelRequest for process 1234, secret key 0x01020304. */
    static final byte[] CANCEL = hex("00000010 04d2162e 000004d2 01020304");

    /** Returns a StartupMessage with protocol 3.0 and the parameters, names and values alternating. */
    static byte[] startup(String... parameters) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String p : parameters) {
            body.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        }
        body.write(0);
        int length = 8 + body.size();
        return Samples.concat(new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8),
            (byte) length, 0, 3, 0, 0}, body.toByteArray());
    }

    @Test
    void describesItself() {
        assertThat(detector.id()).isEqualTo("postgres");
        assertThat(detector.maxBytes()).isEqualTo(10000);
    }

    @Test
    void psqlStartupMatchesOnItsLastByteWithUserDatabaseAndApplication() {
        DetectionResult r = assertDecidesAt(detector, PSQL, PSQL.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder()
                .put(PostgresDetector.REQUEST, "startup")
                .put(PostgresDetector.USER, "alice")
                .put(PostgresDetector.DATABASE, "shop")
                .put(PostgresDetector.APPLICATION_NAME, "refractium-test")
                .build());
        assertRandomSplits(detector, PSQL, PSQL.length, r, TCP, 1, 300);
        assertThat(assertSameOnEveryBuffer(detector, PSQL, TCP).attributes()).isEqualTo(r.attributes());
    }

    @Test
    void sslGssencAndCancelRequests() {
        assertThat(assertDecidesAt(detector, PSQL_SSL, 8, Status.MATCH, TCP).attributes().get(PostgresDetector.REQUEST))
                .isEqualTo("ssl");
        assertThat(assertDecidesAt(detector, GSSENC, 8, Status.MATCH, TCP).attributes().get(PostgresDetector.REQUEST))
                .isEqualTo("gssenc");
        DetectionResult cancel = assertDecidesAt(detector, CANCEL, 16, Status.MATCH, TCP);
        assertThat(cancel.attributes().get(PostgresDetector.REQUEST)).isEqualTo("cancel");
        assertRandomSplits(detector, CANCEL, 16, cancel, TCP, 2, 100);
        // An SSLRequest followed by nothing else: the TLS handshake comes after the server's 'S'.
        assertRandomSplits(detector, PSQL_SSL, 8, assertSameOnEveryBuffer(detector, PSQL_SSL, TCP), TCP, 3, 50);
    }

    @Test
    void startupWithoutDatabaseAndWithUtf8Values() {
        byte[] m = startup("user", "jos\u00e9", "client_encoding", "UTF8", "_pq_.x", "y");
        DetectionResult r = assertDecidesAt(detector, m, m.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder()
                .put(PostgresDetector.REQUEST, "startup").put(PostgresDetector.USER, "jos\u00e9").build());
    }

    @Test
    void firstByteMismatch() {
        assertDecidesAt(detector, hex("01000008 04d2162f"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII), 1, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void badLengthOrCodeFailsOnTheWrongByte() {
        assertDecidesAt(detector, hex("00010000 00030000"), 2, Status.NO_MATCH, TCP);      // longer than 10000
        assertDecidesAt(detector, hex("00002711 00030000"), 4, Status.NO_MATCH, TCP);      // 10001
        assertDecidesAt(detector, hex("00000007 04d2162f"), 4, Status.NO_MATCH, TCP);      // too short
        assertDecidesAt(detector, hex("00000008 04d21631"), 8, Status.NO_MATCH, TCP);      // unknown code
        assertDecidesAt(detector, hex("00000008 00030000"), 5, Status.NO_MATCH, TCP);      // startup of 8 bytes
        assertDecidesAt(detector, hex("00000010 04d2162f 00000000 00000000"), 8, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("00000020 00020000 75736572 00610000"), 6, Status.NO_MATCH, TCP); // 2.0
    }

    @Test
    void badParameters() {
        byte[] m = startup("user", "a");
        m[9] = ' ';                                                  // a space in a name
        assertDecidesAt(detector, m, 10, Status.NO_MATCH, TCP);
        byte[] noUser = startup("database", "shop");
        assertDecidesAt(detector, noUser, noUser.length, Status.NO_MATCH, TCP);
        byte[] shortLength = startup("user", "alice", "database", "shop");
        shortLength[3] -= 2;                                          // the terminator falls inside a value
        assertThat(detect(detector, shortLength).status()).isEqualTo(Status.NO_MATCH);
        byte[] longLength = startup("user", "alice");
        longLength[3] += 1;                                           // a NUL before the end
        assertThat(detect(detector, Samples.concat(longLength, new byte[] {0})).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void lastCallMatchesOnAValidHeaderWithTheWholeParameters() {
        byte[] m = startup("user", "alice", "options", "x".repeat(100));
        DetectionContext last = new DetectionContext() {
            @Override
            public Transport transport() {
                return Transport.TCP;
            }

            @Override
            public java.net.SocketAddress remoteAddress() {
                return context(Transport.TCP, false).remoteAddress();
            }

            @Override
            public java.net.SocketAddress localAddress() {
                return context(Transport.TCP, false).localAddress();
            }

            @Override
            public boolean isInputComplete() {
                return false;
            }

            @Override
            public boolean isLastCall() {
                return true;
            }
        };
        byte[] cut = java.util.Arrays.copyOf(m, 40);
        assertThat(detect(detector, cut, TCP).status()).isEqualTo(Status.NEED_MORE);
        DetectionResult r = detect(detector, cut, last);
        assertThat(r.attributes()).isEqualTo(ProtocolAttributes.builder()
                .put(PostgresDetector.REQUEST, "startup").put(PostgresDetector.USER, "alice").build());
        assertThat(detect(detector, java.util.Arrays.copyOf(m, 6), last).status()).isEqualTo(Status.NEED_MORE);
    }
}
