package io.refractium.internal.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DataContext;
import io.refractium.hook.DataHook;
import io.refractium.hook.Direction;
import io.refractium.internal.engine.ConnectionState;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bytes of one inspected connection on their way through its taps and {@link DataHook}s. The relay hands every
 * buffer it reads to {@link #fromSource}; the taps get a copy, then the buffer goes through the hooks of its
 * direction (client to backend: first hook first; backend to client: last hook first) and what the last one forwards
 * is written to the destination channel. All on the connection's event loop; forwards from other threads are moved
 * there.
 */
final class DataPath {

    private static final Logger log = LoggerFactory.getLogger(DataPath.class);

    private final ConnectionState conn;
    private final Channel client;
    private final Channel backend;
    private final EventLoop loop;
    private final DataHook[] hooks;
    private final Context[] contexts;
    private final TapRunner.Stream[] taps;
    /** Per direction (ordinal): the FIN has been passed beyond the hooks; later bytes are dropped. */
    private final boolean[] ended = new boolean[2];
    /** Inside a relay read or end: the relay flushes afterwards. */
    private boolean inRelayCall;
    private boolean closed;
    /** The buffer handed to a hook now; cleared when the hook forwards it (to release it if the hook throws). */
    private ByteBuf handed;

    DataPath(ConnectionState conn, DataHook[] hooks, TapRunner.Stream[] taps) {
        this.conn = conn;
        this.client = conn.client();
        this.backend = conn.backend();
        this.loop = client.eventLoop();
        this.hooks = hooks;
        this.taps = taps;
        this.contexts = new Context[hooks.length];
        for (int i = 0; i < hooks.length; i++) {
            contexts[i] = new Context(i);
        }
    }

    /** Bytes read from the source of {@code direction}: to the taps, then through the hooks. */
    void fromSource(Direction direction, ByteBuf data) {
        for (TapRunner.Stream t : taps) {
            t.offer(direction, data);
        }
        inRelayCall = true;
        try {
            deliver(direction, 0, data);
        } finally {
            inRelayCall = false;
        }
    }

    /** The source of {@code direction} finished sending: each hook, in the direction's order, hears of it. */
    void end(Direction direction) {
        inRelayCall = true;
        try {
            for (int pos = 0; pos < hooks.length && !closed; pos++) {
                int i = index(direction, pos);
                try {
                    hooks[i].onEnd(contexts[i], direction);
                } catch (Throwable t) {
                    hookFailed(i, "onEnd", t);
                }
            }
        } finally {
            inRelayCall = false;
        }
        ended[direction.ordinal()] = true;
    }

    /** The connection's channels are both closed: each hook hears of it once, and the taps get the summary. */
    void closed(ConnectionSummary summary) {
        closed = true;
        for (int i = 0; i < hooks.length; i++) {
            try {
                hooks[i].onClosed(contexts[i]);
            } catch (Throwable t) {
                log.warn("[{}] data hook {}.onClosed threw; ignoring it: {}", conn.id(), hooks[i].getClass().getName(),
                        t.toString(), t);
            }
        }
        for (TapRunner.Stream t : taps) {
            t.closed(summary);
        }
    }

    boolean hasHooks() {
        return hooks.length > 0;
    }

    /** The hook at position {@code pos} of the direction's order. */
    private int index(Direction direction, int pos) {
        return direction == Direction.CLIENT_TO_BACKEND ? pos : hooks.length - 1 - pos;
    }

    private int position(Direction direction, int index) {
        return direction == Direction.CLIENT_TO_BACKEND ? index : hooks.length - 1 - index;
    }

    /** Hands {@code data} to position {@code pos} of the direction: a hook, or past the last one the destination. */
    private void deliver(Direction direction, int pos, ByteBuf data) {
        if (closed || ended[direction.ordinal()] || !data.isReadable()) {
            data.release();
            return;
        }
        if (pos == hooks.length) {
            Channel to = direction == Direction.CLIENT_TO_BACKEND ? backend : client;
            if (!to.isActive()) {
                data.release();
                return;
            }
            to.write(data, to.voidPromise());
            if (!inRelayCall) {
                to.flush();
            }
            return;
        }
        int i = index(direction, pos);
        ByteBuf outer = handed;
        handed = data;
        try {
            hooks[i].onData(contexts[i], direction, data);
        } catch (Throwable t) {
            if (handed == data && data.refCnt() > 0) {
                data.release();
            }
            hookFailed(i, "onData", t);
        } finally {
            handed = outer;
        }
    }

    private void hookFailed(int i, String method, Throwable t) {
        String name = hooks[i].getClass().getName();
        log.warn("[{}] data hook {}.{} threw; closing the connection: {}", conn.id(), name, method, t.toString(), t);
        conn.detail("data hook " + name + "." + method + " threw " + t);
        conn.close(CloseReason.ERROR);
    }

    /** One hook's view of the connection. */
    private final class Context implements DataContext {
        private final int index;

        Context(int index) {
            this.index = index;
        }

        @Override
        public ConnectionInfo connection() {
            return conn;
        }

        @Override
        public ByteBufAllocator alloc() {
            return client.alloc();
        }

        @Override
        public void forward(Direction direction, ByteBuf data) {
            if (direction == null) {
                data.release();
                throw new NullPointerException("direction");
            }
            if (!loop.inEventLoop()) {
                try {
                    loop.execute(() -> forward(direction, data));
                } catch (RejectedExecutionException e) {
                    data.release();
                }
                return;
            }
            if (handed == data) {
                handed = null;
            }
            deliver(direction, position(direction, index) + 1, data);
        }

        @Override
        public void close(String reason) {
            if (!loop.inEventLoop()) {
                try {
                    loop.execute(() -> close(reason));
                } catch (RejectedExecutionException e) {
                    // The event loop is gone, and the connection with it.
                }
                return;
            }
            if (closed) {
                return;
            }
            conn.detail("closed by data hook " + hooks[index].getClass().getName() + ": " + reason);
            conn.close(CloseReason.HOOK_CLOSED);
        }
    }
}
