package io.refractium.examples.backends;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Behind the TLS handler and a line decoder: says {@code hello from NAME} once the handshake is done and again for
 * every line received. Releases the lines it receives.
 */
final class TlsHelloHandler extends ChannelInboundHandlerAdapter {

    private final String greeting;

    TlsHelloHandler(String serverName) {
        this.greeting = "hello from " + serverName + "\n";
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent) {
            if (((SslHandshakeCompletionEvent) evt).isSuccess()) {
                greet(ctx);
            } else {
                ctx.close();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        greet(ctx);
    }

    private void greet(ChannelHandlerContext ctx) {
        ByteBuf out = ByteBufUtil.writeUtf8(ctx.alloc(), greeting);
        ctx.writeAndFlush(out);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
