package io.refractium.examples.customprotocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The example's stand-in for a Redis server when none runs locally: it reads RESP command arrays and answers
 * {@code PING} with {@code +PONG}, {@code ECHO msg} with {@code msg}, and everything else with an error that says
 * what it is. It closes on bytes that are not a RESP array. The cumulation buffer is owned and released by
 * {@link ByteToMessageDecoder}.
 */
final class PingOnlyRedisHandler extends ByteToMessageDecoder {

    private static final int MAX_ELEMENTS = 64;
    private static final int MAX_ELEMENT_BYTES = 64 * 1024;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            List<String> command = readCommand(in);
            if (command == null) {
                in.readerIndex(start);
                return;
            }
            if (command.isEmpty()) {
                in.skipBytes(in.readableBytes());
                ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), "-ERR expected a RESP array of bulk strings\r\n"))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), reply(command)));
        }
    }

    private static String reply(List<String> command) {
        String name = command.get(0).toUpperCase(Locale.ROOT);
        if (name.equals("PING")) {
            return command.size() > 1 ? bulk(command.get(1)) : "+PONG\r\n";
        }
        if (name.equals("ECHO") && command.size() == 2) {
            return bulk(command.get(1));
        }
        return "-ERR this is the Refractium example's stand-in for Redis: it answers PING and ECHO only\r\n";
    }

    private static String bulk(String s) {
        return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
    }

    /** Returns the command, {@code null} when more bytes are needed, or an empty list for bytes that are not RESP. */
    private static List<String> readCommand(ByteBuf in) {
        if (in.readByte() != '*') {
            return List.of();
        }
        Integer count = readNumber(in);
        if (count == null) {
            return null;
        }
        if (count < 1 || count > MAX_ELEMENTS) {
            return List.of();
        }
        List<String> elements = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (!in.isReadable()) {
                return null;
            }
            if (in.readByte() != '$') {
                return List.of();
            }
            Integer length = readNumber(in);
            if (length == null) {
                return null;
            }
            if (length < 0 || length > MAX_ELEMENT_BYTES) {
                return List.of();
            }
            if (in.readableBytes() < length + 2) {
                return null;
            }
            elements.add(in.readCharSequence(length, StandardCharsets.UTF_8).toString());
            in.skipBytes(2);
        }
        return elements;
    }

    /** Reads digits up to {@code \r\n}; {@code null} when incomplete, -1 when malformed. */
    private static Integer readNumber(ByteBuf in) {
        int value = 0;
        int digits = 0;
        while (in.isReadable()) {
            byte b = in.readByte();
            if (b == '\r') {
                if (!in.isReadable()) {
                    return null;
                }
                return in.readByte() == '\n' && digits > 0 ? value : -1;
            }
            if (b < '0' || b > '9' || ++digits > 9) {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return null;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
