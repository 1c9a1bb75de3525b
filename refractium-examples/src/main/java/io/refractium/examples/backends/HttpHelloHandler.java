package io.refractium.examples.backends;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * A minimal HTTP/1.1 server (RFC 9112) that answers every request with {@code hello from NAME (Host: HOST)}. It
 * reads the request head, skips a {@code Content-Length} body, keeps the connection open unless the client asks
 * otherwise, and closes after a request it cannot frame (a chunked body, a head over 16 KiB, a malformed request
 * line). The cumulation buffer is owned and released by {@link ByteToMessageDecoder}.
 */
final class HttpHelloHandler extends ByteToMessageDecoder {

    private static final int MAX_HEAD_BYTES = 16 * 1024;

    private final String name;
    private long bodyToSkip;
    private boolean closing;

    HttpHelloHandler(String name) {
        this.name = name;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable() && !closing) {
            if (bodyToSkip > 0) {
                int n = (int) Math.min(bodyToSkip, in.readableBytes());
                in.skipBytes(n);
                bodyToSkip -= n;
                continue;
            }
            int end = headEnd(in);
            if (end < 0) {
                if (in.readableBytes() > MAX_HEAD_BYTES) {
                    respond(ctx, "431 Request Header Fields Too Large", "request head over 16 KiB\n", false, false);
                }
                return;
            }
            String head = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.ISO_8859_1);
            in.readerIndex(end + 4);
            handle(ctx, head);
        }
        if (closing) {
            in.skipBytes(in.readableBytes());
        }
    }

    private void handle(ChannelHandlerContext ctx, String head) {
        String[] lines = head.split("\r\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            respond(ctx, "400 Bad Request", "malformed request line\n", false, false);
            return;
        }
        String host = null;
        String connection = null;
        boolean chunked = false;
        long contentLength = 0;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String field = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            switch (field) {
                case "host":
                    host = value;
                    break;
                case "connection":
                    connection = value.toLowerCase(Locale.ROOT);
                    break;
                case "transfer-encoding":
                    chunked = true;
                    break;
                case "content-length":
                    try {
                        contentLength = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        contentLength = -1;
                    }
                    break;
                default:
                    break;
            }
        }
        if (contentLength < 0) {
            respond(ctx, "400 Bad Request", "malformed Content-Length\n", false, false);
            return;
        }
        boolean http10 = requestLine[2].equals("HTTP/1.0");
        boolean keepAlive = !chunked && (http10 ? "keep-alive".equals(connection) : !"close".equals(connection));
        bodyToSkip = contentLength;
        String body = "hello from " + name + " (Host: " + (host == null ? "none" : host) + ")\n";
        respond(ctx, "200 OK", body, keepAlive, requestLine[0].equals("HEAD"));
    }

    private void respond(ChannelHandlerContext ctx, String status, String body, boolean keepAlive, boolean headOnly) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String response = "HTTP/1.1 " + status + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + bytes.length + "\r\n"
                + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n"
                + (headOnly ? "" : body);
        ChannelFuture f = ctx.writeAndFlush(ByteBufUtil.writeUtf8(ctx.alloc(), response));
        if (!keepAlive) {
            closing = true;
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static int headEnd(ByteBuf in) {
        for (int i = in.readerIndex(), last = in.writerIndex() - 4; i <= last; i++) {
            if (in.getByte(i) == '\r' && in.getByte(i + 1) == '\n' && in.getByte(i + 2) == '\r'
                    && in.getByte(i + 3) == '\n') {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
