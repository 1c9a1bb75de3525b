package io.refractium.internal.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.hook.DetectionReport.DetectorVerdict;
import io.refractium.hook.DetectionReport.Outcome;
import io.refractium.hook.DetectionReport.Verdict;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import io.refractium.testing.PrefixProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What the session records for the detection report: each detector's last verdict and its byte count. */
class DetectionReportTest {

    private static final InetSocketAddress ADDRESS = new InetSocketAddress("127.0.0.1", 1);

    @Test
    void theReportNamesEachDetectorsLastVerdictAndTheBytesItHadSeen() {
        DetectionSession session = session(new PrefixProtocol("slow", "ALPHABET", 10, false),
                new PrefixProtocol("other", "XY", 5, false), new PrefixProtocol("quick", "AL", 0, false),
                new PrefixProtocol("last", "ALQ", -10, false));
        ByteBuf buf = Unpooled.buffer();
        try {
            for (char c : "ALP".toCharArray()) {
                buf.writeByte(c);
                assertThat(session.update(buf, 1024, false, false)).isFalse();
            }
            assertThat(session.report()).as("nothing before the decision").isNull();
            assertThat(session.update(buf, 1024, false, true)).isTrue();
            session.decided(Outcome.ROUTED, 3, Duration.ofMillis(5).toNanos());
            DetectionReport r = session.report();
            assertThat(r.protocol()).isEqualTo("quick");
            assertThat(r.outcome()).isEqualTo(Outcome.ROUTED);
            assertThat(r.isFallback()).isFalse();
            assertThat(r.peekedBytes()).isEqualTo(3);
            assertThat(r.elapsed()).isEqualTo(Duration.ofMillis(5));
            assertThat(r.verdicts()).containsExactly(
                    new DetectorVerdict("slow", Verdict.DROPPED_AT_DEADLINE, 3),
                    new DetectorVerdict("other", Verdict.NO_MATCH, 1),
                    new DetectorVerdict("quick", Verdict.MATCH, 2),
                    new DetectorVerdict("last", Verdict.NEED_MORE, 1));
            assertThat(session.report()).as("built once").isSameAs(r);
            assertThat(r.toString()).startsWith("quick ROUTED after 3 bytes in 5.0ms [slow:DROPPED_AT_DEADLINE@3");
        } finally {
            buf.release();
        }
    }

    @Test
    void atThePeekCapUndecidedDetectorsAreDroppedAndTheReasonIsTheCap() {
        DetectionSession session = session(new PrefixProtocol("slow", "ALPHABET", 10, false),
                new PrefixProtocol("beta", "B", 0, false));
        ByteBuf buf = Unpooled.copiedBuffer("ALPH", StandardCharsets.US_ASCII);
        try {
            assertThat(session.update(buf, 4, false, false)).isTrue();
            assertThat(session.failure()).isEqualTo(DetectionFailure.TOO_MANY_BYTES);
            session.decided(Outcome.of(session.failure()), 4, 1000);
            DetectionReport r = session.report();
            assertThat(r.protocol()).isNull();
            assertThat(r.outcome()).isEqualTo(Outcome.TOO_MANY_BYTES);
            assertThat(r.isFallback()).isTrue();
            assertThat(r.verdict("slow")).isEqualTo(new DetectorVerdict("slow", Verdict.DROPPED_AT_CAP, 4));
            assertThat(r.verdict("beta").verdict()).isEqualTo(Verdict.NO_MATCH);
            assertThat(r.verdict("nope")).isNull();
        } finally {
            buf.release();
        }
    }

    @Test
    void aDetectorThatThrowsIsAnErrorAndTheClientsEndDropsTheWaitingOnes() {
        RefractiumProtocol broken = new RefractiumProtocol() {
            @Override
            public String id() {
                return "broken";
            }

            @Override
            public int maxBytes() {
                return 64;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                throw new IllegalStateException("boom");
            }
        };
        DetectionSession session = session(broken, new PrefixProtocol("slow", "ALPHABET", 0, false));
        ByteBuf buf = Unpooled.copiedBuffer("ALP", StandardCharsets.US_ASCII);
        try {
            assertThat(session.update(buf, 1024, true, false)).isTrue();
            session.decided(Outcome.of(session.failure()), 3, 0);
            assertThat(session.report().outcome()).isEqualTo(Outcome.NO_MATCH);
            assertThat(session.report().verdicts()).containsExactly(new DetectorVerdict("broken", Verdict.ERROR, 3),
                    new DetectorVerdict("slow", Verdict.DROPPED_AT_END, 3));
        } finally {
            buf.release();
        }
    }

    @Test
    void aSilentClientLeavesEveryDetectorNotAsked() {
        DetectionSession session = session(new PrefixProtocol("a", "A"), new PrefixProtocol("b", "B"));
        session.fail(DetectionFailure.SILENCE);
        session.decided(Outcome.of(DetectionFailure.SILENCE), 0, Duration.ofSeconds(2).toNanos());
        assertThat(session.report().verdicts()).extracting(DetectorVerdict::verdict)
                .containsExactly(Verdict.NOT_ASKED, Verdict.NOT_ASKED);
        assertThat(session.report().outcome()).isEqualTo(Outcome.SILENCE);
        assertThat(session.report().toString()).isEqualTo("- SILENCE after 0 bytes in 2000ms [a:NOT_ASKED, b:NOT_ASKED]");
    }

    private static DetectionSession session(RefractiumProtocol... candidates) {
        return new DetectionSession(candidates, Transport.TCP, ADDRESS, ADDRESS, "test");
    }
}
