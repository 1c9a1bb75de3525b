package io.refractium.internal.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.hook.CloseReason;
import io.refractium.hook.Direction;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.engine.EngineConfig;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves bytes both ways between a client and its backend once the peeked bytes are replayed.
 *
 * <p>Two paths: buffer relay with backpressure (a side stops reading while the other is not writable), and, once a
 * direction carries bulk data between two epoll channels on the same event loop, {@code splice(2)} (the bytes
 * never enter the JVM; short exchanges never pay for the pipes). On both paths a FIN from one side becomes a FIN to
 * the other once everything before it is written, the other direction keeps going, and the connection closes when
 * both directions are done. A reset (RST) from one side is passed on as a reset. An idle timer closes connections that
 * move no bytes either way; a drain timer resets connections of which one side has finished while the bytes queued
 * for the other make no progress.
 *
 * <p>How a direction splices. Netty's {@code spliceTo} moves bytes socket → pipe → socket, but left to itself it
 * re-enables auto-read on the source whenever a pipe's worth was written out, even after the source's FIN (which,
 * with Netty 4.2, fails inside the target's write path: the target's queued bytes were dropped and the connection
 * torn down early). So a spliced source runs with auto-read off and is read on demand: after each read the relay
 * writes an empty marker behind the spliced bytes and asks for the next read only when the marker is written, that is
 * when the pipe has been emptied into the target socket. At most one pipe's worth (64 KiB) is in flight per
 * direction, and a target that stops reading stops the source. When the source's FIN arrives, Netty shuts its input
 * down while bytes may still wait in the socket's receive queue; the relay reads them (Linux still returns queued
 * bytes after {@code shutdown(SHUT_RD)}) one chunk at a time, each after the previous one was written, then passes
 * the FIN on. The pipe into a channel belongs to that channel and is closed with it, so when a channel closes while
 * its peer may still splice into it, the peer is closed at once: a splice never targets a closed (and possibly
 * reused) file descriptor.
 *
 * <p>All methods run on the connection's event loop (client and backend share it when splicing).
 */
public final class Relay {

    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** A read at least this large means a bulk transfer: that direction switches to {@code splice(2)}. */
    static final int SPLICE_AFTER_READ_BYTES = 16 * 1024;
    /**
     * How often a side whose reading is paused for backpressure is checked for a reset, on transports that do not
     * report it meanwhile (io_uring): {@value} ms.
     */
    static final long PAUSED_RESET_CHECK_MILLIS = 1000;
    /** How much one step of the post-FIN drain of a spliced direction reads. */
    static final int DRAIN_CHUNK_BYTES = 64 * 1024;

    private final ConnectionState conn;
    private final Channel client;
    private final Channel backend;
    private final long drainNanos;
    private Side clientSide;
    private Side backendSide;
    /** The idle timer of this relay's event loop, or {@code null} without an idle timeout. */
    private IdleSweeper idleSweeper;
    /** Links of the sweeper's list. */
    Relay idlePrev;
    Relay idleNext;
    boolean idleWatched;
    private long lastBytes = -1;
    private long lastActivity;
    private ScheduledFuture<?> drainTimer;
    /** Grows with every step of the data path (bytes handed to a peer, drain steps): progress for the drain timer. */
    private long moves;
    private long lastProgress = -1;
    private long lastClientPending = -1;
    private long lastBackendPending = -1;
    private long lastMove;
    /** The connection's taps and data hooks, or {@code null}: then bytes go straight to the peer. */
    private DataPath dataPath;

    private Relay(ConnectionState conn, EngineConfig config) {
        this.conn = conn;
        this.client = conn.client();
        this.backend = conn.backend();
        this.drainNanos = config.drainTimeout().toNanos();
    }

