package io.refractium.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small blocking TCP server on 127.0.0.1 and an ephemeral port for engine tests; one thread per connection.
 * Closing it closes the listener and every accepted socket.
 */
public final class TestServer implements AutoCloseable {

    /** What the server does with one accepted connection. */
    @FunctionalInterface
    public interface Handler {
        void handle(Socket socket) throws IOException;
    }

    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();

    private TestServer(InetSocketAddress bindTo, Handler handler) throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(bindTo, 512);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    Thread w = new Thread(() -> {
                        try (s) {
                            handler.handle(s);
                        } catch (IOException | RuntimeException ignored) {
                            // the peer went away; nothing to do in a test server
                        }
                    }, "test-server-conn");
                    w.setDaemon(true);
                    w.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "test-server-accept");
        t.setDaemon(true);
        t.start();
    }

    public static TestServer start(Handler handler) {
        return start(0, handler);
    }

    /** Starts a server on the given port of 127.0.0.1 (0 for any free port). */
    public static TestServer start(int port, Handler handler) {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), handler);
    }

    /** Starts a server bound to the given address. */
    public static TestServer start(InetSocketAddress bindTo, Handler handler) {
        try {
            return new TestServer(bindTo, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A server that writes "NAME\n" as soon as a client connects, then echoes everything until EOF. */
    public static TestServer greeter(String name) {
        return greeter(0, name);
    }

    /** A greeter on the given port (0 for any free port). */
    public static TestServer greeter(int port, String name) {
        return greeter(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), name);
    }

    /** A greeter bound to the given address. */
    public static TestServer greeter(InetSocketAddress bindTo, String name) {
        return start(bindTo, s -> {
            OutputStream out = s.getOutputStream();
            out.write((name + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    public String hostAndPort() {
        return "127.0.0.1:" + port();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int accepted() {
        return accepted.get();
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

    /** Returns a port on 127.0.0.1 that nothing listens on (bound and released at once). */
    public static int deadPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one line (up to LF, without it) as ASCII; null at EOF before any byte. */
    public static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                return sb.toString();
            }
            sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }
}
