package io.refractium.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * A UDP server for tests on a loopback address and an ephemeral port: each datagram is answered with what the
 * function returns for it ({@code null}: no answer), and every sender is recorded.
 */
public final class UdpResponder implements AutoCloseable {

    private final DatagramSocket socket;
    private final BiFunction<byte[], InetSocketAddress, byte[]> answer;
    private final Queue<InetSocketAddress> senders = new ConcurrentLinkedQueue<>();
    private final AtomicInteger received = new AtomicInteger();
    private final Thread thread;

    /** An echo server on 127.0.0.1. */
    public static UdpResponder echo() {
        return new UdpResponder(InetAddress.getLoopbackAddress(), (d, s) -> d);
    }

    public UdpResponder(InetAddress address, BiFunction<byte[], InetSocketAddress, byte[]> answer) {
        this.answer = answer;
        try {
            socket = new DatagramSocket(new InetSocketAddress(address, 0));
            socket.setReceiveBufferSize(4 << 20);
            socket.setSendBufferSize(4 << 20);
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
        thread = new Thread(this::serve, "udp-responder");
        thread.setDaemon(true);
        thread.start();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Returns {@code host:port} for a backend list. */
    public String hostAndPort() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public Queue<InetSocketAddress> senders() {
        return senders;
    }

    public int received() {
        return received.get();
    }

    private void serve() {
        byte[] buf = new byte[65_536];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
            } catch (IOException e) {
                return;
            }
            received.incrementAndGet();
            InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
            senders.add(from);
            byte[] data = java.util.Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
            byte[] reply = answer.apply(data, from);
            if (reply != null) {
                try {
                    socket.send(new DatagramPacket(reply, reply.length, from));
                } catch (IOException e) {
                    // the test sees the missing reply
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(2000);
    }
}
