package io.refractium.internal.detect;

import io.netty.buffer.ByteBuf;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.DetectionReport;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detection of one connection or flow, independent of the transport: the candidates narrow on each
 * {@link #update}; the first {@code MATCH} in priority order wins once no higher-priority candidate still says
 * {@code NEED_MORE}; when the peek cap, the deadline or the end of input ends the wait, each undecided detector
 * gets one {@linkplain DetectionContext#isLastCall() last call}, after which a {@code NEED_MORE} is a drop-out.
 * A detector that asked for it during its latest call ({@link DetectionContext#lastCallWhenQuiet()}) also gets its
 * last call on a <em>quiet</em> update, which the caller makes when no byte came for the quiet timeout
 * ({@link #wantsQuietCall()} says whether to arm that timer); the others are asked as on any update.
 *
 * <p>A detector that throws, returns {@code null} or moves the buffer's indexes counts as {@code NO_MATCH} (the
 * indexes are restored). Each detector's {@link DetectionContext#progress() progress} is kept here between calls,
 * and a match that waits for a higher-priority detector is remembered rather than asked for again: once a detector
 * has matched, only the detectors before it are still called. Not thread-safe: used on one event loop.
 *
 * <p>The session records each detector's last answer and the bytes it had seen, one {@code int} per detector
 * written as it answers, and builds a {@link DetectionReport} only when asked ({@link #report()}).
 */
public final class DetectionSession implements DetectionContext {

    private static final Logger log = LoggerFactory.getLogger(DetectionSession.class);
    private static final int VERDICT_SHIFT = 27;
    private static final int BYTES_MASK = (1 << VERDICT_SHIFT) - 1;
    private static final DetectionReport.Verdict[] VERDICTS = DetectionReport.Verdict.values();

    private final RefractiumProtocol[] candidates;
    private final boolean[] ruledOut;
    /** Per candidate: it asked for a last call when the client goes quiet, during its latest call. */
    private final boolean[] quietCall;
    private final long[] progress;
    /** Per candidate: the last {@link DetectionReport.Verdict} ordinal, shifted by {@link #VERDICT_SHIFT}, and bytes. */
    private final int[] verdicts;
    private final Transport transport;
    private SocketAddress remoteAddress;
    private final SocketAddress localAddress;
    private final Object logId;
    private int current = -1;
    /** A UDP flow's offered datagrams: where each ends, from the reader index; {@code null} for TCP. */
    private int[] datagramEnds;
    private int datagramCount;
    private boolean inputComplete;
    private boolean lastCall;
    /** The index of a match waiting for higher-priority detectors, or {@code candidates.length}. */
    private int deferred;
    private DetectionResult deferredResult;

    private RefractiumProtocol protocol;
    private DetectionResult result;
    private DetectionFailure failure;
    private DetectionReport.Outcome outcome;
    private int decidedBytes;
    private long decidedNanos;
    private DetectionReport report;

    /**
     * Creates a session.
     *
     * @param candidates the detectors for this transport, in priority order
     * @param transport the transport the bytes arrive on
     * @param remoteAddress the client's address
     * @param localAddress the listening address
     * @param logId what log lines name the connection by
     */
    public DetectionSession(RefractiumProtocol[] candidates, Transport transport, SocketAddress remoteAddress,
                            SocketAddress localAddress, Object logId) {
        this.candidates = candidates;
        this.ruledOut = new boolean[candidates.length];
        this.quietCall = new boolean[candidates.length];
        this.progress = new long[candidates.length];
        this.verdicts = new int[candidates.length];
        this.transport = transport;
        this.remoteAddress = remoteAddress;
        this.localAddress = localAddress;
        this.logId = logId;
        this.deferred = candidates.length;
    }

    /**
     * Runs the remaining candidates over the bytes received so far.
     *
     * @param buf every byte received so far, from its reader index; not modified, not retained
     * @param maxPeekBytes the peek cap: at or over it, waiting detectors drop out
     * @param inputComplete whether no more bytes will come (FIN, or a whole datagram)
     * @param deadlinePassed whether the detection deadline has passed
     * @return whether detection is decided: then {@link #protocol()} or {@link #failure()} is set
     */
    public boolean update(ByteBuf buf, int maxPeekBytes, boolean inputComplete, boolean deadlinePassed) {
        return update(buf, maxPeekBytes, inputComplete, deadlinePassed, false);
    }

    /**
     * Runs the remaining candidates over the bytes received so far; on a quiet update, those that asked for it
     * ({@link DetectionContext#lastCallWhenQuiet()}) get their last call.
     *
     * @param buf every byte received so far, from its reader index; not modified, not retained
     * @param maxPeekBytes the peek cap: at or over it, waiting detectors drop out
     * @param inputComplete whether no more bytes will come (FIN, or a whole datagram)
     * @param deadlinePassed whether the detection deadline has passed
     * @param quiet whether no byte came for the quiet timeout since the last update
     * @return whether detection is decided: then {@link #protocol()} or {@link #failure()} is set
     */
    public boolean update(ByteBuf buf, int maxPeekBytes, boolean inputComplete, boolean deadlinePassed,
                          boolean quiet) {
        this.inputComplete = inputComplete;
        int readable = buf.readableBytes();
        boolean atCap = readable >= maxPeekBytes;
        boolean starved = false;
        boolean waiting = false;
        int readerIndex = buf.readerIndex();
        int writerIndex = buf.writerIndex();
        for (int i = 0; i < deferred; i++) {
            if (ruledOut[i]) {
                continue;
            }
            RefractiumProtocol p = candidates[i];
            DetectionResult r;
            boolean threw = false;
            current = i;
            boolean quietLast = quiet && quietCall[i];
            quietCall[i] = false;
            lastCall = quietLast || inputComplete || deadlinePassed || atCap || readable >= p.maxBytes();
            try {
                r = p.detect(buf, this);
                if (r == null) {
                    throw new NullPointerException("detect() returned null");
                }
            } catch (Throwable t) {
                log.warn("[{}] detector {} threw; treating it as no match: {}", logId, p.id(), t.toString(), t);
                r = DetectionResult.noMatch();
                threw = true;
            } finally {
                current = -1;
                lastCall = false;
            }
            if (buf.readerIndex() != readerIndex || buf.writerIndex() != writerIndex) {
                log.warn("[{}] detector {} moved the buffer's indexes; restoring them", logId, p.id());
                buf.setIndex(readerIndex, writerIndex);
            }
            switch (r.status()) {
                case NO_MATCH:
                    ruleOut(i);
                    record(i, threw ? DetectionReport.Verdict.ERROR : DetectionReport.Verdict.NO_MATCH, readable);
                    break;
                case NEED_MORE:
                    if (inputComplete || deadlinePassed || readable >= p.maxBytes() || quietLast) {
                        ruleOut(i);
                        record(i, deadlinePassed ? DetectionReport.Verdict.DROPPED_AT_DEADLINE
                                : inputComplete ? DetectionReport.Verdict.DROPPED_AT_END
                                : readable >= p.maxBytes() ? DetectionReport.Verdict.DROPPED_AT_MAX_BYTES
                                : DetectionReport.Verdict.DROPPED_WHEN_QUIET, readable);
                    } else if (atCap) {
                        ruleOut(i);
                        starved = true;
                        record(i, DetectionReport.Verdict.DROPPED_AT_CAP, readable);
                    } else {
                        waiting = true;
                        record(i, DetectionReport.Verdict.NEED_MORE, readable);
                    }
                    break;
                default:
                    quietCall[i] = false;
                    record(i, quietLast && !(inputComplete || deadlinePassed || atCap || readable >= p.maxBytes())
                            ? DetectionReport.Verdict.MATCH_WHEN_QUIET : DetectionReport.Verdict.MATCH, readable);
                    if (waiting) {
                        // A higher-priority detector still needs more bytes: wait for it, and keep this match.
                        deferred = i;
                        deferredResult = r;
                        return false;
                    }
                    protocol = p;
                    result = r;
                    return true;
            }
        }
        if (waiting) {
            return false;
        }
        if (deferred < candidates.length) {
            protocol = candidates[deferred];
            result = deferredResult;
            return true;
        }
        failure = deadlinePassed ? DetectionFailure.DEADLINE
                : starved ? DetectionFailure.TOO_MANY_BYTES : DetectionFailure.NO_MATCH;
        return true;
    }

    private void record(int i, DetectionReport.Verdict v, int bytes) {
        verdicts[i] = (v.ordinal() << VERDICT_SHIFT) | Math.min(bytes, BYTES_MASK);
    }

    private void ruleOut(int i) {
        ruledOut[i] = true;
        quietCall[i] = false;
        progress[i] = 0;
    }

    /**
     * Returns whether an undecided detector asked, during its latest call, for a last call when the client goes
     * quiet ({@link DetectionContext#lastCallWhenQuiet()}): then the caller should make a quiet {@link #update} if
     * no byte comes for the quiet timeout.
     *
     * @return whether a quiet update would give some detector its last call
     */
    public boolean wantsQuietCall() {
        for (int i = 0; i < deferred; i++) {
            if (quietCall[i] && !ruledOut[i]) {
                return true;
            }
        }
        return false;
    }

    /** Ends the session without a match (silence, the client left, a refusal). */
    public void fail(DetectionFailure reason) {
        failure = reason;
    }

    /**
     * Records how the decision ended, for {@link #report()}: call once, when the connection's fate is known.
     *
     * @param outcome the outcome (whether a route took a match, or why detection failed)
     * @param peekedBytes the bytes read before the decision
     * @param elapsedNanos the time from accept to decision
     */
    public void decided(DetectionReport.Outcome outcome, int peekedBytes, long elapsedNanos) {
        this.outcome = outcome;
        this.decidedBytes = peekedBytes;
        this.decidedNanos = elapsedNanos;
        this.report = null;
    }

    /** Returns whether {@link #decided} was called. */
    public boolean isDecided() {
        return outcome != null;
    }

    /**
     * Returns the report of the decision, built on the first call; {@code null} before {@link #decided}.
     *
     * @return the report or {@code null}
     */
    public DetectionReport report() {
        if (outcome == null) {
            return null;
        }
        DetectionReport r = report;
        if (r == null) {
            List<DetectionReport.DetectorVerdict> list = new ArrayList<>(candidates.length);
            for (int i = 0; i < candidates.length; i++) {
                int v = verdicts[i];
                list.add(new DetectionReport.DetectorVerdict(candidates[i].id(), VERDICTS[v >>> VERDICT_SHIFT],
                        v & BYTES_MASK));
            }
            report = r = new DetectionReport(protocol == null ? null : protocol.id(), outcome, list, decidedBytes,
                    Duration.ofNanos(decidedNanos));
        }
        return r;
    }

    /** Returns the detector that matched, or {@code null}. */
    public RefractiumProtocol protocol() {
        return protocol;
    }

    /** Returns the match, or {@code null}. */
    public DetectionResult result() {
        return result;
    }

    /** Returns why detection failed, or {@code null}. */
    public DetectionFailure failure() {
        return failure;
    }

    // ---------------------------------------------------------------- DetectionContext

    @Override
    public Transport transport() {
        return transport;
    }

    @Override
    public SocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** Replaces the client's address with the real one from a PROXY protocol header, before the first update. */
    public void remoteAddress(SocketAddress real) {
        this.remoteAddress = real;
    }

    @Override
    public SocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public boolean isInputComplete() {
        return inputComplete;
    }

    @Override
    public boolean isLastCall() {
        return lastCall;
    }

    @Override
    public void lastCallWhenQuiet() {
        if (current >= 0 && !lastCall) {
            quietCall[current] = true;
        }
    }

    /**
     * Tells the detectors of a UDP flow how the offered bytes split into datagrams, before an {@link #update}: the
     * first {@code count} entries of {@code ends} are where each datagram ends, as offsets from the buffer's reader
     * index, in arrival order. The array is read, not copied: the caller only appends to it.
     *
     * @param ends the ends of the datagrams
     * @param count how many datagrams the bytes hold
     */
    public void datagrams(int[] ends, int count) {
        this.datagramEnds = ends;
        this.datagramCount = count;
    }

    @Override
    public int datagrams() {
        return datagramCount;
    }

    @Override
    public int datagramEnd(int index) {
        if (index < 0 || index >= datagramCount) {
            throw new IndexOutOfBoundsException("no datagram " + index + ": " + datagramCount + " offered");
        }
        return datagramEnds[index];
    }

    @Override
    public long progress() {
        return current < 0 ? 0 : progress[current];
    }

    @Override
    public void saveProgress(long value) {
        if (current >= 0) {
            progress[current] = value;
        }
    }
}
