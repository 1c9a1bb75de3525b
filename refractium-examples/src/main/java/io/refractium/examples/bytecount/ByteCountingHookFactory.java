package io.refractium.examples.bytecount;

import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.Hook;
import io.refractium.hook.HookFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A {@link HookFactory} whose hooks count bytes per connection: each connection gets its own {@link Counter}, which
 * keeps what it learns in plain fields (no map keyed by connection id, no cleanup), writes one line when the
 * connection closes and adds the connection's bytes to per-protocol totals shared by all counters.
 *
 * <p>The byte counts are those Refractium reports: the bytes peeked for detection ({@link Detection#peekedBytes()})
 * and, at the end, the bytes each way ({@link ConnectionSummary}). Thread-safety: each {@link Counter} is used on its
 * connection's event loop only; the totals are concurrent.
 */
public final class ByteCountingHookFactory implements HookFactory {

    private final Consumer<String> log;
    private final Map<String, LongAdder> totals = new ConcurrentHashMap<>();

    /**
     * Creates the factory.
     *
     * @param log where to write one line per closed connection
     */
    public ByteCountingHookFactory(Consumer<String> log) {
        this.log = log;
    }

    @Override
    public Hook create(ConnectionInfo connection) {
        return new Counter(connection.id());
    }

    /**
     * Returns the bytes (both ways) of the closed connections of a protocol so far.
     *
     * @param protocol a protocol id, or {@code "none"} for connections without one
     * @return the total
     */
    public long totalBytes(String protocol) {
        LongAdder a = totals.get(protocol);
        return a == null ? 0 : a.sum();
    }

    /** The hook of one connection. */
    final class Counter implements Hook {
        private final long id;
        private String protocol = "none";
        private int peekedBytes;

        Counter(long id) {
            this.id = id;
        }

        @Override
        public void onDetected(ConnectionInfo connection, Detection detection) {
            protocol = detection.protocol();
            peekedBytes = detection.peekedBytes();
        }

        @Override
        public void onDetectionFailed(ConnectionInfo connection, DetectionFailure reason, int peekedBytes) {
            this.peekedBytes = peekedBytes;
        }

        @Override
        public void onClosed(ConnectionInfo connection, ConnectionSummary summary) {
            long bytes = summary.bytesFromClient() + summary.bytesToClient();
            totals.computeIfAbsent(protocol, p -> new LongAdder()).add(bytes);
            log.accept("#" + id + " " + protocol + ": " + peekedBytes + " B peeked, " + summary.bytesFromClient()
                    + " B in, " + summary.bytesToClient() + " B out, " + summary.reason());
        }
    }
}
