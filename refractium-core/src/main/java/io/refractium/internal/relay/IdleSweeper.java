package io.refractium.internal.relay;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The idle timer of the relayed connections of one event loop: one periodic task per loop (and idle timeout) that
 * looks at each of its connections, instead of one scheduled task per connection. A connection costs two links and
 * no timer; the task runs only while the loop relays connections, and stops when the last one leaves. Used on its
 * event loop only.
 */
final class IdleSweeper {

    /** Each event loop thread's sweepers, by idle timeout in nanoseconds. */
    private static final FastThreadLocal<Map<Long, IdleSweeper>> SWEEPERS = new FastThreadLocal<>() {
        @Override
        protected Map<Long, IdleSweeper> initialValue() {
            return new HashMap<>(2);
        }
    };

    /** Each event loop thread's sweeper asked for last. */
    private static final FastThreadLocal<IdleSweeper> LAST = new FastThreadLocal<>();

    private final EventLoop loop;
    private final long idleNanos;
    private final long periodNanos;
    private Relay head;
    private ScheduledFuture<?> task;

    private IdleSweeper(EventLoop loop, long idleNanos) {
        this.loop = loop;
        this.idleNanos = idleNanos;
        this.periodNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), idleNanos / 4);
    }

    /** Returns the sweeper of the calling event loop for the given idle timeout. */
    static IdleSweeper of(EventLoop loop, long idleNanos) {
        Map<Long, IdleSweeper> map = SWEEPERS.get();
        IdleSweeper last = LAST.get();
        if (last != null && last.loop == loop && last.idleNanos == idleNanos) {
            return last; // the common case, without boxing the key
        }
        IdleSweeper s = map.get(idleNanos);
        if (s == null || s.loop != loop) {
            s = new IdleSweeper(loop, idleNanos);
            map.put(idleNanos, s);
        }
        LAST.set(s);
        return s;
    }

    /** Starts watching a relay; its last activity is now. */
    void add(Relay r) {
        r.idleNext = head;
        r.idlePrev = null;
        if (head != null) {
            head.idlePrev = r;
        }
        head = r;
        r.idleWatched = true;
        if (task == null) {
            task = loop.scheduleAtFixedRate(this::sweep, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Stops watching a relay; the task stops with the last one. */
    void remove(Relay r) {
        if (!r.idleWatched) {
            return;
        }
        r.idleWatched = false;
        if (r.idlePrev != null) {
            r.idlePrev.idleNext = r.idleNext;
        } else {
            head = r.idleNext;
        }
        if (r.idleNext != null) {
            r.idleNext.idlePrev = r.idlePrev;
        }
        r.idlePrev = null;
        r.idleNext = null;
        if (head == null && task != null) {
            task.cancel(false);
            task = null;
        }
    }

    /** Returns how many relays are watched; for tests. */
    int size() {
        int n = 0;
        for (Relay r = head; r != null; r = r.idleNext) {
            n++;
        }
        return n;
    }

    private void sweep() {
        for (Relay r = head; r != null; ) {
            Relay next = r.idleNext;
            r.checkIdle(idleNanos);
            r = next;
        }
    }
}
