package io.refractium.bench.memory;

import com.sun.management.UnixOperatingSystemMXBean;
import io.refractium.bench.memory.ProxyProbe.HistogramRow;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Memory per concurrent idle connection through Refractium, measured on a proxy running in a child JVM of its own.
 *
 * <p>The proxy ({@link ProxyProcess}: every built-in detector, library defaults, a fallback target of
 * {@link EchoBackends echo backends}) runs in a child JVM with fixed, printed flags, Native Memory Tracking on. This
 * process opens client connections ({@link IdleClients}) from several loopback source addresses
 * ({@code 127.0.0.2}, {@code 127.0.0.3}, ...) to the proxy, which relays each to one of several echo backend ports; each
 * client sends ten bytes that no detector takes, so the proxy relays them to the fallback, waits for their echo, and
 * then stays open and silent. The counts step up from 0 to a low count, a middle one and the high count; at each, after
 * a settle period, the proxy is collected ({@code jcmd PID GC.run}) and measured: {@code VmRSS} and {@code RssAnon}
 * from {@code /proc/PID/status}, heap used and committed after the collection, the JDK's direct buffer pool and Netty's
 * direct memory counter, and the committed memory of each Native Memory Tracking category ({@code jcmd PID
 * VM.native_memory summary}). The figures per connection are slopes between the low and the high count, so that the
 * JVM's fixed cost (a heap sized up front, code, classes, threads) cancels out; RSS alone would hide what a pre-sized
 * heap absorbs, which is why heap used is reported beside it. The class histograms at the low and the high count
 * ({@code jcmd PID GC.class_histogram}) are subtracted to show which objects each connection adds.
 *
 * <p>The high count is {@code --connections} (default 100 000) or, when smaller, what the file descriptor limits
 * allow: the proxy holds two descriptors per relayed connection and this process two as well (the client and the
 * accepted backend socket). With {@code RLIMIT_NOFILE} at 20 000 that is about 9 900; the report then projects the
 * figures to 100 000 from the measured slopes and says so.
 *
 * <p>Run it from the benchmark jar (it is not run by {@code mvn verify}):
 *
 * <pre>
 * mvn -B -q -DskipTests package
 * java -cp refractium-bench/target/benchmarks.jar io.refractium.bench.memory.ConcurrentConnections
 * </pre>
 *
 * <p>Options: {@code --connections N} (the high count, default 100 000, lowered to the fd limit), {@code --low N}
 * (default 1 000), {@code --sources N} (client source addresses, default enough for 16 000 connections each, at least
 * 2), {@code --backends N} (echo backend ports, likewise), {@code --settle SECONDS} (default 3), {@code --window N}
 * (connections being opened at once, default 64), {@code --proxy-jvm 'FLAGS'} (the child's JVM flags, default
 * {@value #DEFAULT_PROXY_JVM}), {@code --out DIR} (where the raw {@code jcmd} outputs go, default a new temporary
 * directory). Every step is bounded in time; the child JVM is stopped at the end, and killed if it does not stop.
 */
public final class ConcurrentConnections {

    /** The child's JVM flags unless {@code --proxy-jvm} says otherwise. */
    static final String DEFAULT_PROXY_JVM = "-XX:+UseSerialGC -Xms16m -Xmx768m -XX:NativeMemoryTracking=summary";

    /** The count the memory budget is stated for. */
    static final int TARGET_CONNECTIONS = 100_000;

    /** The memory budget for {@link #TARGET_CONNECTIONS}, RSS of the proxy process. */
    static final long BUDGET_BYTES = 1024L * 1024 * 1024;

    private static final int CONNECTIONS_PER_SOURCE = 16_000;
    private static final int FD_RESERVE = 100;
    private static final long READY_TIMEOUT_SECONDS = 60;
    private static final long STATS_TIMEOUT_SECONDS = 30;
    private static final int HISTOGRAM_ROWS = 25;

    private final Options options;
    private final PrintStream out;

    private ConcurrentConnections(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /**
     * Runs the measurement and prints the report on standard output.
     *
     * @param args the options described in the class documentation
     * @throws Exception when the proxy cannot start, a connection fails or a step takes too long
     */
    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        new ConcurrentConnections(options, System.out).run();
    }

    private void run() throws Exception {
        Path outDir = options.out != null ? Files.createDirectories(options.out)
                : Files.createTempDirectory("refractium-connmem-");
        int wanted = options.connections;
        int sources = options.sources > 0 ? options.sources : Math.max(2, ceilDiv(wanted, CONNECTIONS_PER_SOURCE));
        int backendCount = options.backends > 0 ? options.backends
                : Math.max(2, ceilDiv(wanted, CONNECTIONS_PER_SOURCE));
        try (EchoBackends backends = new EchoBackends(backendCount)) {
            List<String> command = proxyCommand(backends.addresses());
            out.println("Proxy JVM (child process):");
            out.println("  " + String.join(" ", command));
            Process proxy = new ProcessBuilder(command)
                    .redirectError(outDir.resolve("proxy-stderr.log").toFile())
                    .start();
            Thread killer = new Thread(proxy::destroyForcibly, "connmem-proxy-killer");
            Runtime.getRuntime().addShutdownHook(killer);
            try {
                measure(proxy, backends, sources, outDir);
            } finally {
                stop(proxy);
                Runtime.getRuntime().removeShutdownHook(killer);
            }
        }
        out.println();
        out.println("Raw jcmd outputs and the proxy's log: " + outDir);
    }

    private void measure(Process proxy, EchoBackends backends, int sources, Path outDir) throws Exception {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(proxy.getInputStream(), StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF " + e);
            }
        }, "connmem-proxy-stdout");
        reader.setDaemon(true);
        reader.start();
        Writer control = new OutputStreamWriter(proxy.getOutputStream(), StandardCharsets.US_ASCII);

        String ready = lines.poll(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (ready == null || !ready.startsWith("READY ")) {
            throw new IOException("the proxy did not start within " + READY_TIMEOUT_SECONDS + " s (got " + ready
                    + "; see " + outDir.resolve("proxy-stderr.log") + ")");
        }
        String[] readyParts = ready.split(" ");
        int port = Integer.parseInt(readyParts[1]);
        long proxyMaxFds = Long.parseLong(readyParts[2]);
        ProxyProbe probe = new ProxyProbe(proxy.pid(), outDir);

        Map<String, Long> idle = stats(control, lines);
        long proxyBaseFds = idle.getOrDefault("openFds", 0L);
        UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long benchMaxFds = os.getMaxFileDescriptorCount();
        long proxyAllows = (proxyMaxFds - proxyBaseFds - FD_RESERVE) / 2;
        long benchAllows = (benchMaxFds - os.getOpenFileDescriptorCount() - FD_RESERVE) / 2;
        int high = (int) Math.min(options.connections, Math.min(proxyAllows, benchAllows));
        int low = Math.min(options.low, high / 4);
        if (low < 1 || high - low < 100) {
            throw new IOException("the file descriptor limits (proxy " + proxyMaxFds + ", this process "
                    + benchMaxFds + ") leave room for " + high + " connections, too few to measure a slope");
        }
        int mid = (low + high) / 2 / 100 * 100;
        out.printf(Locale.ROOT, "File descriptor limits: proxy %d (%d open idle), this process %d (clients and "
                + "backends) -> at most %d relayed connections%n", proxyMaxFds, proxyBaseFds, benchMaxFds,
                Math.min(proxyAllows, benchAllows));
        if (high < options.connections) {
            out.printf(Locale.ROOT, "  --connections %d is more than that: measuring up to %d and projecting%n",
                    options.connections, high);
        }
        out.printf(Locale.ROOT, "Clients from %d source addresses (127.0.0.2..127.0.0.%d) to 127.0.0.1:%d; "
                + "%d echo backend ports; settle %d s; counts 0, %d, %d, %d%n",
                sources, sources + 1, port, backends.addresses().size(), options.settleSeconds, low, mid, high);
        out.println();

        List<InetAddress> sourceAddresses = new ArrayList<>();
        for (int i = 0; i < sources; i++) {
            sourceAddresses.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + i)}));
        }
        List<Sample> samples = new ArrayList<>();
        Map<Integer, List<HistogramRow>> histograms = new HashMap<>();
        try (IdleClients clients = new IdleClients(new InetSocketAddress("127.0.0.1", port), sourceAddresses)) {
            for (int count : new int[] {0, low, mid, high}) {
                long started = System.nanoTime();
                int delta = count - clients.established();
                clients.openUntil(count, options.window, 30_000L + 20L * delta);
                long openMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                Thread.sleep(TimeUnit.SECONDS.toMillis(options.settleSeconds));
                if (clients.closedAfterEcho() > 0) {
                    throw new IOException(clients.closedAfterEcho() + " idle connections were closed by the proxy");
                }
                Sample sample = sample(count, control, lines, probe);
                if (sample.stats.getOrDefault("connections", -1L) != count) {
                    throw new IOException("the proxy counts " + sample.stats.get("connections")
                            + " open connections (expected: " + count + ")");
                }
                samples.add(sample);
                out.printf(Locale.ROOT, "  %6d connections open (+%d in %.1f s), proxy RSS %.1f MiB, heap used %.1f"
                        + " MiB%n", count, delta, openMillis / 1000.0, mib(sample.rss), mib(sample.heapUsed()));
                if (count == low || count == high) {
                    histograms.put(count, probe.classHistogram(Integer.toString(count)));
                }
            }
            String limit = high < options.connections
                    ? "the file descriptor limits (" + Math.min(proxyMaxFds, benchMaxFds) + ") stop this machine at "
                            + high
                    : "--connections " + high;
            report(samples, histograms.get(low), histograms.get(high), low, high, limit);
        }
    }

    private Sample sample(int count, Writer control, BlockingQueue<String> lines, ProxyProbe probe)
            throws IOException, InterruptedException {
        probe.fullGc();
        Map<String, Long> stats = stats(control, lines);
        long rss = probe.rssBytes();
        long rssAnon = probe.rssAnonBytes();
        probe.heapInfo(Integer.toString(count));
        Map<String, Long> nmt = probe.nativeMemoryCommittedKib(Integer.toString(count));
        return new Sample(count, rss, rssAnon, stats, nmt);
    }

    private static Map<String, Long> stats(Writer control, BlockingQueue<String> lines)
            throws IOException, InterruptedException {
        control.write("stats\n");
        control.flush();
        String line = lines.poll(STATS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (line == null || !line.startsWith("STATS ")) {
            throw new IOException("no answer from the proxy to 'stats' within " + STATS_TIMEOUT_SECONDS + " s (got "
                    + line + ")");
        }
        Map<String, Long> stats = new LinkedHashMap<>();
        for (String pair : line.substring("STATS ".length()).split(" ")) {
            int eq = pair.indexOf('=');
            stats.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
        }
        return stats;
    }

    private void report(List<Sample> samples, List<HistogramRow> lowHistogram, List<HistogramRow> highHistogram,
                        int low, int high, String limit) {
        Sample lo = samples.stream().filter(s -> s.count == low).findFirst().orElseThrow();
        Sample hi = samples.get(samples.size() - 1);
        Sample mid = samples.get(samples.size() - 2);
        int span = high - low;

        out.println();
        out.println("Proxy memory after a full GC, at each count:");
        out.printf(Locale.ROOT, "%11s %10s %10s %10s %11s %11s %11s %11s %8s %7s%n", "connections", "RSS MiB",
                "anon MiB", "heap used", "heap commit", "JDK direct", "Netty dir.", "NMT total", "threads", "fds");
        out.printf(Locale.ROOT, "%11s %10s %10s %10s %11s %11s %11s %11s %8s %7s%n", "", "", "", "MiB", "MiB",
                "KiB", "KiB", "MiB", "", "");
        for (Sample s : samples) {
            out.printf(Locale.ROOT, "%11d %10.1f %10.1f %10.2f %11.1f %11.1f %11.1f %11.1f %8d %7d%n", s.count,
                    mib(s.rss), mib(s.rssAnon), mib(s.heapUsed()), mib(s.stat("heapCommitted")),
                    s.stat("jdkDirect") / 1024.0, Math.max(0, s.stat("nettyDirect")) / 1024.0,
                    s.nmt.getOrDefault("Total", 0L) / 1024.0, s.stat("threads"), s.stat("openFds"));
        }

        boolean nmt = !hi.nmt.isEmpty() && !lo.nmt.isEmpty();
        out.println();
        if (!nmt) {
            out.println("Native Memory Tracking is off in the proxy JVM: add -XX:NativeMemoryTracking=summary to"
                    + " --proxy-jvm for the native figures.");
        } else {
            printNativeMemory(samples, lo, hi, low, high);
        }

        double heapSlope = (hi.heapUsed() - lo.heapUsed()) / (double) span;
        double heapSlopeLow = (mid.heapUsed() - lo.heapUsed()) / (double) (mid.count - low);
        double heapSlopeHigh = (hi.heapUsed() - mid.heapUsed()) / (double) (high - mid.count);
        double rssSlope = (hi.rss - lo.rss) / (double) span;
        double anonSlope = (hi.rssAnon - lo.rssAnon) / (double) span;
        double directSlope = (hi.stat("jdkDirect") + Math.max(0, hi.stat("nettyDirect")) - lo.stat("jdkDirect")
                - Math.max(0, lo.stat("nettyDirect"))) / (double) span;
        double nmtSlope = (hi.nmt.getOrDefault("Total", 0L) - lo.nmt.getOrDefault("Total", 0L)) * 1024.0 / span;
        double nonHeapSlope = nmtSlope - (hi.nmt.getOrDefault("Java Heap", 0L)
                - lo.nmt.getOrDefault("Java Heap", 0L)) * 1024.0 / span;

        out.println();
        out.printf(Locale.ROOT, "Per connection (slope from %d to %d connections):%n", low, high);
        out.printf(Locale.ROOT, "  heap used after full GC  %8.0f bytes   (%d..%d: %.0f, %d..%d: %.0f)%n", heapSlope,
                low, mid.count, heapSlopeLow, mid.count, high, heapSlopeHigh);
        out.printf(Locale.ROOT, "  direct memory            %8.0f bytes   (JDK direct buffer pool + Netty's counter)%n",
                directSlope);
        if (nmt) {
            out.printf(Locale.ROOT, "  NMT committed, not heap  %8.0f bytes   (malloc, metaspace, threads, GC"
                    + " structures)%n", nonHeapSlope);
            out.printf(Locale.ROOT, "  NMT committed, total     %8.0f bytes%n", nmtSlope);
        }
        out.printf(Locale.ROOT, "  RSS                      %8.0f bytes   (%d..%d: %.0f; anonymous: %.0f; includes the"
                + " heap the collector keeps committed)%n", rssSlope, mid.count, high,
                (hi.rss - mid.rss) / (double) (high - mid.count), anonSlope);
        out.println("  (kernel socket buffers are not in the process's RSS)");

        long projectedRss = Math.round(hi.rss + rssSlope * (TARGET_CONNECTIONS - high));
        long projectedHeap = Math.round(hi.heapUsed() + heapSlope * (TARGET_CONNECTIONS - high));
        out.println();
        if (high >= TARGET_CONNECTIONS) {
            out.printf(Locale.ROOT, "At %d connections (measured): RSS %.1f MiB, heap used %.1f MiB: %s the %d MiB"
                    + " budget%n", high, mib(hi.rss), mib(hi.heapUsed()), hi.rss <= BUDGET_BYTES ? "within" : "OVER",
                    BUDGET_BYTES >> 20);
        } else {
            out.printf(Locale.ROOT, "Projection to %d connections (NOT measured: %s; value at %d + slope x %d):%n",
                    TARGET_CONNECTIONS, limit, high, TARGET_CONNECTIONS - high);
            out.printf(Locale.ROOT, "  RSS %.0f MiB (%s the %d MiB budget), heap used %.0f MiB%n",
                    mib(projectedRss), projectedRss <= BUDGET_BYTES ? "within" : "OVER", BUDGET_BYTES >> 20,
                    mib(projectedHeap));
            out.println("  The RSS projection assumes the collector keeps committing heap in the proportion it did"
                    + " between the measured counts.");
            long heapMax = hi.stat("heapMax");
            if (heapMax > 0 && nmt) {
                long outsideHeap = hi.rss - hi.stat("heapCommitted");
                long bound = Math.round(heapMax + outsideHeap + nonHeapSlope * (TARGET_CONNECTIONS - high));
                out.printf(Locale.ROOT, "  Bound whatever the collector does: -Xmx %.0f MiB + RSS outside the heap at %d"
                        + " (%.0f MiB) + non-heap slope x %d = %.0f MiB (%s the budget); the live heap (%.0f MiB)"
                        + " %s -Xmx%n", mib(heapMax), high, mib(outsideHeap), TARGET_CONNECTIONS - high, mib(bound),
                        bound <= BUDGET_BYTES ? "within" : "OVER", mib(projectedHeap),
                        projectedHeap < heapMax ? "fits in" : "DOES NOT fit in");
            }
        }

        if (lowHistogram != null && highHistogram != null) {
            printHistogramDelta(lowHistogram, highHistogram, low, high);
        }
        if (highHistogram != null) {
            out.println();
            out.printf(Locale.ROOT, "Class histogram at %d connections (top %d of %d classes):%n", high,
                    HISTOGRAM_ROWS, highHistogram.size());
            out.printf(Locale.ROOT, "%12s %12s  %s%n", "instances", "bytes", "class");
            highHistogram.stream().limit(HISTOGRAM_ROWS).forEach(r -> out.printf(Locale.ROOT, "%12d %12d  %s%n",
                    r.instances(), r.bytes(), r.className()));
        }
    }

    private void printNativeMemory(List<Sample> samples, Sample lo, Sample hi, int low, int high) {
        int span = high - low;
        out.printf(Locale.ROOT, "Native Memory Tracking, committed KiB, and bytes per connection from %d to %d:%n",
                low, high);
        out.printf(Locale.ROOT, "%-24s", "category");
        for (Sample s : samples) {
            out.printf(Locale.ROOT, " %10d", s.count);
        }
        out.printf(Locale.ROOT, " %12s%n", "bytes/conn");
        Set<String> categories = new LinkedHashSet<>();
        samples.forEach(s -> categories.addAll(s.nmt.keySet()));
        for (String category : categories) {
            boolean any = samples.stream().anyMatch(s -> s.nmt.getOrDefault(category, 0L) > 0);
            if (!any) {
                continue;
            }
            out.printf(Locale.ROOT, "%-24s", category);
            for (Sample s : samples) {
                out.printf(Locale.ROOT, " %10d", s.nmt.getOrDefault(category, 0L));
            }
            double slope = (hi.nmt.getOrDefault(category, 0L) - lo.nmt.getOrDefault(category, 0L)) * 1024.0 / span;
            out.printf(Locale.ROOT, " %12.0f%n", slope);
        }
    }

    private void printHistogramDelta(List<HistogramRow> lowRows, List<HistogramRow> highRows, int low, int high) {
        int span = high - low;
        Map<String, HistogramRow> before = new HashMap<>();
        lowRows.forEach(r -> before.put(r.className(), r));
        List<double[]> deltas = new ArrayList<>();
        List<String> names = new ArrayList<>();
        double total = 0;
        for (HistogramRow r : highRows) {
            HistogramRow b = before.get(r.className());
            long instances = r.instances() - (b == null ? 0 : b.instances());
            long bytes = r.bytes() - (b == null ? 0 : b.bytes());
            total += bytes;
            names.add(r.className());
            deltas.add(new double[] {instances / (double) span, bytes / (double) span, deltas.size()});
        }
        deltas.sort(Comparator.comparingDouble((double[] d) -> d[1]).reversed());
        out.println();
        out.printf(Locale.ROOT, "Live objects added per connection (class histograms at %d and %d, difference / %d),"
                + " top %d; all classes: %.0f bytes/conn:%n", low, high, span,
                HISTOGRAM_ROWS, total / span);
        out.printf(Locale.ROOT, "%12s %12s  %s%n", "objects/conn", "bytes/conn", "class");
        for (double[] d : deltas.subList(0, Math.min(HISTOGRAM_ROWS, deltas.size()))) {
            out.printf(Locale.ROOT, "%12.2f %12.1f  %s%n", d[0], d[1], names.get((int) d[2]));
        }
    }

    private List<String> proxyCommand(List<InetSocketAddress> backends) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(options.proxyJvm.trim().split("\\s+")));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ProxyProcess.class.getName());
        command.add("127.0.0.1");
        for (InetSocketAddress backend : backends) {
            command.add(backend.getHostString() + ":" + backend.getPort());
        }
        return command;
    }

    private static void stop(Process proxy) throws InterruptedException {
        try {
            proxy.getOutputStream().write("quit\n".getBytes(StandardCharsets.US_ASCII));
            proxy.getOutputStream().close();
        } catch (IOException e) {
            // The proxy has gone already.
        }
        if (!proxy.waitFor(20, TimeUnit.SECONDS)) {
            proxy.destroy();
            if (!proxy.waitFor(5, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** The proxy's figures at one count. */
    private static final class Sample {
        final int count;
        final long rss;
        final long rssAnon;
        final Map<String, Long> stats;
        final Map<String, Long> nmt;

        Sample(int count, long rss, long rssAnon, Map<String, Long> stats, Map<String, Long> nmt) {
            this.count = count;
            this.rss = rss;
            this.rssAnon = rssAnon;
            this.stats = stats;
            this.nmt = nmt;
        }

        long heapUsed() {
            return stat("heapUsed");
        }

        long stat(String name) {
            return stats.getOrDefault(name, 0L);
        }
    }

    /** The command line. */
    private static final class Options {
        int connections = TARGET_CONNECTIONS;
        int low = 1_000;
        int sources;
        int backends;
        int settleSeconds = 3;
        int window = 64;
        String proxyJvm = DEFAULT_PROXY_JVM;
        Path out;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + ": missing value");
                }
                String value = args[++i];
                switch (name) {
                    case "--connections" -> o.connections = positive(name, value, 1_000_000);
                    case "--low" -> o.low = positive(name, value, 1_000_000);
                    case "--sources" -> o.sources = positive(name, value, 250);
                    case "--backends" -> o.backends = positive(name, value, 1_000);
                    case "--settle" -> o.settleSeconds = positive(name, value, 600);
                    case "--window" -> o.window = positive(name, value, 10_000);
                    case "--proxy-jvm" -> o.proxyJvm = value;
                    case "--out" -> o.out = Path.of(value);
                    default -> throw new IllegalArgumentException(name + ": unknown option (expected: --connections,"
                            + " --low, --sources, --backends, --settle, --window, --proxy-jvm, --out)");
                }
            }
            return o;
        }

        private static int positive(String name, String value, int max) {
            int n;
            try {
                n = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: an integer from 1 to " + max
                        + ")");
            }
            if (n < 1 || n > max) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: 1 to " + max + ")");
            }
            return n;
        }
    }
}
