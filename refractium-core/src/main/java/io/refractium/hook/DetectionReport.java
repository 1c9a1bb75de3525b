package io.refractium.hook;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How detection of one connection reached its decision: what each detector said last and after how many bytes,
 * how long the decision took, and the outcome, which for a connection that went to the fallback target (or was
 * closed for lack of one) says why. Read it from {@link ConnectionInfo#detection()}; the engine also logs it at
 * DEBUG, one line per connection (logger {@code io.refractium.internal.detect.DetectHandler}).
 *
 * <p>Recording costs one {@code int} per detector, written when the detector answers; this object is built only
 * when asked for. Immutable and thread-safe.
 *
 * @param protocol the detected protocol id, or {@code null} when no detector matched
 * @param outcome what became of the connection after detection
 * @param verdicts one entry per detector that was a candidate, in priority order
 * @param peekedBytes the bytes read before the decision
 * @param elapsed the time from accept to decision
 */
public record DetectionReport(String protocol, Outcome outcome, List<DetectorVerdict> verdicts, int peekedBytes,
                              Duration elapsed) {

    /** The outcome of detection and routing. */
    public enum Outcome {
        /** A protocol matched and a route of the table took it. */
        ROUTED,
        /** A protocol matched but no route matched it: the fallback target, if any, took it. */
        NO_ROUTE,
        /** Every detector said no match (or dropped out at the end of the client's input). */
        NO_MATCH,
        /** The peek cap was reached with detectors still undecided. */
        TOO_MANY_BYTES,
        /** The detection deadline passed after the client had sent some bytes. */
        DEADLINE,
        /** The client sent nothing: the listener's silence route, else the fallback, took it. */
        SILENCE,
        /** The client closed the connection before sending anything. */
        CLIENT_CLOSED;

        /**
         * Returns the outcome of a failed detection.
         *
         * @param failure why detection failed
         * @return the outcome
         */
        public static Outcome of(DetectionFailure failure) {
            switch (Objects.requireNonNull(failure, "failure")) {
                case SILENCE:
                    return SILENCE;
                case NO_MATCH:
                    return NO_MATCH;
                case TOO_MANY_BYTES:
                    return TOO_MANY_BYTES;
                case DEADLINE:
                    return DEADLINE;
                default:
                    return CLIENT_CLOSED;
            }
        }
    }

    /** What a detector said last. */
    public enum Verdict {
        /** It was never asked: no bytes came, or a higher-priority detector decided first. */
        NOT_ASKED,
        /** It matched (the winner, or a match that waited for a higher-priority detector). */
        MATCH,
        /** It ruled the protocol out. */
        NO_MATCH,
        /** It still needed more bytes when another detector's match decided. */
        NEED_MORE,
        /** It still needed more bytes when the peek cap was reached, and dropped out. */
        DROPPED_AT_CAP,
        /** It still needed more bytes after the most it says it may need, and dropped out. */
        DROPPED_AT_MAX_BYTES,
        /** It still needed more bytes when the detection deadline passed, and dropped out. */
        DROPPED_AT_DEADLINE,
        /** It still needed more bytes when the client finished sending, and dropped out. */
        DROPPED_AT_END,
        /** It threw or returned {@code null}, which counts as no match. */
        ERROR
    }

    /**
     * One detector's last answer.
     *
     * @param detector the detector's protocol id
     * @param verdict what it said last
     * @param bytes how many bytes it had seen when it said so ({@code 0} when never asked)
     */
    public record DetectorVerdict(String detector, Verdict verdict, int bytes) {

        /** Checks the values. */
        public DetectorVerdict {
            Objects.requireNonNull(detector, "detector");
            Objects.requireNonNull(verdict, "verdict");
        }

        @Override
        public String toString() {
            return verdict == Verdict.NOT_ASKED ? detector + ":NOT_ASKED" : detector + ":" + verdict + "@" + bytes;
        }
    }

    /** Copies the list and checks the values. */
    public DetectionReport {
        Objects.requireNonNull(outcome, "outcome");
        verdicts = List.copyOf(verdicts);
        Objects.requireNonNull(elapsed, "elapsed");
    }

    /** Returns whether the connection was meant for the fallback (or silence) target rather than a route's. */
    public boolean isFallback() {
        return outcome != Outcome.ROUTED;
    }

    /**
     * Returns what the detector with the given id said, or {@code null} when it was not a candidate.
     *
     * @param detector a protocol id
     * @return its verdict or {@code null}
     */
    public DetectorVerdict verdict(String detector) {
        for (DetectorVerdict v : verdicts) {
            if (v.detector().equals(detector)) {
                return v;
            }
        }
        return null;
    }

    /** Returns one line for logs, e.g. {@code tls ROUTED after 517 bytes in 1.2ms [tls:MATCH@517, http:NO_MATCH@517]}. */
    @Override
    public String toString() {
        long micros = elapsed.toNanos() / 1000;
        String time = micros < 10_000 ? micros / 1000 + "." + (micros % 1000) / 100 + "ms" : micros / 1000 + "ms";
        return (protocol == null ? "-" : protocol) + " " + outcome + " after " + peekedBytes + " bytes in " + time
                + " " + verdicts;
    }
}
