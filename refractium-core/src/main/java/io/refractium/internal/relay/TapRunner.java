package io.refractium.internal.relay;

import io.netty.buffer.ByteBuf;
import io.refractium.TapStatus;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Direction;
import io.refractium.hook.Tap;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link Tap}: a thread of its own that takes copies from a queue bounded in bytes. Event loops offer
 * copies through a {@link Stream} per connection and never wait: over the bound, the bytes are counted as dropped.
 */
final class TapRunner {

    private static final Logger log = LoggerFactory.getLogger(TapRunner.class);
    private static final Event STOP = new Event(0, null, null, null, 0);

    private final Tap tap;
    private final long maxQueuedBytes;
    private final String name;
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong droppedBytes = new AtomicLong();
    private final AtomicLong droppedChunks = new AtomicLong();
    private Thread thread;

    TapRunner(Tap tap, long maxQueuedBytes, int index) {
        this.tap = tap;
        this.maxQueuedBytes = maxQueuedBytes;
        this.name = "refractium-tap-" + index + "-" + tap.getClass().getSimpleName();
    }

    synchronized void start() {
        if (thread == null) {
            thread = new Thread(this::run, name);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Delivers what is queued, then stops the thread; waits up to the given time. */
    synchronized void stop(long timeoutMillis) {
        Thread t = thread;
        if (t == null) {
            return;
        }
        queue.add(STOP);
        try {
            t.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.warn("tap {} did not finish its queue within {} ms; interrupting it", name, timeoutMillis);
            t.interrupt();
        }
        thread = null;
    }

    /** Returns whether the tap's thread is running. */
    synchronized boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    TapStatus status() {
        return new TapStatus(tap.getClass().getName(), delivered.get(), droppedBytes.get(), droppedChunks.get(),
                queued.get(), maxQueuedBytes);
    }

    /** Returns the connection's stream if the tap wants the connection, else {@code null}. */
    Stream open(ConnectionInfo connection) {
        return tap.wants(connection) ? new Stream(connection.id()) : null;
    }

    private void run() {
        try {
            while (true) {
                Event e = queue.take();
                if (e == STOP) {
                    return;
                }
                try {
                    if (e.data != null) {
                        queued.addAndGet(-e.data.remaining());
                        delivered.addAndGet(e.data.remaining());
                        tap.onData(e.connectionId, e.direction, e.data);
                    } else {
                        tap.onClosed(e.connectionId, e.summary, e.dropped);
                    }
                } catch (Throwable t) {
                    log.warn("tap {} threw; going on: {}", tap.getClass().getName(), t.toString(), t);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One connection's side of the tap; used on the connection's event loop. */
    final class Stream {
        private final long connectionId;
        private long dropped;

        Stream(long connectionId) {
            this.connectionId = connectionId;
        }

        /** Queues a copy of the readable bytes of {@code data}, or counts them as dropped when the queue is full. */
        void offer(Direction direction, ByteBuf data) {
            int n = data.readableBytes();
            if (n == 0) {
                return;
            }
            if (queued.addAndGet(n) > maxQueuedBytes) {
                queued.addAndGet(-n);
                dropped += n;
                droppedBytes.addAndGet(n);
                long chunks = droppedChunks.incrementAndGet();
                if ((chunks & (chunks - 1)) == 0) {
                    log.warn("[{}] tap {} is behind: its queue holds {} bytes, the bound; {} bytes dropped in {} "
                            + "chunks so far", connectionId, name, maxQueuedBytes, droppedBytes.get(), chunks);
                }
                return;
            }
            byte[] copy = new byte[n];
            data.getBytes(data.readerIndex(), copy);
            queue.add(new Event(connectionId, direction, ByteBuffer.wrap(copy).asReadOnlyBuffer(), null, 0));
        }

        /** Queues the end of the connection. */
        void closed(ConnectionSummary summary) {
            queue.add(new Event(connectionId, null, null, summary, dropped));
        }
    }

    private record Event(long connectionId, Direction direction, ByteBuffer data, ConnectionSummary summary,
                         long dropped) {
    }

    @Override
    public String toString() {
        return name;
    }
}
