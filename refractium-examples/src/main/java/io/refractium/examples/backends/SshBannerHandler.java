package io.refractium.examples.backends;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Speaks first like an SSH server (RFC 4253 §4.2): the explanation lines, then {@code SSH-2.0-RefractiumDemo}. It
 * closes when the client sends anything (releasing it) or after 30 seconds.
 */
final class SshBannerHandler extends ChannelInboundHandlerAdapter {

    /** The version line this server sends. */
    static final String VERSION_LINE = "SSH-2.0-RefractiumDemo";

    private final String banner;

    SshBannerHandler(List<String> explanation) {
        StringBuilder sb = new StringBuilder();
        for (String line : explanation) {
            sb.append(line).append("\r\n");
        }
        this.banner = sb.append(VERSION_LINE).append("\r\n").toString();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), banner));
        ctx.executor().schedule(() -> ctx.close(), 30, TimeUnit.SECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
