package io.refractium.bench.relay;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two small Netty servers on loopback, port 0, sharing one event loop thread: an HTTP/1.1 server that answers every
 * request with a fixed response, and a bulk server that sends or receives {@link #BULK_BYTES} bytes per connection.
 * They are the backends of {@link ProxyPathBenchmark}, reached either directly or through Refractium.
 *
 * <p>Epoll when it is available, NIO otherwise. Responses are written as duplicates of shared direct buffers that
 * writes cannot release (nothing writes into them), so the servers allocate no payload per response.
 * {@link #close()} closes the listeners, shuts the event loop down, waiting for it, and releases those buffers.
 */
final class LoopbackBackends implements AutoCloseable {

    /** The body of every HTTP response. */
    static final String BODY = "refractium bench: fixed response\n";

    /** The HTTP response to a keep-alive request, 100 bytes or so. */
    static final byte[] KEEP_ALIVE_RESPONSE = ascii("HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: " + BODY.length() + "\r\n"
            + "\r\n"
            + BODY);

    /** The HTTP response to a request with {@code Connection: close}; the server closes the connection after it. */
    static final byte[] CLOSE_RESPONSE = ascii("HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: " + BODY.length() + "\r\n"
            + "Connection: close\r\n"
            + "\r\n"
            + BODY);

    /** The bytes sent or received by one bulk connection after its preface: 8 MiB. */
    static final int BULK_BYTES = 8 * 1024 * 1024;

    /**
     * The preface that asks the bulk server for {@link #BULK_BYTES} bytes; the server then keeps the connection open
     * until the client closes it. No built-in detector accepts it (its first byte starts no HTTP method, TLS record
     * or SSH banner, and its fifth byte is no DNS opcode), so Refractium sends it to its fallback target at once.
     */
    static final byte[] DOWNLOAD_PREFACE = ascii("XFER:GET\r\n");

    /**
     * The preface that asks the bulk server for {@link #BULK_BYTES} bytes followed by the end of stream: the server
     * closes the connection once the last byte is written. Same length as {@link #DOWNLOAD_PREFACE}, and also
     * detected as nothing.
     */
    static final byte[] DOWNLOAD_THEN_CLOSE_PREFACE = ascii("XFER:FIN\r\n");

    /**
     * The preface that announces {@link #BULK_BYTES} bytes to the bulk server, which answers them with the one byte
     * {@link #UPLOAD_ACK} and closes the connection. Same length as {@link #DOWNLOAD_PREFACE}, and also detected as
     * nothing.
     */
    static final byte[] UPLOAD_PREFACE = ascii("XFER:PUT\r\n");

    /** The byte the bulk server answers an upload with. */
    static final byte UPLOAD_ACK = 'K';

    /** The size of the chunks a download is written in. */
    static final int CHUNK_BYTES = 64 * 1024;

    private static final int PREFACE_LENGTH = DOWNLOAD_PREFACE.length;
    private static final int MAX_REQUEST_HEAD_BYTES = 8 * 1024;
    private static final byte[] CONNECTION = ascii("connection:");
    private static final byte[] CLOSE = ascii("close");

    private final ByteBuf keepAliveResponse = sharedDirect(KEEP_ALIVE_RESPONSE);
    private final ByteBuf closeResponse = sharedDirect(CLOSE_RESPONSE);
    private final ByteBuf chunk = sharedDirect(chunkBytes());
    private final ByteBuf uploadAck = sharedDirect(new byte[] {UPLOAD_ACK});
    private final IoEventLoopGroup group;
    private final Channel httpServer;
    private final Channel bulkServer;

    /**
     * Starts both servers on {@code 127.0.0.1}, port 0.
     *
     * @throws InterruptedException when interrupted while binding
     */
    LoopbackBackends() throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("bench-backend", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerChannel> serverChannel = epoll ? EpollServerSocketChannel.class
                : NioServerSocketChannel.class;
        try {
            httpServer = bind(serverChannel, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new HttpResponder());
                }
            });
            bulkServer = bind(serverChannel, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new BulkHandler());
                }
            });
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
            releaseShared();
            throw e;
        }
    }

    /** Returns the address of the HTTP server. */
    InetSocketAddress httpAddress() {
        return (InetSocketAddress) httpServer.localAddress();
    }

    /** Returns the address of the bulk server. */
    InetSocketAddress bulkAddress() {
        return (InetSocketAddress) bulkServer.localAddress();
    }

    /**
     * Closes both listeners and every open connection, shuts the event loop down and then releases the shared
     * buffers.
     */
    @Override
    public void close() {
        httpServer.close().awaitUninterruptibly();
        bulkServer.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        releaseShared();
    }

    private void releaseShared() {
        for (ByteBuf shared : new ByteBuf[] {keepAliveResponse, closeResponse, chunk, uploadAck}) {
            shared.unwrap().release();
        }
    }

    private Channel bind(Class<? extends ServerChannel> serverChannel, ChannelHandler childHandler)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(serverChannel)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childHandler(childHandler)
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
    }

    /**
     * Answers each HTTP/1.1 request head (request line and headers; requests carry no body) with the fixed
     * response, and closes the connection after the response to a request with {@code Connection: close}.
     * Pipelined requests are answered in order, with one flush per read.
     */
    private final class HttpResponder extends ByteToMessageDecoder {

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (in.isReadable()) {
                int end = headEnd(in);
                if (end < 0) {
                    if (in.readableBytes() > MAX_REQUEST_HEAD_BYTES) {
                        in.skipBytes(in.readableBytes());
                        ctx.close();
                    }
                    return;
                }
                boolean close = asksToClose(in, in.readerIndex(), end);
                in.readerIndex(end);
                if (close) {
                    in.skipBytes(in.readableBytes());
                    ctx.writeAndFlush(closeResponse.duplicate()).addListener(ChannelFutureListener.CLOSE);
                    return;
                }
                ctx.write(keepAliveResponse.duplicate());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            ctx.flush();
            super.channelReadComplete(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Reads the {@link #PREFACE_LENGTH}-byte preface, then either writes {@link #BULK_BYTES} bytes (and closes after
     * them for {@link #DOWNLOAD_THEN_CLOSE_PREFACE}, else when the client closes), or reads {@link #BULK_BYTES}
     * bytes, answers {@link #UPLOAD_ACK} and closes. Any other preface closes the connection.
     */
    private final class BulkHandler extends ChannelInboundHandlerAdapter {
        private final byte[] preface = new byte[PREFACE_LENGTH];
        private int prefaceBytes;
        private boolean uploading;
        private long received;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (prefaceBytes < PREFACE_LENGTH) {
                    int n = Math.min(PREFACE_LENGTH - prefaceBytes, in.readableBytes());
                    in.readBytes(preface, prefaceBytes, n);
                    prefaceBytes += n;
                    if (prefaceBytes < PREFACE_LENGTH) {
                        return;
                    }
                    boolean thenClose = Arrays.equals(preface, DOWNLOAD_THEN_CLOSE_PREFACE);
                    if (thenClose || Arrays.equals(preface, DOWNLOAD_PREFACE)) {
                        for (int sent = 0; sent < BULK_BYTES - CHUNK_BYTES; sent += CHUNK_BYTES) {
                            ctx.write(chunk.duplicate(), ctx.voidPromise());
                        }
                        ChannelFuture last = ctx.writeAndFlush(chunk.duplicate());
                        if (thenClose) {
                            last.addListener(ChannelFutureListener.CLOSE);
                        }
                        return;
                    }
                    if (!Arrays.equals(preface, UPLOAD_PREFACE)) {
                        ctx.close();
                        return;
                    }
                    uploading = true;
                }
                if (uploading) {
                    received += in.readableBytes();
                    if (received >= BULK_BYTES) {
                        uploading = false;
                        ctx.writeAndFlush(uploadAck.duplicate())
                                .addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Returns the index just past the CR LF CR LF that ends the request head, or -1. */
    private static int headEnd(ByteBuf in) {
        int last = in.writerIndex();
        for (int i = in.readerIndex() + 3; i < last; i++) {
            if (in.getByte(i) == '\n' && in.getByte(i - 1) == '\r' && in.getByte(i - 2) == '\n'
                    && in.getByte(i - 3) == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    /** Returns whether a {@code Connection} header line between {@code start} and {@code end} holds {@code close}. */
    private static boolean asksToClose(ByteBuf in, int start, int end) {
        int line = start;
        while (line < end) {
            int eol = in.indexOf(line, end, (byte) '\n');
            if (eol < 0) {
                return false;
            }
            if (startsWithIgnoreCase(in, line, eol, CONNECTION)) {
                for (int i = line + CONNECTION.length; i + CLOSE.length <= eol; i++) {
                    if (startsWithIgnoreCase(in, i, eol, CLOSE)) {
                        return true;
                    }
                }
            }
            line = eol + 1;
        }
        return false;
    }

    /** Returns whether the bytes from {@code at} (before {@code end}) start with the lower-case ASCII {@code word}. */
    private static boolean startsWithIgnoreCase(ByteBuf in, int at, int end, byte[] word) {
        if (end - at < word.length) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            int b = in.getByte(at + i);
            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }
            if (b != word[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns the bytes of one download chunk: byte {@code i} is {@code i % 251} rather than zero, so that a lost or
     * misplaced range shows in a capture or in a checking client (the chunk is sent {@code BULK_BYTES / CHUNK_BYTES}
     * times).
     */
    static byte[] chunkBytes() {
        byte[] bytes = new byte[CHUNK_BYTES];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i % 251);
        }
        return bytes;
    }

    private static ByteBuf sharedDirect(byte[] bytes) {
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
