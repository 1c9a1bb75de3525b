package io.refractium.protocols.xmpp;

import static io.refractium.protocols.DetectorChecks.TCP;
import static io.refractium.protocols.DetectorChecks.TCP_LAST_CALL;
import static io.refractium.protocols.DetectorChecks.assertDecidesAt;
import static io.refractium.protocols.DetectorChecks.assertRandomSplits;
import static io.refractium.protocols.DetectorChecks.assertSameOnEveryBuffer;
import static io.refractium.protocols.DetectorChecks.detect;
import static io.refractium.protocols.Samples.ascii;
import static io.refractium.protocols.Samples.captured;
import static io.refractium.protocols.Samples.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.Samples;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.ProtocolAttributes;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class XmppDetectorTest {

    private final XmppDetector detector = new XmppDetector();

    private static int tagEnd(byte[] b) {
        int stream = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("<stream");
        for (int i = stream; i < b.length; i++) {
            if (b[i] == '>') {
                return i + 1;
            }
        }
        throw new AssertionError("no tag");
    }

    private static ProtocolAttributes attributes(String to, String namespace) {
        ProtocolAttributes.Builder a = ProtocolAttributes.builder();
        if (to != null) {
            a.put(XmppDetector.TO, to);
        }
        if (namespace != null) {
            a.put(XmppDetector.NAMESPACE, namespace);
        }
        return a.build();
    }

    @Test
    void goSendxmppStreamHeaderMatchesAtItsEnd() {
        byte[] b = captured("xmpp");
        int decisive = tagEnd(b);
        assertThat(decisive).isEqualTo(b.length - 1);
        DetectionResult r = assertDecidesAt(detector, b, decisive, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes("example.test", "jabber:client"));
        assertRandomSplits(detector, b, decisive, r, TCP, 23, 50);
        assertThat(assertSameOnEveryBuffer(detector, b, TCP).attributes()).isEqualTo(r.attributes());
    }

    static Stream<Arguments> headers() {
        return Stream.of(
                // a server (RFC 6120 §4.7), double quotes, white space around '=', a byte order mark
                Arguments.of("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<stream:stream\n from=\"a.example\" "
                        + "to = \"B.example\" version=\"1.0\" xmlns=\"jabber:server\" "
                        + "xmlns:stream=\"http://etherx.jabber.org/streams\">", "B.example", "jabber:server"),
                // a component (XEP-0114), no declaration
                Arguments.of("<stream:stream xmlns='jabber:component:accept' "
                        + "xmlns:stream='http://etherx.jabber.org/streams' to='plays.shakespeare.lit'>",
                        "plays.shakespeare.lit", "jabber:component:accept"),
                // no 'to'
                Arguments.of("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' "
                        + "version='1.0'>", null, "jabber:client"),
                // the streams namespace as the default one
                Arguments.of("<?xml version='1.0'?><stream xmlns='http://etherx.jabber.org/streams' to='example.net' "
                        + "version='1.0'>", "example.net", null));
    }

    @ParameterizedTest
    @MethodSource("headers")
    void otherStreamHeadersMatch(String header, String to, String namespace) {
        byte[] b = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] more = Samples.concat(b, ascii("<stream:features/>"));
        DetectionResult r = assertDecidesAt(detector, more, b.length, Status.MATCH, TCP);
        assertThat(r.attributes()).isEqualTo(attributes(to, namespace));
    }

    @Test
    void mismatchesAtTheFirstBadByte() {
        assertDecidesAt(detector, ascii(" <stream:stream"), 1, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, hex("efbbbe"), 3, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<?xmL "), 5, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<?xml?>"), 6, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<?xml version='1.0'>"), 20, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<?xml version='1.0'?>x"), 22, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<?xml " + "a".repeat(200)), 128, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<html>"), 2, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<streams"), 8, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream:streamx"), 15, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream:stream to='a'/>"), 22, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream:stream to='a'from='b'"), 22, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream:stream to=a"), 19, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream:stream to='<'"), 20, Status.NO_MATCH, TCP);
        // Without the streams namespace.
        assertDecidesAt(detector, ascii("<stream:stream to='a' xmlns='jabber:client'>"), 44, Status.NO_MATCH, TCP);
        assertDecidesAt(detector, ascii("<stream xmlns='jabber:client' to='a'>"), 37, Status.NO_MATCH, TCP);
        // A header longer than the most bytes read.
        byte[] tooLong = ascii("<stream:stream id='" + "x".repeat(XmppDetector.MAX_BYTES) + "'>");
        assertDecidesAt(detector, tooLong, XmppDetector.MAX_BYTES, Status.NO_MATCH, TCP);
        assertThat(detect(detector, new byte[0]).status()).isEqualTo(Status.NEED_MORE);
    }

    @Test
    void onTheLastCallTheAttributesSoFarAreEnough() {
        byte[] b = captured("xmpp");
        int cut = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(" xmlns=");
        assertThat(detect(detector, Arrays.copyOf(b, cut + 5), TCP_LAST_CALL).attributes())
                .isEqualTo(attributes("example.test", null));
        // Not before the element name, and not for the prefix-less form.
        assertThat(detect(detector, Arrays.copyOf(b, 30), TCP_LAST_CALL).status()).isEqualTo(Status.NEED_MORE);
        assertThat(detect(detector, ascii("<stream xmlns='http://etherx.jabber.org/streams'"), TCP_LAST_CALL)
                .status()).isEqualTo(Status.NEED_MORE);
    }
}
