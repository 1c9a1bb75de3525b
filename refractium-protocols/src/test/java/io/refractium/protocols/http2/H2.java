package io.refractium.protocols.http2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import io.refractium.protocols.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.BiConsumer;

/** HTTP/2 client bytes for the tests: Netty's frame writer and HPACK encoder, hand-made frames, curl captures. */
final class H2 {

    static final int HEADERS = 1;
    static final int PRIORITY = 2;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int WINDOW_UPDATE = 8;
    static final int CONTINUATION = 9;
    static final int END_STREAM = 0x1;
    static final int END_HEADERS = 0x4;
    static final int PADDED = 0x8;
    static final int PRIORITY_FLAG = 0x20;

    private H2() {
    }

    /** The connection preface. */
    static byte[] preface() {
        return Samples.ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    }

    /** A frame. */
    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A SETTINGS frame as curl sends it: MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE 32 MiB. */
    static byte[] settings() {
        return frame(SETTINGS, 0, 0, new byte[] {0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0});
    }

    /** The preface, then SETTINGS and WINDOW_UPDATE. */
    static byte[] start() {
        return Samples.concat(preface(), settings(), frame(WINDOW_UPDATE, 0, 0, new byte[] {0, 0x3f, 0, 1}));
    }

    /** A GET request's headers. */
    static Http2Headers get(String authority, String path) {
        return new DefaultHttp2Headers(false, false, 8).method("GET").scheme("http").authority(authority).path(path)
                .add("user-agent", "netty-test/4.2").add("accept", "*/*");
    }

    /** Returns a header block as Netty's HPACK encoder writes it (Huffman always when shorter, or never). */
    static byte[] hpack(Http2Headers headers, boolean huffman) {
        return hpack(headers, huffman, Http2HeadersEncoder.NEVER_SENSITIVE);
    }

    static byte[] hpack(Http2Headers headers, boolean huffman, Http2HeadersEncoder.SensitivityDetector sensitive) {
        DefaultHttp2HeadersEncoder encoder = encoder(huffman, sensitive);
        ByteBuf out = Unpooled.buffer();
        try {
            encoder.encodeHeaders(1, headers, out);
            return ByteBufUtil.getBytes(out);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            out.release();
            encoder.close();
        }
    }

    private static DefaultHttp2HeadersEncoder encoder(boolean huffman,
                                                      Http2HeadersEncoder.SensitivityDetector sensitive) {
        return new DefaultHttp2HeadersEncoder(sensitive, false, 16, huffman ? 0 : Integer.MAX_VALUE);
    }

    /**
     * Returns what a Netty HTTP/2 client writes on a new connection with {@link DefaultHttp2FrameWriter}: the
     * preface, its SETTINGS, a WINDOW_UPDATE, then what {@code request} writes.
     */
    static byte[] netty(boolean huffman, BiConsumer<DefaultHttp2FrameWriter, ChannelHandlerContext> request) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter(
                encoder(huffman, Http2HeadersEncoder.NEVER_SENSITIVE));
        try {
            ChannelHandlerContext ctx = channel.pipeline().firstContext();
            ctx.write(Http2CodecUtil.connectionPrefaceBuf());
            writer.writeSettings(ctx, new Http2Settings().maxConcurrentStreams(100).initialWindowSize(1 << 20)
                    .pushEnabled(false), ctx.newPromise());
            writer.writeWindowUpdate(ctx, 0, 15 << 20, ctx.newPromise());
            request.accept(writer, ctx);
            ctx.flush();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (Object m; (m = channel.readOutbound()) != null; ) {
                ByteBuf b = (ByteBuf) m;
                bytes.writeBytes(ByteBufUtil.getBytes(b));
                b.release();
            }
            return bytes.toByteArray();
        } finally {
            writer.close();
            channel.finishAndReleaseAll();
        }
    }

    /** A Netty client's first request: HEADERS on stream 3 with the given padding. */
    static byte[] nettyRequest(boolean huffman, Http2Headers headers, int padding, boolean priority) {
        return netty(huffman, (writer, ctx) -> {
            if (priority) {
                writer.writeHeaders(ctx, 3, headers, 0, (short) 42, false, padding, true, ctx.newPromise());
            } else {
                writer.writeHeaders(ctx, 3, headers, padding, true, ctx.newPromise());
            }
        });
    }

    /** Reads a resource next to this class. */
    static byte[] resource(String name) {
        try (InputStream in = H2.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new AssertionError("no resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Bytes from hex digits, spaces ignored. */
    static byte[] hex(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replace(" ", ""));
    }
}
