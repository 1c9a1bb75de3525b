package io.refractium.examples.backends;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Small Netty servers on loopback ephemeral ports for the examples to forward to: an echo server, an HTTP/1.1 server
 * that says hello, TLS servers with certificates made at startup that say their name, and an SSH-style banner server.
 *
 * <p>All servers share one NIO event loop owned by this object; {@link #close()} stops them all. Thread-safe.
 */
public final class DemoBackends implements AutoCloseable {

    private final IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Channel> servers = new ArrayList<>();
    private X509Bundle authority;

    /** Creates the shared event loop; no server runs yet. */
    public DemoBackends() {
    }

    /**
     * Returns {@code HOST:PORT} for an address, with an IPv6 host in brackets, as {@code Backend.parse} reads it.
     *
     * @param address the address
     * @return the text
     */
    public static String hostAndPort(InetSocketAddress address) {
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /**
     * Starts an echo server: it writes back every byte it receives and closes once the client has finished sending
     * and everything was written back.
     *
     * @return the server's address
     */
    public InetSocketAddress echo() {
        return start(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.config().setAllowHalfClosure(true);
                ch.pipeline().addLast(new EchoHandler());
            }
        });
    }

    /**
     * Starts an HTTP/1.1 server that answers every request with {@code hello from NAME} and the Host header it saw,
     * as {@code text/plain}; keep-alive is honoured.
     *
     * @param name what the server calls itself, e.g. {@code "the http backend"}
     * @return the server's address
     */
    public InetSocketAddress httpHello(String name) {
        Objects.requireNonNull(name, "name");
        return start(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpHelloHandler(name));
            }
        });
    }

    /**
     * Starts a TLS server for one name: after the handshake it writes {@code hello from NAME} and answers every line
     * it receives the same way. Its certificate is made now and issued by a self-signed authority that this object
     * creates on first use ({@code CN=Refractium demo CA}), so clients see an untrusted, self-signed chain.
     *
     * @param serverName the name in the certificate (subject and DNS subject alternative name)
     * @return the server's address
     * @throws IllegalStateException when the certificate or the TLS context cannot be made
     */
    public InetSocketAddress tlsHello(String serverName) {
        Objects.requireNonNull(serverName, "serverName");
        SslContext context;
        try {
            X509Bundle cert = new CertificateBuilder()
                    .subject("CN=" + serverName)
                    .addSanDnsName(serverName)
                    .addExtendedKeyUsageServerAuth()
                    .ecp256()
                    .buildIssuedBy(authority());
            context = SslContextBuilder.forServer(cert.getKeyPair().getPrivate(), cert.getCertificatePath()).build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a certificate and TLS context for "
                    + serverName + ": " + e, e);
        }
        return start(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(context.newHandler(ch.alloc()))
                        .addLast(new LineBasedFrameDecoder(4096))
                        .addLast(new TlsHelloHandler(serverName));
            }
        });
    }

    private synchronized X509Bundle authority() throws Exception {
        if (authority == null) {
            authority = new CertificateBuilder()
                    .subject("CN=Refractium demo CA")
                    .setIsCertificateAuthority(true)
                    .ecp256()
                    .buildSelfSigned();
        }
        return authority;
    }

    /**
     * Starts a server that speaks first like an SSH server: it sends the explanation lines, then the version line
     * {@code SSH-2.0-RefractiumDemo} (RFC 4253 §4.2 allows other lines before it), and closes when the client
     * answers or after 30 seconds.
     *
     * @param explanation lines sent before the version line, without line ends
     * @return the server's address
     */
    public InetSocketAddress sshBanner(List<String> explanation) {
        List<String> lines = List.copyOf(explanation);
        return start(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new SshBannerHandler(lines));
            }
        });
    }

    /**
     * Starts a server on a loopback ephemeral port with the given pipeline.
     *
     * @param initializer sets up each accepted channel
     * @return the server's address
     * @throws IllegalStateException when the bind fails
     */
    public synchronized InetSocketAddress start(ChannelInitializer<SocketChannel> initializer) {
        Objects.requireNonNull(initializer, "initializer");
        var future = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer)
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .awaitUninterruptibly();
        if (!future.isSuccess()) {
            throw new IllegalStateException("cannot bind a demo backend on loopback: " + future.cause(),
                    future.cause());
        }
        servers.add(future.channel());
        return (InetSocketAddress) future.channel().localAddress();
    }

    /** Closes every server and the connections they accepted, and stops the event loop; blocks until done. */
    @Override
    public synchronized void close() {
        for (Channel c : servers) {
            c.close().awaitUninterruptibly();
        }
        servers.clear();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
