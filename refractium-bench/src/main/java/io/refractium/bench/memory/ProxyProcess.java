package io.refractium.bench.memory;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.util.StringJoiner;

/**
 * The proxy under measurement, run by {@link ConcurrentConnections} as a child JVM so that its RSS is its own: a
 * {@link Refractium} with every built-in detector ({@code discoverProtocols()}), all library defaults (idle timeout,
 * peek limits, transport), listening on one address and sending every connection that no detector takes to a fallback
 * target whose backends are the echo servers of the parent.
 *
 * <p>Command line: {@code LISTEN_HOST BACKEND_HOST:PORT [BACKEND_HOST:PORT ...]}. It prints
 * {@code READY <port> <max fds>} on standard output once started, then answers each line read on standard input:
 * {@code stats} prints one {@code STATS key=value ...} line (heap used, committed and maximum, the JDK's direct and mapped
 * buffer pools, Netty's direct memory counter and default allocator, threads, open fds, open connections);
 * {@code quit} or the end of input closes the proxy and exits. Logging goes to standard error.
 */
public final class ProxyProcess {

    private ProxyProcess() {
    }

    /**
     * Starts the proxy and serves the control protocol on standard input and output until {@code quit} or the end of
     * input.
     *
     * @param args the listen host, then one or more backend addresses
     * @throws Exception when the proxy cannot start or standard input fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ProxyProcess LISTEN_HOST BACKEND_HOST:PORT [BACKEND_HOST:PORT ...]");
            System.exit(2);
        }
        ForwardTarget.Builder echo = ForwardTarget.builder("echo");
        for (int i = 1; i < args.length; i++) {
            echo.backend(args[i]);
        }
        Refractium proxy = Refractium.builder()
                .listen(args[0], 0)
                .discoverProtocols()
                .fallback(echo.build())
                .build()
                .start();
        PrintStream out = System.out;
        out.println("READY " + proxy.localAddress().getPort() + " " + maxFileDescriptors());
        out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("stats")) {
                    out.println(stats(proxy));
                    out.flush();
                } else if (line.equals("quit")) {
                    break;
                }
            }
        } finally {
            proxy.close();
        }
        System.exit(0);
    }

    private static String stats(Refractium proxy) {
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        StringJoiner line = new StringJoiner(" ", "STATS ", "");
        line.add("connections=" + proxy.activeConnections());
        line.add("heapUsed=" + heap.getUsed());
        line.add("heapCommitted=" + heap.getCommitted());
        line.add("heapMax=" + heap.getMax());
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                line.add("jdkDirect=" + pool.getMemoryUsed());
                line.add("jdkDirectCount=" + pool.getCount());
            }
        }
        line.add("nettyDirect=" + PlatformDependent.usedDirectMemory());
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        if (alloc instanceof ByteBufAllocatorMetricProvider) {
            ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) alloc).metric();
            line.add("allocDirect=" + metric.usedDirectMemory());
            line.add("allocHeap=" + metric.usedHeapMemory());
        }
        line.add("threads=" + ManagementFactory.getThreadMXBean().getThreadCount());
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean) {
            line.add("openFds=" + ((UnixOperatingSystemMXBean) os).getOpenFileDescriptorCount());
        }
        return line.toString();
    }

    /** Returns this JVM's limit on open file descriptors, or -1 when the platform does not say. */
    static long maxFileDescriptors() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean
                ? ((UnixOperatingSystemMXBean) os).getMaxFileDescriptorCount() : -1;
    }
}