    /**
     * Starts relaying, without data hooks or taps. The peeked bytes must already be written (not necessarily
     * flushed) to the backend.
     *
     * @param conn the connection, with its backend connected
     * @param config the settings
     * @param clientInputShutdown whether the client already sent its FIN during detection
     */
    public static void start(ConnectionState conn, EngineConfig config, boolean clientInputShutdown) {
        start(conn, config, Inspection.NONE, null, clientInputShutdown);
    }

    /**
     * Starts relaying: asks the data hook factories and the taps about the connection, passes the peeked bytes on
     * (through the data hooks, if the connection has any) and relays the rest.
     *
     * @param conn the connection, with its backend connected
     * @param config the settings
     * @param inspection the instance's data hooks and taps
     * @param peeked the bytes read during detection, or {@code null}; ownership passes to the relay
     * @param clientInputShutdown whether the client already sent its FIN during detection
     */
    public static void start(ConnectionState conn, EngineConfig config, Inspection inspection, ByteBuf peeked,
                             boolean clientInputShutdown) {
        DataPath dataPath;
        try {
            dataPath = inspection.open(conn);
        } catch (Throwable t) {
            if (peeked != null) {
                peeked.release();
            }
            log.warn("[{}] a data hook factory or tap threw; closing the connection: {}", conn.id(), t.toString(), t);
            conn.detail("a data hook factory or tap threw " + t);
            conn.close(CloseReason.ERROR);
            return;
        }
        Relay relay = new Relay(conn, config);
        relay.dataPath = dataPath;
        Channel client = conn.client();
        Channel backend = conn.backend();
        boolean spliceable = dataPath == null && config.splice() && !BandwidthShaping.isShaped(client, backend)
                && client instanceof AbstractEpollStreamChannel
                && backend instanceof AbstractEpollStreamChannel && client.eventLoop() == backend.eventLoop();
        relay.clientSide = relay.new Side(client, backend, true, spliceable);
        relay.backendSide = relay.new Side(backend, client, false, spliceable);
        relay.clientSide.peerSide = relay.backendSide;
        relay.backendSide.peerSide = relay.clientSide;
        if (dataPath != null) {
            conn.onFinished(dataPath::closed);
        }
        if (peeked != null) {
            if (!peeked.isReadable()) {
                peeked.release();
            } else if (dataPath != null) {
                dataPath.fromSource(Direction.CLIENT_TO_BACKEND, peeked);
                client.flush();
            } else {
                backend.write(peeked, backend.voidPromise());
            }
        }
        client.pipeline().addLast("relay", relay.clientSide);
        backend.pipeline().addLast("relay", relay.backendSide);
        client.closeFuture().addListener(f -> relay.closed(relay.clientSide));
        backend.closeFuture().addListener(f -> relay.closed(relay.backendSide));
        backend.flush();
        if (clientInputShutdown) {
            relay.clientSide.inputShutdown = true;
            relay.inputDone(relay.clientSide);
        } else {
            client.config().setAutoRead(true);
        }
        if (!config.idleTimeout().isZero()) {
            relay.lastActivity = conn.ticker().nanoTime();
            relay.idleSweeper = IdleSweeper.of(client.eventLoop(), config.idleTimeout().toNanos());
            relay.idleSweeper.add(relay);
        }
        if (log.isDebugEnabled()) {
            log.debug("[{}] relaying {} <-> {} ({})", conn.id(), conn.clientAddress(), backend.remoteAddress(),
                    dataPath != null ? "copy, inspected" : spliceable ? "copy, splice once bulk" : "copy");
        }
    }

