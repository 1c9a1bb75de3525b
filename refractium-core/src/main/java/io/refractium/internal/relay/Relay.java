package io.refractium.internal.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.UnixChannel;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.hook.CloseReason;
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
 * never enter the JVM; short exchanges never pay for the pipes). On both paths a
 * FIN from one side becomes a FIN to the other once everything before it is written, the other direction keeps
 * going, and the connection closes when both directions are done. An idle timer closes connections that move no
 * bytes either way.
 */
public final class Relay {

    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** A read at least this large means a bulk transfer: that direction switches to {@code splice(2)}. */
    static final int SPLICE_AFTER_READ_BYTES = 16 * 1024;

    private final ConnectionState conn;
    private final Channel client;
    private final Channel backend;
    private boolean clientInputDone;
    private boolean backendInputDone;
    private ScheduledFuture<?> idleTimer;
    private long lastBytes = -1;
    private long lastActivity;

    private Relay(ConnectionState conn) {
        this.conn = conn;
        this.client = conn.client();
        this.backend = conn.backend();
    }

    /**
     * Starts relaying. The peeked bytes must already be written (not necessarily flushed) to the backend.
     *
     * @param conn the connection, with its backend connected
     * @param config the settings
     * @param clientInputShutdown whether the client already sent its FIN during detection
     */
    public static void start(ConnectionState conn, EngineConfig config, boolean clientInputShutdown) {
        Relay relay = new Relay(conn);
        Channel client = conn.client();
        Channel backend = conn.backend();
        boolean spliceable = config.splice() && client instanceof AbstractEpollStreamChannel
                && backend instanceof AbstractEpollStreamChannel && client.eventLoop() == backend.eventLoop();
        client.pipeline().addLast("relay", relay.new Side(backend, true, spliceable));
        backend.pipeline().addLast("relay", relay.new Side(client, false, spliceable));
        backend.flush();
        if (clientInputShutdown) {
            relay.inputDone(client, backend);
        } else {
            client.config().setAutoRead(true);
        }
        if (!config.idleTimeout().isZero()) {
            relay.lastActivity = conn.ticker().nanoTime();
            relay.scheduleIdleCheck(config.idleTimeout().toNanos());
        }
        if (log.isDebugEnabled()) {
            log.debug("[{}] relaying {} <-> {} ({})", conn.id(), client.remoteAddress(), backend.remoteAddress(),
                    spliceable ? "copy, splice once bulk" : "copy");
        }
    }

