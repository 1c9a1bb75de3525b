package io.refractium.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small UDP DNS responder on 127.0.0.1 and an ephemeral port for tests: it answers A queries for the names it
 * was given with the chosen IPv4 addresses and TTL, AAAA queries for those names with no record, and everything
 * else with NXDOMAIN. Answers can be changed while it runs; it counts the A queries per name.
 */
public final class TestDnsServer implements AutoCloseable {

    private static final int TYPE_A = 1;
    private static final int RCODE_NXDOMAIN = 3;

    private record Answer(List<InetAddress> addresses, int ttlSeconds) {
    }

    private final DatagramSocket socket;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();

    public TestDnsServer() {
        try {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
        Thread t = new Thread(this::serve, "test-dns");
        t.setDaemon(true);
        t.start();
    }

    /** Returns the address to give the resolver. */
    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /**
     * Sets the A records of a name.
     *
     * @param name the name, without the final dot
     * @param ttlSeconds the records' TTL
     * @param ipv4 the addresses, as literals
     */
    public void answer(String name, int ttlSeconds, String... ipv4) {
        InetAddress[] list = new InetAddress[ipv4.length];
        for (int i = 0; i < ipv4.length; i++) {
            try {
                list[i] = InetAddress.getByName(ipv4[i]);
            } catch (IOException e) {
                throw new IllegalArgumentException(ipv4[i], e);
            }
        }
        answers.put(name.toLowerCase(Locale.ROOT), new Answer(List.of(list), ttlSeconds));
    }

    /** Returns how many A queries asked for a name. */
    public int aQueries(String name) {
        AtomicInteger n = queries.get(name.toLowerCase(Locale.ROOT));
        return n == null ? 0 : n.get();
    }

    /** Returns how many queries of any kind arrived. */
    public int totalQueries() {
        return total.get();
    }

    private void serve() {
        byte[] buf = new byte[1500];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
                byte[] reply = reply(ByteBuffer.wrap(p.getData(), 0, p.getLength()));
                if (reply != null) {
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    private byte[] reply(ByteBuffer in) {
        total.incrementAndGet();
        int id = in.getShort() & 0xffff;
        int flags = in.getShort() & 0xffff;
        int qdCount = in.getShort() & 0xffff;
        in.position(12);
        if (qdCount < 1) {
            return null;
        }
        StringBuilder name = new StringBuilder();
        for (int len; (len = in.get() & 0xff) != 0; ) {
            if (name.length() > 0) {
                name.append('.');
            }
            for (int i = 0; i < len; i++) {
                name.append((char) in.get());
            }
        }
        int qtype = in.getShort() & 0xffff;
        in.getShort(); // class
        int questionEnd = in.position();
        String key = name.toString().toLowerCase(Locale.ROOT);
        Answer answer = answers.get(key);
        if (qtype == TYPE_A && answer != null) {
            queries.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        }
        List<InetAddress> records = qtype == TYPE_A && answer != null ? answer.addresses() : List.of();
        ByteBuffer out = ByteBuffer.allocate(questionEnd + records.size() * 16);
        out.putShort((short) id);
        int rcode = answer == null ? RCODE_NXDOMAIN : 0;
        // QR, the query's RD, RA; the response code
        out.putShort((short) (0x8000 | (flags & 0x0100) | 0x0080 | rcode));
        out.putShort((short) 1);
        out.putShort((short) records.size());
        out.putShort((short) 0);
        out.putShort((short) 0);
        out.put(in.array(), in.arrayOffset() + 12, questionEnd - 12);
        for (InetAddress a : records) {
            out.putShort((short) 0xC00C); // pointer to the question's name
            out.putShort((short) TYPE_A);
            out.putShort((short) 1); // IN
            out.putInt(answer.ttlSeconds());
            out.putShort((short) 4);
            out.put(a.getAddress());
        }
        return out.array();
    }

    @Override
    public void close() {
        socket.close();
    }
}