    /**
     * Returns whether an I/O error means the peer reset the connection: {@code ECONNRESET} from the native transport,
     * or the "Connection reset" of the JDK's sockets (NIO).
     */
    static boolean isReset(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            // instanceof first: Errors' constants need the native library, which exists when such an exception does.
            if (t instanceof Errors.NativeIoException
                    && ((Errors.NativeIoException) t).expectedErr() == Errors.ERRNO_ECONNRESET_NEGATIVE) {
                return true;
            }
            if (t instanceof IOException && t.getMessage() != null && t.getMessage().contains("Connection reset")) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Closes a channel with a reset: {@code SO_LINGER} 0, so the kernel sends RST and drops what is queued. */
    static void resetAndClose(Channel ch) {
        if (!ch.isOpen()) {
            return;
        }
        try {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
            log.debug("setting SO_LINGER 0 failed: {}", e.toString());
        }
        ch.close();
    }

    /**
     * The input of {@code from} ended (its FIN, and for a spliced direction the rest of its receive queue, is
     * through): send a FIN to the peer once everything before it is written, and keep the other direction going.
     * When the peer had already finished sending, both are done: each channel is closed once what is queued for it is
     * written, which also spares a {@code shutdown(2)}.
     */
    private void inputDone(Side from) {
        if (dataPath != null) {
            dataPath.end(from.direction());
        }
        from.inputDone = true;
        Channel to = from.peer;
        armDrainTimer();
        if (from.peerSide.inputDone) {
            to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            from.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                failed(from.peerSide, f.cause());
            } else if (to instanceof DuplexChannel) {
                shutdownOutput(from.peerSide);
            } else {
                to.close();
            }
        });
    }

    /**
     * Sends a side its FIN: everything queued for it is written. On epoll the socket is shut down directly, because
     * Netty's {@code shutdownOutput()} builds an exception with a stack trace on every call, for writes that could
     * still be queued, and nothing is queued here; that exception was the largest single cost of a short connection.
     * A side that has its FIN and is not spliced is then closed as soon as its own input ends, instead of Netty
     * shutting down the input of a socket that may already be gone (one more system call and one more exception):
     * both directions are done at that point, and {@link Side#channelInactive} passes the end on. With a data path
     * the input's end goes through {@link #inputDone}, so the data hooks hear of it.
     */
    private void shutdownOutput(Side side) {
        Channel ch = side.channel;
        if (!(ch instanceof AbstractEpollStreamChannel)) {
            // NIO and io_uring keep Netty's call; the shortcut is measured and load-tested on epoll only.
            ((DuplexChannel) ch).shutdownOutput();
            return;
        }
        try {
            ((Socket) ((AbstractEpollStreamChannel) ch).fd()).shutdown(false, true);
        } catch (IOException | RuntimeException e) {
            // The peer is gone (ENOTCONN, or a reset): its read will say how; nothing more can be sent to it.
            log.debug("[{}] shutting down the output of the {} failed: {}", conn.id(), side.name(), e.toString());
            ch.close();
            return;
        }
        if (dataPath == null && !side.spliced) {
            side.closeAtInputEnd = true;
            ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        }
    }

    /**
     * One side failed. A reset is passed on as a reset. Otherwise only that side is closed at once; its
     * {@code channelInactive} then flushes what is queued for the other side before closing it, so bytes already
     * received are still delivered. An error on a side whose input had already ended does not count as a failure of
     * the connection.
     */
    private void failed(Side side, Throwable cause) {
        boolean reset = isReset(cause);
        log.debug("[{}] {} {}{}: {}", conn.id(), side.name(), reset ? "reset" : "error",
                side.inputDone ? " after its input ended" : "", cause.toString(), log.isTraceEnabled() ? cause : null);
        if (reset) {
            side.reset = true;
            conn.reason(CloseReason.ERROR);
        } else if (!side.inputDone) {
            conn.reason(CloseReason.ERROR);
        }
        side.channel.close();
    }

    /**
     * A channel closed (on its event loop, before its pipeline hears of it). When the peer may still splice into it,
     * the peer closes at once: the pipe into this channel is gone and its file descriptor number may already belong
     * to another connection. A reset is passed on as a reset.
     */
    private void closed(Side side) {
        Side other = side.peerSide;
        if (!other.channel.isOpen()) {
            cancelTimers();
            return;
        }
        if (other.spliced && !other.inputShutdown) {
            log.debug("[{}] {} closed while the {} splices into it: closing the {} now", conn.id(), side.name(),
                    other.name(), other.name());
            if (side.reset) {
                resetAndClose(other.channel);
            } else {
                other.channel.close();
            }
        }
    }

    private void cancelTimers() {
        clientSide.cancelPausedResetCheck();
        backendSide.cancelPausedResetCheck();
        if (idleSweeper != null) {
            idleSweeper.remove(this);
        }
        if (drainTimer != null) {
            drainTimer.cancel(false);
        }
    }

    /** Called by the idle sweeper: closes the connection once neither side has moved a byte for the timeout. */
    void checkIdle(long idleNanos) {
        long bytes = conn.clientCounter().bytesRead() + conn.backendCounter().bytesRead();
        long now = conn.ticker().nanoTime();
        if (bytes != lastBytes) {
            lastBytes = bytes;
            lastActivity = now;
        } else if (now - lastActivity >= idleNanos) {
            log.debug("[{}] idle for {} ms; closing", conn.id(), TimeUnit.NANOSECONDS.toMillis(now - lastActivity));
            idleSweeper.remove(this);
            conn.close(CloseReason.IDLE_TIMEOUT);
        }
    }

    /**
     * Once a side has finished (FIN or closed), checks that what is queued for writing keeps moving: when bytes are
     * queued on either channel and nothing was read or written for the drain timeout, both sides are reset.
     */
    private void armDrainTimer() {
        if (drainTimer != null || !client.isOpen() && !backend.isOpen()) {
            return;
        }
        lastMove = conn.ticker().nanoTime();
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), drainNanos / 4);
        drainTimer = client.eventLoop().scheduleAtFixedRate(this::checkDrain, period, period, TimeUnit.NANOSECONDS);
    }

    private void checkDrain() {
        long progress = conn.clientCounter().bytesRead() + conn.backendCounter().bytesRead() + moves;
        long clientPending = pendingBytes(client);
        long backendPending = pendingBytes(backend);
        long now = conn.ticker().nanoTime();
        boolean moved = progress != lastProgress || clientPending != lastClientPending
                || backendPending != lastBackendPending;
        lastProgress = progress;
        lastClientPending = clientPending;
        lastBackendPending = backendPending;
        if (moved || clientPending == 0 && backendPending == 0) {
            lastMove = now;
        } else if (now - lastMove >= drainNanos) {
            log.debug("[{}] queued bytes did not move for {} ms after a side finished (client {} bytes, backend {} "
                    + "bytes queued); resetting", conn.id(), TimeUnit.NANOSECONDS.toMillis(now - lastMove),
                    clientPending, backendPending);
            conn.reason(CloseReason.DRAIN_TIMEOUT);
            resetAndClose(client);
            resetAndClose(backend);
        }
    }

    /** Bytes queued on a channel and not yet written to its socket (a pending splice counts as a few bytes). */
    private static long pendingBytes(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    /**
     * The relay handler of one channel; forwards what it reads to the peer. It starts by copying buffers, which is
     * cheapest for the short exchanges most connections are; when one read brings {@value #SPLICE_AFTER_READ_BYTES}
     * bytes or more (a bulk transfer, the socket had more queued) and splicing is possible, this direction switches
     * to {@code splice(2)} for the rest of the connection. The buffer just read is written first, so order holds.
     */
    private final class Side extends ChannelInboundHandlerAdapter {
        final Channel channel;
        final Channel peer;
        final boolean isClient;
        private final boolean spliceable;
        Side peerSide;
        /** This channel's input is moved with {@code splice(2)}. */
        boolean spliced;
        /** The transport shut this channel's input down (FIN seen); for a spliced side, bytes may still be queued. */
        boolean inputShutdown;
        /** Everything this channel sent has been passed on, and the FIN after it. */
        boolean inputDone;
        /** The peer of this channel reset the connection. */
        boolean reset;
        /** This side has its FIN and closes when its input ends (half-closure off): see {@link #shutdownOutput}. */
        boolean closeAtInputEnd;
        private boolean pumping;
        /** The pending check for a reset while this side's reading is paused, or {@code null}. */
        private ScheduledFuture<?> pausedResetCheck;

        Side(Channel channel, Channel peer, boolean isClient, boolean spliceable) {
            this.channel = channel;
            this.peer = peer;
            this.isClient = isClient;
            this.spliceable = spliceable;
        }

        String name() {
            return isClient ? "client" : "backend";
        }

        /** Returns the direction of the bytes this channel sends. */
        Direction direction() {
            return isClient ? Direction.CLIENT_TO_BACKEND : Direction.BACKEND_TO_CLIENT;
        }

        private CountingRecvByteBufAllocator counter() {
            return isClient ? conn.clientCounter() : conn.backendCounter();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf) || !peer.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            int bytes = ((ByteBuf) msg).readableBytes();
            moves += bytes;
            if (dataPath != null) {
                dataPath.fromSource(direction(), (ByteBuf) msg);
            } else {
                peer.write(msg, peer.voidPromise());
            }
            if (spliceable && !spliced && bytes >= SPLICE_AFTER_READ_BYTES) {
                startSplice();
            }
            if (!spliced && !peer.isWritable()) {
                peer.flush();
                if (!peer.isWritable()) {
                    pauseReading();
                }
            }
        }

        /**
         * Stops reading this side until its peer drains. Epoll keeps watching a paused socket for the peer's hang-up
         * and reports a reset at once; io_uring's one-shot hang-up poll may already be spent (a reset with bytes still
         * queued wakes one read, which brings bytes and pauses again), so there the socket's pending error is checked
         * every {@value #PAUSED_RESET_CHECK_MILLIS} ms while the pause lasts, and a reset ends the connection.
         */
        private void pauseReading() {
            channel.config().setAutoRead(false);
            if (pausedResetCheck == null && channel instanceof UnixChannel
                    && !(channel instanceof AbstractEpollStreamChannel)) {
                pausedResetCheck = channel.eventLoop().schedule(this::checkPausedReset, PAUSED_RESET_CHECK_MILLIS,
                        TimeUnit.MILLISECONDS);
            }
        }

        private void checkPausedReset() {
            pausedResetCheck = null;
            if (!channel.isOpen() || channel.config().isAutoRead() || inputShutdown) {
                return;
            }
            int error = pendingError();
            if (error != 0) {
                failed(this, new IOException(error == -Errors.ERRNO_ECONNRESET_NEGATIVE
                        ? "Connection reset (seen in SO_ERROR while reading was paused)"
                        : "socket error " + error + " (seen in SO_ERROR while reading was paused)"));
                return;
            }
            pauseReading();
        }

        void cancelPausedResetCheck() {
            if (pausedResetCheck != null) {
                pausedResetCheck.cancel(false);
                pausedResetCheck = null;
            }
        }

        private void startSplice() {
            spliced = true;
            if (closeAtInputEnd) {
                // A spliced input drains its receive queue after the FIN: Netty must not close it at the FIN.
                closeAtInputEnd = false;
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            }
            conn.spliced();
            counter().splicing();
            // Read on demand from now on (see pump): Netty then leaves auto-read alone.
            channel.config().setAutoRead(false);
            AbstractEpollStreamChannel from = (AbstractEpollStreamChannel) channel;
            from.spliceTo((AbstractEpollStreamChannel) peer, Integer.MAX_VALUE).addListener(
                    (ChannelFutureListener) f -> {
                        if (f.isSuccess() || !channel.isOpen()) {
                            return;
                        }
                        if (!peer.isOpen()) {
                            // Writing into the peer failed and Netty closed it; a reset there is passed on.
                            if (isReset(f.cause())) {
                                peerSide.reset = true;
                                resetAndClose(channel);
                            }
                            return;
                        }
                        failed(this, f.cause());
                    });
        }

        /**
         * Asks for the next read of a spliced direction once everything read so far has left the pipe for the peer's
         * socket: at most one pipe's worth is in flight, and a peer that does not read stops this side.
         */
        private void pump() {
            if (pumping) {
                return;
            }
            pumping = true;
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    pumping = false;
                    return;
                }
                // Later, not now: this may run inside this channel's read loop, which clears the read interest
                // when it ends with auto-read off, and would undo a read() asked for here.
                channel.eventLoop().execute(() -> {
                    pumping = false;
                    if (channel.isActive() && !inputShutdown) {
                        channel.read();
                    }
                });
            });
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (spliced && !inputShutdown) {
                pump();
            } else {
                peer.flush();
                if (dataPath != null) {
                    // A data hook may have answered the source.
                    channel.flush();
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // The peer reads into this channel; a spliced peer paces itself (pump).
            if (channel.isWritable() && peer.isActive() && !peerSide.inputShutdown && !peerSide.spliced) {
                peer.config().setAutoRead(true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && !inputShutdown) {
                inputShutdown = true;
                if (spliced && resetPending()) {
                    // A reset while the pipe was full looks like a FIN to the splice path; the socket knows better.
                    failed(this, new IOException("Connection reset (seen in SO_ERROR after the input ended)"));
                    ReferenceCountUtil.release(evt);
                    return;
                }
                log.debug("[{}] {} sent its FIN{}", conn.id(), name(), spliced ? "; draining its receive queue" : "");
                if (spliced) {
                    drainStep();
                } else {
                    inputDone(this);
                }
            }
            ReferenceCountUtil.release(evt);
        }

        /** Returns whether the socket holds a pending {@code ECONNRESET} (read and cleared with {@code SO_ERROR}). */
        private boolean resetPending() {
            return pendingError() == -Errors.ERRNO_ECONNRESET_NEGATIVE;
        }

        /** Returns the socket's pending error number, 0 for none (read and cleared with {@code SO_ERROR}). */
        private int pendingError() {
            FileDescriptor fd = ((UnixChannel) channel).fd();
            if (!(fd instanceof Socket) || !channel.isOpen()) {
                return 0;
            }
            try {
                return ((Socket) fd).getSoError();
            } catch (IOException e) {
                return 0;
            }
        }

        /**
         * One step of the drain after a spliced side's FIN: once everything queued for the peer is written, read one
         * chunk of what is left in the receive queue and pass it on; at the end of the queue, pass the FIN on.
         */
        private void drainStep() {
            armDrainTimer();
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    // The peer is gone; what is left here cannot be delivered.
                    if (channel.isOpen()) {
                        channel.close();
                    }
                    return;
                }
                moves++;
                drainRead();
            });
        }

        private void drainRead() {
            if (!channel.isOpen()) {
                // Never read a closed descriptor: its number may belong to another connection by now.
                return;
            }
            FileDescriptor fd = ((UnixChannel) channel).fd();
            ByteBuf buf = channel.alloc().directBuffer(DRAIN_CHUNK_BYTES);
            int n;
            try {
                n = buf.hasMemoryAddress()
                        ? fd.readAddress(buf.memoryAddress(), 0, buf.capacity())
                        : fd.read(buf.internalNioBuffer(0, buf.capacity()), 0, buf.capacity());
            } catch (IOException e) {
                buf.release();
                failed(this, e);
                return;
            }
            if (n <= 0) {
                buf.release();
                inputDone(this);
                return;
            }
            buf.writerIndex(n);
            counter().add(n);
            peer.write(buf, peer.voidPromise());
            drainStep();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!peer.isOpen()) {
                return;
            }
            if (reset) {
                log.debug("[{}] {} reset: resetting the {}", conn.id(), name(), peerSide.name());
                resetAndClose(peer);
                return;
            }
            armDrainTimer();
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!channel.isOpen()) {
                // A write that was queued when the channel closed; the close is already handled.
                return;
            }
            failed(this, cause);
        }
    }
}
