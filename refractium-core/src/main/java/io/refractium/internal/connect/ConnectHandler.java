package io.refractium.internal.connect;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.refractium.ProxyProtocolVersion;
import io.refractium.hook.CloseReason;
import io.refractium.internal.detect.PeekBuffer;
import io.refractium.internal.engine.ConnectionPath;
import io.refractium.internal.engine.ConnectionState;
import io.refractium.internal.health.TargetRuntime;
import io.refractium.internal.proxy.ProxyHeaders;
import io.refractium.internal.relay.Relay;

/**
 * The connect stage of a TCP connection: runs the {@link BackendConnector}, keeps the client's bytes (up to the
 * peek cap; beyond it reading pauses and the rest waits in the kernel), then replays them to the backend and hands
 * the connection to the {@link Relay}, removing itself. A PROXY protocol header, when a target asks for one, is
 * written to the backend here, before the replayed bytes.
 *
 * <p>Buffer ownership: the {@link PeekBuffer} handed over by the detect stage is owned here until written to the
 * backend, and released in {@link #handlerRemoved} otherwise.
 */
public final class ConnectHandler extends ChannelInboundHandlerAdapter implements BackendConnector.Callback {

    private final ConnectionPath path;
    private final ConnectionState conn;
    private final PeekBuffer peeked;
    private final BackendConnector connector;
    private ChannelHandlerContext ctx;
    private boolean inputShutdown;
    private boolean done;

    /**
     * Creates the stage.
     *
     * @param path the instance's shared services
     * @param conn the connection, with its target recorded
     * @param runtime the target's run-time state
     * @param peeked the bytes read so far; ownership passes to this handler
     * @param inputShutdown whether the client already sent its FIN
     */
    public ConnectHandler(ConnectionPath path, ConnectionState conn, TargetRuntime runtime, PeekBuffer peeked,
                          boolean inputShutdown) {
        this.path = path;
        this.conn = conn;
        this.peeked = peeked;
        this.inputShutdown = inputShutdown;
        this.connector = new BackendConnector(path, conn, runtime, this);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        pauseAtCap();
        connector.start();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        peeked.release();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf) || done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        peeked.append(ctx.alloc(), (ByteBuf) msg);
        pauseAtCap();
    }

    private void pauseAtCap() {
        if (peeked.readableBytes() >= path.config().maxPeekBytes()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done = true;
        connector.cancel();
        peeked.release();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        done = true;
        connector.cancel();
        conn.close(CloseReason.ERROR);
    }

    @Override
    public void connected(Channel backend) {
        path.hooks().backendConnected(conn, conn.backendAddress());
        Channel client = ctx.channel();
        if (done || !client.isActive() || !backend.isActive()) {
            conn.close(CloseReason.ERROR);
            return;
        }
        done = true;
        ProxyProtocolVersion proxy = conn.target() == null ? null : conn.target().sendProxyProtocol();
        if (proxy != null) {
            backend.write(ProxyHeaders.forConnection(proxy, conn), backend.voidPromise());
        }
        path.shaping().install(conn);
        Relay.start(conn, path.config(), path.hooks().inspection(), peeked.take(), inputShutdown);
        ctx.pipeline().remove(this);
    }

    @Override
    public void unavailable() {
        done = true;
        peeked.release();
        conn.close(CloseReason.BACKEND_UNAVAILABLE);
    }
}
