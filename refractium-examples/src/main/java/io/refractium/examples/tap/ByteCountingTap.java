package io.refractium.examples.tap;

import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Direction;
import io.refractium.hook.Tap;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A {@link Tap} that counts each connection's bytes both ways on its own thread, and writes one line per connection
 * when it ends, with what the tap missed if its queue overflowed. A stand-in for a recorder or an analyzer that
 * must never slow connections down: it runs off the event loops, and when it falls behind the connections lose
 * nothing, the tap loses counted bytes.
 */
public final class ByteCountingTap implements Tap {

    private final Consumer<String> log;
    /** Per open connection: bytes from the client, bytes from the backend. Touched on the tap's thread only. */
    private final Map<Long, long[]> counts = new ConcurrentHashMap<>();

    /**
     * Creates the tap.
     *
     * @param log where to write one line per connection
     */
    public ByteCountingTap(Consumer<String> log) {
        this.log = log;
    }

    @Override
    public void onData(long connectionId, Direction direction, ByteBuffer data) {
        counts.computeIfAbsent(connectionId, id -> new long[2])[direction.ordinal()] += data.remaining();
    }

    @Override
    public void onClosed(long connectionId, ConnectionSummary summary, long droppedBytes) {
        long[] c = counts.remove(connectionId);
        long up = c == null ? 0 : c[0];
        long down = c == null ? 0 : c[1];
        log.accept("#" + connectionId + " tapped " + up + " bytes up, " + down + " bytes down"
                + (droppedBytes > 0 ? ", missed " + droppedBytes : "") + " (" + summary.reason() + ")");
    }

    /** Returns how many connections are being counted now. */
    public int openConnections() {
        return counts.size();
    }
}
