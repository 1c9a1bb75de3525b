package io.refractium.internal.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import io.refractium.testing.PrefixProtocol;
import io.refractium.testing.QuietProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The detection session alone: which detectors are asked, how often, and who wins. */
class DetectionSessionTest {

    private static final InetSocketAddress ADDRESS = new InetSocketAddress("127.0.0.1", 1);

    @Test
    void aMatchWaitingForAHigherPriorityDetectorIsNotAskedAgain() {
        Counting slow = new Counting(new PrefixProtocol("slow", "ALPHABET", 10, false));
        Counting quick = new Counting(new PrefixProtocol("quick", "AL", 0, false));
        DetectionSession session = session(slow, quick);
        ByteBuf buf = Unpooled.buffer();
        try {
            for (char c : "ALPHA".toCharArray()) {
                buf.writeByte(c);
                assertThat(session.update(buf, 1024, false, false)).isFalse();
            }
            assertThat(quick.calls).as("asked until it matched, then remembered").isEqualTo(2);
            assertThat(slow.calls).isEqualTo(5);

            buf.writeCharSequence("Z", StandardCharsets.US_ASCII);
            assertThat(session.update(buf, 1024, false, false)).isTrue();
            assertThat(session.protocol()).isSameAs(quick);
            assertThat(quick.calls).isEqualTo(2);
        } finally {
            buf.release();
        }
    }

