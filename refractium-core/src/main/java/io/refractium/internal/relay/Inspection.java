package io.refractium.internal.relay;

import io.refractium.TapStatus;
import io.refractium.hook.DataHook;
import io.refractium.hook.DataHookFactory;
import io.refractium.hook.Tap;
import io.refractium.internal.engine.ConnectionState;
import java.util.ArrayList;
import java.util.List;

/**
 * The data hooks and taps of one instance: the factories that give a connection its {@link DataHook}s, and the
 * {@link TapRunner}s with their threads. {@link #open} decides, when a connection's backend has connected, whether it
 * gets a {@link DataPath} (and so leaves the splice path) or not.
 */
public final class Inspection {

    /** No data hooks and no taps: every connection keeps the plain relay. */
    public static final Inspection NONE = new Inspection(List.of(), List.of());

    private static final long STOP_TIMEOUT_MILLIS = 5_000;

    private final DataHookFactory[] factories;
    private final TapRunner[] taps;

    /**
     * Creates the instance's inspection.
     *
     * @param factories the data hook factories, in the order added
     * @param taps the taps, in the order added
     */
    public Inspection(List<DataHookFactory> factories, List<TapSpec> taps) {
        this.factories = factories.toArray(new DataHookFactory[0]);
        this.taps = new TapRunner[taps.size()];
        for (int i = 0; i < this.taps.length; i++) {
            this.taps[i] = new TapRunner(taps.get(i).tap(), taps.get(i).maxQueuedBytes(), i);
        }
    }

    /**
     * A tap and the bound of its queue.
     *
     * @param tap the tap
     * @param maxQueuedBytes how many copied bytes may wait for the tap's thread
     */
    public record TapSpec(Tap tap, long maxQueuedBytes) {
    }

    /** Returns whether there is neither a data hook factory nor a tap. */
    public boolean isEmpty() {
        return factories.length == 0 && taps.length == 0;
    }

    /** Starts the taps' threads. */
    public void start() {
        for (TapRunner t : taps) {
            t.start();
        }
    }

    /** Delivers what the taps have queued and stops their threads; call once no connection is left. */
    public void stop() {
        for (TapRunner t : taps) {
            t.stop(STOP_TIMEOUT_MILLIS);
        }
    }

    /** Returns how many tap threads are running. */
    public int runningTaps() {
        int n = 0;
        for (TapRunner t : taps) {
            if (t.isRunning()) {
                n++;
            }
        }
        return n;
    }

    /** Returns each tap's totals, in the order the taps were added. */
    public List<TapStatus> tapStatus() {
        List<TapStatus> list = new ArrayList<>(taps.length);
        for (TapRunner t : taps) {
            list.add(t.status());
        }
        return List.copyOf(list);
    }

    /**
     * Asks the factories and taps about a connection whose backend has connected.
     *
     * @param conn the connection
     * @return its data path, or {@code null} when no factory made a data hook and no tap wants it
     * @throws RuntimeException what a factory or a tap's {@code wants} threw
     */
    DataPath open(ConnectionState conn) {
        if (isEmpty()) {
            return null;
        }
        List<DataHook> hooks = null;
        for (DataHookFactory f : factories) {
            DataHook h = f.create(conn);
            if (h != null) {
                if (hooks == null) {
                    hooks = new ArrayList<>(factories.length);
                }
                hooks.add(h);
            }
        }
        List<TapRunner.Stream> streams = null;
        for (TapRunner t : taps) {
            TapRunner.Stream s = t.open(conn);
            if (s != null) {
                if (streams == null) {
                    streams = new ArrayList<>(taps.length);
                }
                streams.add(s);
            }
        }
        if (hooks == null && streams == null) {
            return null;
        }
        return new DataPath(conn, hooks == null ? new DataHook[0] : hooks.toArray(new DataHook[0]),
                streams == null ? new TapRunner.Stream[0] : streams.toArray(new TapRunner.Stream[0]));
    }
}
