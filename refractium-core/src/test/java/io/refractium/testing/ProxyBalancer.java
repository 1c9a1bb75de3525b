package io.refractium.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small TCP load balancer on 127.0.0.1 for tests: for each client it accepts, it connects to the target from
 * 127.0.0.1, sends a PROXY protocol header that names the client's address (v1 text, or v2 built with Netty's
 * {@link HAProxyMessageEncoder}, with the given TLVs), then relays bytes both ways; when either side ends, it closes
 * both. One thread per direction. Closing it closes the listener and every socket.
 */
public final class ProxyBalancer implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final HAProxyProtocolVersion version;
    private final Map<Byte, byte[]> tlvs;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private ProxyBalancer(InetSocketAddress target, HAProxyProtocolVersion version, Map<Byte, byte[]> tlvs)
            throws IOException {
        this.target = target;
        this.version = version;
        this.tlvs = tlvs;
        server = new ServerSocket(0, 64, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(this::acceptLoop, "test-balancer-accept");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Starts a balancer in front of a target.
     *
     * @param target where to send clients
     * @param version the header's version
     * @param tlvs the TLVs of a v2 header by type (in this order), empty for none
     * @return the balancer
     */
    public static ProxyBalancer start(InetSocketAddress target, HAProxyProtocolVersion version,
                                      Map<Byte, byte[]> tlvs) {
        try {
            return new ProxyBalancer(target, version, tlvs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the address clients connect to. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(client);
            Thread w = new Thread(() -> serve(client), "test-balancer-conn");
            w.setDaemon(true);
            w.start();
        }
    }

    private void serve(Socket client) {
        Socket up = new Socket();
        sockets.add(up);
        try {
            up.bind(new InetSocketAddress("127.0.0.1", 0));
            up.connect(target, 5000);
            OutputStream out = up.getOutputStream();
            out.write(header((InetSocketAddress) client.getRemoteSocketAddress(),
                    (InetSocketAddress) client.getLocalSocketAddress()));
            out.flush();
            Thread back = new Thread(() -> pipe(up, client), "test-balancer-back");
            back.setDaemon(true);
            back.start();
            pipe(client, up);
        } catch (IOException e) {
            closeBoth(client, up);
        }
    }

    private static void pipe(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // a reset or a close on the other side ends the relay
        } finally {
            closeBoth(from, to);
        }
    }

    private static void closeBoth(Socket a, Socket b) {
        try {
            a.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            b.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private byte[] header(InetSocketAddress src, InetSocketAddress dst) {
        String s = src.getAddress().getHostAddress();
        String d = dst.getAddress().getHostAddress();
        if (version == HAProxyProtocolVersion.V1) {
            return ("PROXY TCP4 " + s + " " + d + " " + src.getPort() + " " + dst.getPort() + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
        }
        List<HAProxyTLV> list = new ArrayList<>();
        for (Map.Entry<Byte, byte[]> e : tlvs.entrySet()) {
            list.add(new HAProxyTLV(e.getKey(), Unpooled.wrappedBuffer(e.getValue())));
        }
        return v2(s, d, src.getPort(), dst.getPort(), list);
    }

    /** Encodes a v2 {@code PROXY TCP4} header with Netty's encoder; the TLVs' buffers are released by it. */
    public static byte[] v2(String src, String dst, int srcPort, int dstPort, List<HAProxyTLV> tlvs) {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, src, dst, srcPort, dstPort, tlvs));
        ByteBuf b = ch.readOutbound();
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        b.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