    @Test
    void theHigherPriorityDetectorStillWinsOverARememberedMatch() {
        Counting slow = new Counting(new PrefixProtocol("slow", "ALPHABET", 10, false));
        Counting quick = new Counting(new PrefixProtocol("quick", "AL", 0, false));
        DetectionSession session = session(slow, quick);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeCharSequence("ALP", StandardCharsets.US_ASCII);
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            buf.writeCharSequence("HABET", StandardCharsets.US_ASCII);
            assertThat(session.update(buf, 1024, false, false)).isTrue();
            assertThat(session.protocol()).isSameAs(slow);
            assertThat(quick.calls).isEqualTo(1);
        } finally {
            buf.release();
        }
    }

    @Test
    void theRememberedMatchWinsWhenTheDeadlineEndsTheWait() {
        Counting slow = new Counting(new PrefixProtocol("slow", "ALPHABET", 10, false));
        Counting quick = new Counting(new PrefixProtocol("quick", "AL", 0, false));
        Counting never = new Counting(new PrefixProtocol("never", "ALQ", -10, false));
        DetectionSession session = session(slow, quick, never);
        ByteBuf buf = Unpooled.copiedBuffer("ALP", StandardCharsets.US_ASCII);
        try {
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.update(buf, 1024, false, true)).isTrue();
            assertThat(session.protocol()).isSameAs(quick);
            assertThat(session.failure()).isNull();
            assertThat(quick.calls).isEqualTo(1);
            assertThat(never.calls).as("a lower-priority detector than a match is not asked").isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    void withoutAMatchTheDeadlineIsTheReason() {
        DetectionSession session = session(new PrefixProtocol("slow", "ALPHABET", 10, false));
        ByteBuf buf = Unpooled.copiedBuffer("ALP", StandardCharsets.US_ASCII);
        try {
            assertThat(session.update(buf, 1024, false, true)).isTrue();
            assertThat(session.protocol()).isNull();
            assertThat(session.failure()).isEqualTo(DetectionFailure.DEADLINE);
        } finally {
            buf.release();
        }
    }

    @Test
    void eachUndecidedDetectorGetsOneLastCallWhenTheWaitEnds() {
        for (String end : new String[] {"deadline", "cap", "fin", "maxBytes"}) {
            LastCallProtocol lenient = new LastCallProtocol("lenient", 10, true, 100);
            LastCallProtocol strict = new LastCallProtocol("strict", 0, false, 100);
            DetectionSession session = session(lenient, strict);
            ByteBuf buf = Unpooled.copiedBuffer("x".repeat(end.equals("maxBytes") ? 100 : 10), StandardCharsets.US_ASCII);
            try {
                if (!end.equals("maxBytes")) {
                    assertThat(session.update(buf, 64, false, false)).isFalse();
                    assertThat(lenient.lastCalls).containsExactly(false);
                    buf.writeCharSequence("y".repeat(end.equals("cap") ? 54 : 1), StandardCharsets.US_ASCII);
                }
                boolean decided = session.update(buf, end.equals("maxBytes") ? 1024 : 64, end.equals("fin"),
                        end.equals("deadline"));
                assertThat(decided).as(end).isTrue();
                assertThat(session.protocol()).as(end).isSameAs(lenient);
                assertThat(lenient.lastCalls.get(lenient.lastCalls.size() - 1)).as(end).isTrue();
            } finally {
                buf.release();
            }
        }
    }

    @Test
    void aDetectorThatStillNeedsMoreOnItsLastCallDropsOut() {
        LastCallProtocol strict = new LastCallProtocol("strict", 0, false, 100);
        DetectionSession session = session(strict);
        ByteBuf buf = Unpooled.copiedBuffer("xx", StandardCharsets.US_ASCII);
        try {
            assertThat(session.update(buf, 64, false, false)).isFalse();
            assertThat(session.update(buf, 64, true, false)).isTrue();
            assertThat(strict.lastCalls).containsExactly(false, true);
            assertThat(session.protocol()).isNull();
            assertThat(session.failure()).isEqualTo(DetectionFailure.NO_MATCH);
        } finally {
            buf.release();
        }
    }

    @Test
    void aDetectorThatAskedForItGetsItsLastCallOnAQuietUpdateAndTheOthersDoNot() {
        LastCallProtocol slow = new LastCallProtocol("slow", 10, true, 100);
        QuietProtocol quiet = new QuietProtocol("quiet", 0, 2, 2, true);
        DetectionSession session = session(slow, quiet);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeCharSequence("AB", StandardCharsets.US_ASCII);
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.wantsQuietCall()).isTrue();

            assertThat(session.update(buf, 1024, false, false, true))
                    .as("the quiet detector matches, but waits for the higher-priority one").isFalse();
            assertThat(quiet.lastCalls).containsExactly(false, true);
            assertThat(slow.lastCalls).containsExactly(false, false);
            assertThat(session.wantsQuietCall()).isFalse();

            assertThat(session.update(buf, 1024, false, true)).isTrue();
            assertThat(slow.lastCalls).containsExactly(false, false, true);
            assertThat(session.protocol()).isSameAs(slow);
            session.decided(DetectionReport.Outcome.ROUTED, 2, 0);
            assertThat(session.report().verdict("quiet").verdict()).isEqualTo(DetectionReport.Verdict.MATCH_WHEN_QUIET);
        } finally {
            buf.release();
        }
    }

    @Test
    void aMatchOnAQuietUpdateWinsAndIsReportedAsSuch() {
        QuietProtocol quiet = new QuietProtocol("quiet", 0, 2, 2, true);
        DetectionSession session = session(quiet);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeCharSequence("AB", StandardCharsets.US_ASCII);
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.update(buf, 1024, false, false, true)).isTrue();
            assertThat(session.protocol()).isSameAs(quiet);
            session.decided(DetectionReport.Outcome.ROUTED, 2, 0);
            assertThat(session.report().verdicts()).containsExactly(
                    new DetectionReport.DetectorVerdict("quiet", DetectionReport.Verdict.MATCH_WHEN_QUIET, 2));
        } finally {
            buf.release();
        }
    }

    @Test
    void needMoreOnAQuietLastCallIsADropOut() {
        QuietProtocol strict = new QuietProtocol("strict", 0, 1, 1, false);
        DetectionSession session = session(strict);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte('A');
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.update(buf, 1024, false, false, true)).isTrue();
            assertThat(session.failure()).isEqualTo(DetectionFailure.NO_MATCH);
            session.decided(DetectionReport.Outcome.NO_MATCH, 1, 0);
            assertThat(session.report().verdict("strict"))
                    .isEqualTo(new DetectionReport.DetectorVerdict("strict", DetectionReport.Verdict.DROPPED_WHEN_QUIET, 1));
        } finally {
            buf.release();
        }
    }

    @Test
    void theRequestHoldsForOneCallOnly() {
        QuietProtocol quiet = new QuietProtocol("quiet", 0, 1, 1, true);
        DetectionSession session = session(quiet);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte('A');
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.wantsQuietCall()).isTrue();
            buf.writeByte('B');
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.wantsQuietCall()).as("not asked again with 2 bytes").isFalse();
            assertThat(session.update(buf, 1024, false, false, true)).isFalse();
            assertThat(quiet.lastCalls).containsExactly(false, false, false);
        } finally {
            buf.release();
        }
    }

    @Test
    void aQuietUpdateWithoutARequestGivesNoLastCall() {
        LastCallProtocol slow = new LastCallProtocol("slow", 0, true, 100);
        DetectionSession session = session(slow);
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte('A');
            assertThat(session.update(buf, 1024, false, false)).isFalse();
            assertThat(session.wantsQuietCall()).isFalse();
            assertThat(session.update(buf, 1024, false, false, true)).isFalse();
            assertThat(slow.lastCalls).containsExactly(false, false);
        } finally {
            buf.release();
        }
    }

    private static DetectionSession session(RefractiumProtocol... candidates) {
        return new DetectionSession(candidates, Transport.TCP, ADDRESS, ADDRESS, "test");
    }

    /** Always needs more, and on its last call matches when lenient; records what each call was told. */
    private static final class LastCallProtocol implements RefractiumProtocol {
        private final String id;
        private final int priority;
        private final boolean lenient;
        private final int maxBytes;
        final List<Boolean> lastCalls = new ArrayList<>();

        LastCallProtocol(String id, int priority, boolean lenient, int maxBytes) {
            this.id = id;
            this.priority = priority;
            this.lenient = lenient;
            this.maxBytes = maxBytes;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public int priority() {
            return priority;
        }

        @Override
        public int maxBytes() {
            return maxBytes;
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            lastCalls.add(context.isLastCall());
            return context.isLastCall() && lenient ? DetectionResult.match() : DetectionResult.needMore();
        }
    }

    /** Counts the calls to a detector. */
    private static final class Counting implements RefractiumProtocol {
        private final RefractiumProtocol delegate;
        int calls;

        Counting(RefractiumProtocol delegate) {
            this.delegate = delegate;
        }

        @Override
        public String id() {
            return delegate.id();
        }

        @Override
        public int priority() {
            return delegate.priority();
        }

        @Override
        public int maxBytes() {
            return delegate.maxBytes();
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            calls++;
            return delegate.detect(buf, context);
        }
    }

    @Test
    void aUdpFlowsDetectorsSeeWhereEachDatagramEnds() {
        List<String> seen = new ArrayList<>();
        RefractiumProtocol recorder = new RefractiumProtocol() {
            @Override
            public String id() {
                return "recorder";
            }

            @Override
            public int maxBytes() {
                return 1024;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < context.datagrams(); i++) {
                    sb.append(context.datagramEnd(i)).append(' ');
                }
                seen.add(sb.toString().trim());
                try {
                    context.datagramEnd(context.datagrams());
                    seen.add("no exception");
                } catch (IndexOutOfBoundsException expected) {
                    // the one past the last
                }
                return context.datagrams() < 3 ? DetectionResult.needMore() : DetectionResult.match();
            }
        };
        DetectionSession session = new DetectionSession(new RefractiumProtocol[] {recorder}, Transport.UDP, ADDRESS,
                ADDRESS, "t");
        int[] ends = new int[4];
        ByteBuf buf = Unpooled.buffer();
        try {
            int count = 0;
            for (String d : List.of("abc", "de", "fghij")) {
                buf.writeCharSequence(d, StandardCharsets.US_ASCII);
                ends[count++] = buf.readableBytes();
                session.datagrams(ends, count);
                boolean decided = session.update(buf, 1024, false, false);
                assertThat(decided).isEqualTo(count == 3);
            }
            assertThat(seen).containsExactly("3", "3 5", "3 5 10");
            assertThat(session.protocol()).isSameAs(recorder);
        } finally {
            buf.release();
        }
        DetectionSession tcp = session(recorder);
        assertThat(tcp.datagrams()).isZero();
    }
}