    private void splice(AbstractEpollStreamChannel from, AbstractEpollStreamChannel to) {
        from.spliceTo(to, Integer.MAX_VALUE).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() && from.isOpen() && to.isOpen()) {
                failed(from, f.cause());
            }
        });
    }

    /**
     * The input of {@code from} ended: send a FIN to {@code to} once everything before it is written, and keep the
     * other direction going. When {@code to} had already finished sending, both peers are done: each channel is
     * closed once what is queued for it is written, which also spares a {@code shutdown(2)}.
     */
    private void inputDone(Channel from, Channel to) {
        boolean toInputDone;
        if (from == client) {
            clientInputDone = true;
            toInputDone = backendInputDone;
        } else {
            backendInputDone = true;
            toInputDone = clientInputDone;
        }
        if (toInputDone) {
            to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            from.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                failed(to, f.cause());
            } else if (to instanceof DuplexChannel) {
                ((DuplexChannel) to).shutdownOutput();
            } else {
                to.close();
            }
        });
    }

    /**
     * Netty's splice path shuts the input down as soon as the peer's FIN is seen, which can leave the last bytes in
     * the socket's receive queue. Linux still returns queued bytes after {@code shutdown(SHUT_RD)}, so read them
     * here and queue them behind the spliced bytes, before the FIN is passed on.
     */
    private void drainAfterSplice(Channel from, Channel to, CountingRecvByteBufAllocator counter) {
        FileDescriptor fd = ((UnixChannel) from).fd();
        for (;;) {
            ByteBuf buf = from.alloc().ioBuffer(16 * 1024);
            int n;
            try {
                n = buf.hasMemoryAddress()
                        ? fd.readAddress(buf.memoryAddress(), 0, buf.capacity())
                        : fd.read(buf.internalNioBuffer(0, buf.capacity()), 0, buf.capacity());
            } catch (IOException e) {
                buf.release();
                log.debug("[{}] reading the rest after splice failed: {}", conn.id(), e.toString());
                return;
            }
            if (n <= 0) {
                buf.release();
                return;
            }
            buf.writerIndex(n);
            counter.add(n);
            to.write(buf, to.voidPromise());
        }
    }

    /**
     * One side failed. Only that side is closed at once; its {@code channelInactive} then flushes what is queued for
     * the other side before closing it, so bytes already received are still delivered. An error on a side whose
     * input had already ended (Netty can fail to re-arm reading on such a socket) does not count as a failure of
     * the connection.
     */
    private void failed(Channel ch, Throwable cause) {
        boolean inputDone = ch == client ? clientInputDone : backendInputDone;
        log.debug("[{}] {} error{}: {}", conn.id(), ch == client ? "client" : "backend",
                inputDone ? " after its input ended" : "", cause.toString());
        if (!inputDone) {
            conn.reason(CloseReason.ERROR);
        }
        ch.close();
    }

    private void scheduleIdleCheck(long idleNanos) {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), idleNanos / 4);
        idleTimer = client.eventLoop().scheduleAtFixedRate(() -> {
            long bytes = conn.clientCounter().bytesRead() + conn.backendCounter().bytesRead();
            long now = conn.ticker().nanoTime();
            if (bytes != lastBytes) {
                lastBytes = bytes;
                lastActivity = now;
            } else if (now - lastActivity >= idleNanos) {
                log.debug("[{}] idle for {} ms; closing", conn.id(), TimeUnit.NANOSECONDS.toMillis(now - lastActivity));
                conn.close(CloseReason.IDLE_TIMEOUT);
            }
        }, period, period, TimeUnit.NANOSECONDS);
        client.closeFuture().addListener(f -> idleTimer.cancel(false));
    }

    /**
     * The relay handler of one channel; forwards what it reads to the peer. It starts by copying buffers, which is
     * cheapest for the short exchanges most connections are; when one read brings {@value #SPLICE_AFTER_READ_BYTES}
     * bytes or more (a bulk transfer, the socket had more queued) and splicing is possible, this direction switches
     * to {@code splice(2)} for the rest of the connection. The buffer just read is written first, so order holds.
     */
    private final class Side extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final boolean isClient;
        private final boolean spliceable;
        private boolean spliced;

        Side(Channel peer, boolean isClient, boolean spliceable) {
            this.peer = peer;
            this.isClient = isClient;
            this.spliceable = spliceable;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf) || !peer.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            int bytes = ((ByteBuf) msg).readableBytes();
            peer.write(msg, peer.voidPromise());
            if (spliceable && !spliced && bytes >= SPLICE_AFTER_READ_BYTES) {
                spliced = true;
                conn.spliced();
                (isClient ? conn.clientCounter() : conn.backendCounter()).splicing();
                splice((AbstractEpollStreamChannel) ctx.channel(), (AbstractEpollStreamChannel) peer);
            }
            if (!peer.isWritable()) {
                peer.flush();
                if (!peer.isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && peer.isActive() && !(peer == client ? clientInputDone : backendInputDone)) {
                peer.config().setAutoRead(true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                if (spliced) {
                    peer.flush();
                    drainAfterSplice(ctx.channel(), peer, isClient ? conn.clientCounter() : conn.backendCounter());
                }
                inputDone(ctx.channel(), peer);
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failed(ctx.channel(), cause);
        }
    }
}
