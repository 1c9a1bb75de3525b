package io.refractium.internal.detect;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.refractium.hook.DetectionFailure;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import io.refractium.testing.PrefixProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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

    private static DetectionSession session(RefractiumProtocol... candidates) {
        return new DetectionSession(candidates, Transport.TCP, ADDRESS, ADDRESS, "test");
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
}
