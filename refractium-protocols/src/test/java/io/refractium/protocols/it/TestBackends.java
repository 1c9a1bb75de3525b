package io.refractium.protocols.it;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Small Netty servers on loopback port 0 that answer with their own name, so a test can tell where a connection
 * landed, and record the first bytes they received. Close to stop them all.
 */
final class TestBackends implements AutoCloseable {

    /** One running backend: its name, its port, and the first message (request, banner) of each connection. */
    record Backend(String name, int port, BlockingQueue<String> received) {
        /** Returns the backend's address as {@code HOST:PORT}. */
        String address() {
            return "127.0.0.1:" + port;
        }

        /** Waits for the first message of the next connection. */
        String nextReceived() throws InterruptedException {
            String s = received.poll(10, TimeUnit.SECONDS);
            if (s == null) {
                throw new AssertionError("backend " + name + " received nothing");
            }
            return s;
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Channel> servers = new ArrayList<>();

    /** A test certificate authority and a server certificate it issued for {@code a.test} and {@code b.test}. */
    record Pki(X509Bundle authority, X509Bundle server) {
    }

    /** Returns a new certificate authority and a server certificate for {@code a.test} and {@code b.test}. */
    static Pki pki() throws Exception {
        X509Bundle authority = new CertificateBuilder()
                .subject("CN=Refractium Test CA")
                .setIsCertificateAuthority(true)
                .ecp256()
                .buildSelfSigned();
        X509Bundle server = new CertificateBuilder()
                .subject("CN=a.test")
                .addSanDnsName("a.test")
                .addSanDnsName("b.test")
                .ecp256()
                .addExtendedKeyUsageServerAuth()
                .buildIssuedBy(authority);
        return new Pki(authority, server);
    }

    /**
     * Starts a TLS server that, once the handshake is done, writes {@code NAME ALPN\n} ({@code -} when no ALPN
     * protocol was agreed). It selects {@code h2} or {@code http/1.1} when the client offers one.
     */
    Backend tls(String name, X509Bundle certificate) throws Exception {
        SslContext ssl = serverContext(certificate);
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        return start(name, received, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                SslHandler sslHandler = ssl.newHandler(ch.alloc());
                ch.pipeline().addLast(sslHandler, new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof SslHandshakeCompletionEvent && ((SslHandshakeCompletionEvent) evt).isSuccess()) {
                            String alpn = sslHandler.applicationProtocol();
                            received.add("handshake " + (alpn == null ? "-" : alpn));
                            ctx.writeAndFlush(ascii(name + " " + (alpn == null ? "-" : alpn) + "\n"));
                        }
                        ctx.fireUserEventTriggered(evt);
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    /**
     * Starts an HTTP/1.1 server that answers every request with {@code 200} and its name as the body, then closes.
     * It records each request's head.
     */
    Backend http(String name) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        return start(name, received, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    private final StringBuilder head = new StringBuilder();
                    private boolean answered;

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        try {
                            head.append(b.toString(StandardCharsets.ISO_8859_1));
                        } finally {
                            b.release();
                        }
                        int end = head.indexOf("\r\n\r\n");
                        if (end >= 0 && !answered) {
                            answered = true;
                            received.add(head.substring(0, end + 4));
                            byte[] body = name.getBytes(StandardCharsets.US_ASCII);
                            ctx.write(ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                                    + body.length + "\r\nConnection: close\r\n\r\n"));
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(body)).addListener(ChannelFutureListener.CLOSE);
                        }
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    /**
     * Starts an SSH-like server: it sends its banner {@code SSH-2.0-NAME} on connect and records the client's first
     * line.
     */
    Backend ssh(String name) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        return start(name, received, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    private final StringBuilder line = new StringBuilder();
                    private boolean recorded;

                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(ascii("SSH-2.0-" + name + "\r\n"));
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        try {
                            line.append(b.toString(StandardCharsets.ISO_8859_1));
                        } finally {
                            b.release();
                        }
                        int end = line.indexOf("\n");
                        if (end >= 0 && !recorded) {
                            recorded = true;
                            received.add(line.substring(0, end + 1));
                        }
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    /**
     * Starts a server that sends {@code NAME\n} on connect and, when the client's side ends, records every byte the
     * connection brought, one character per byte; it then closes.
     */
    Backend recorder(String name) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        return start(name, received, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    private final StringBuilder bytes = new StringBuilder();

                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.writeAndFlush(ascii(name + "\n"));
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        try {
                            bytes.append(b.toString(StandardCharsets.ISO_8859_1));
                        } finally {
                            b.release();
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        received.add(bytes.toString());
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    /**
     * Starts a Netty HTTP/2 (h2c) server that answers each request's HEADERS with status 200 and records the
     * request's {@code :authority}, or {@code "-"} without one.
     */
    Backend h2c(String name) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        return start(name, received, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Http2HeadersFrame) {
                            Http2HeadersFrame request = (Http2HeadersFrame) msg;
                            CharSequence authority = request.headers().authority();
                            received.add(authority == null ? "-" : authority.toString());
                            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
                                    new DefaultHttp2Headers().status("200").add("x-backend", name), true)
                                    .stream(request.stream()));
                        } else {
                            ReferenceCountUtil.release(msg);
                        }
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }
                });
            }
        });
    }

    private Backend start(String name, BlockingQueue<String> received, ChannelInitializer<SocketChannel> init) {
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(init)
                .bind("127.0.0.1", 0)
                .syncUninterruptibly()
                .channel();
        servers.add(server);
        return new Backend(name, ((InetSocketAddress) server.localAddress()).getPort(), received);
    }

    private static SslContext serverContext(X509Bundle certificate) throws SSLException {
        return SslContextBuilder.forServer(certificate.getKeyPair().getPrivate(), certificate.getCertificatePath())
                .sslProvider(SslProvider.JDK)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2", "http/1.1"))
                .build();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        for (Channel c : servers) {
            c.close().syncUninterruptibly();
        }
        servers.clear();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
