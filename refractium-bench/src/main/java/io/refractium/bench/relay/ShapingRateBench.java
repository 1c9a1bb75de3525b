package io.refractium.bench.relay;

import io.netty.channel.epoll.Epoll;
import io.refractium.BandwidthLimits;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the rate Refractium's bandwidth caps ({@link BandwidthLimits}) achieve on loopback, against the configured
 * rate: a per-connection cap of 4 MiB/s and one of 32 MiB/s with one connection, and a per-address cap of 8 MiB/s shared
 * by three connections from 127.0.0.1, each upload (client to backend) and download (backend to client), on NIO and
 * on epoll (when available).
 *
 * <p>Each case runs for {@code --warmup} seconds (default 2) and then {@code --seconds} (default 4) of measurement:
 * the senders write as fast as the proxy lets them, the receivers count what arrives, and the achieved rate is the
 * bytes received during the measurement window divided by its length. The warm-up is left out because a traffic
 * counter starts with up to one second's worth of credit (see {@link BandwidthLimits}), paid back over the next
 * seconds; the rate over warm-up and window together is printed too. Output: one line per case with configured and
 * achieved MiB/s and their ratio.
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -pl refractium-bench -am -DskipTests package
 * java -cp refractium-bench/target/benchmarks.jar io.refractium.bench.relay.ShapingRateBench [--seconds 4] [--warmup 2]
 * }</pre>
 * The client, the proxy and the backends share the machine's cores; a busy machine shows up as an achieved rate
 * below the configured one, never above it.
 */
public final class ShapingRateBench {

    private static final long MIB = 1024 * 1024;
    private static final int CHUNK = 64 * 1024;

    private ShapingRateBench() {
    }

    /**
     * Runs every case and prints the figures.
     *
     * @param args {@code --seconds N} for the length of each measurement window
     * @throws Exception when a case cannot run
     */
    public static void main(String[] args) throws Exception {
        int seconds = 4;
        int warmup = 2;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seconds") && i + 1 < args.length) {
                seconds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--warmup") && i + 1 < args.length) {
                warmup = Integer.parseInt(args[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (expected: --seconds N, --warmup N)");
            }
        }
        List<Boolean> transports = new ArrayList<>(List.of(false));
        if (Epoll.isAvailable()) {
            transports.add(true);
        }
        // One unprinted case first, so that the first printed one does not pay for class loading and compilation.
        run(transports.get(transports.size() - 1), null, BandwidthLimits.builder().perConnection(4 * MIB, 0).build(),
                true, 1, 4 * MIB, 1, 1);
        System.out.printf("%-8s %-15s %-9s %5s %10s %10s %8s %14s%n", "transport", "cap", "direction", "conns",
                "cap MiB/s", "got MiB/s", "got/cap", "incl. warm-up");
        for (boolean nativeTransport : transports) {
            for (boolean upload : new boolean[] {true, false}) {
                long rate = 4 * MIB;
                BandwidthLimits perConnection = BandwidthLimits.builder()
                        .perConnection(upload ? rate : 0, upload ? 0 : rate).build();
                run(nativeTransport, "per-connection", perConnection, upload, 1, rate, warmup, seconds);
                long ipRate = 8 * MIB;
                BandwidthLimits perIp = BandwidthLimits.builder()
                        .perIp(upload ? ipRate : 0, upload ? 0 : ipRate).build();
                run(nativeTransport, "per-ip", perIp, upload, 3, ipRate, warmup, seconds);
                long fast = 32 * MIB;
                BandwidthLimits fastConnection = BandwidthLimits.builder()
                        .perConnection(upload ? fast : 0, upload ? 0 : fast).build();
                run(nativeTransport, "per-connection", fastConnection, upload, 1, fast, warmup, seconds);
            }
        }
    }

    private static void run(boolean nativeTransport, String cap, BandwidthLimits limits, boolean upload,
                            int connections, long rate, int warmup, int seconds) throws Exception {
        AtomicLong received = new AtomicLong();
        List<Socket> open = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = daemon("backend-accept", () -> {
                while (!backend.isClosed()) {
                    try {
                        Socket s = backend.accept();
                        open.add(s);
                        daemon("backend", () -> pump(s, !upload, received)).start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.start();
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).nativeTransport(nativeTransport)
                    .fallback(ForwardTarget.of("bench", "127.0.0.1:" + backend.getLocalPort()))
                    .bandwidth(limits)
                    .build().start();
            try (r) {
                for (int i = 0; i < connections; i++) {
                    Socket c = new Socket();
                    c.connect(r.localAddress(), 5000);
                    open.add(c);
                    // One byte that no detector accepts sends the connection to the fallback target at once.
                    c.getOutputStream().write(0);
                    c.getOutputStream().flush();
                    Thread t = daemon("client", () -> pump(c, upload, received));
                    threads.add(t);
                    t.start();
                }
                long start = System.nanoTime();
                Thread.sleep(TimeUnit.SECONDS.toMillis(warmup));
                long warm = received.get();
                long from = System.nanoTime();
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                long to = System.nanoTime();
                long total = received.get();
                double got = (total - warm) / ((to - from) / 1e9) / MIB;
                double gotAll = total / ((to - start) / 1e9) / MIB;
                double configured = (double) rate / MIB;
                if (cap != null) {
                    System.out.printf("%-8s %-15s %-9s %5d %10.2f %10.2f %8.3f %14.3f%n",
                            nativeTransport ? "epoll" : "nio", cap, upload ? "upload" : "download", connections,
                            configured, got, got / configured, gotAll / configured);
                }
                for (Socket s : open) {
                    s.close();
                }
            }
        }
        for (Thread t : threads) {
            t.join(5000);
        }
    }

    /**
     * Writes as fast as the socket takes (a sender) or reads and counts (a receiver) until the socket closes; the
     * backend's count includes the client's one detection byte.
     */
    private static void pump(Socket s, boolean send, AtomicLong received) {
        try {
            if (send) {
                OutputStream out = s.getOutputStream();
                byte[] chunk = new byte[CHUNK];
                for (;;) {
                    out.write(chunk);
                }
            }
            InputStream in = s.getInputStream();
            byte[] buf = new byte[CHUNK];
            int n;
            while ((n = in.read(buf)) >= 0) {
                received.addAndGet(n);
            }
        } catch (IOException e) {
            // closed at the end of the case
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, "shaping-bench-" + name);
        t.setDaemon(true);
        return t;
    }
}
