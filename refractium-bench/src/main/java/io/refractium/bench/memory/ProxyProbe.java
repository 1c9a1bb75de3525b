package io.refractium.bench.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the memory of another JVM from outside: {@code /proc/PID/status} for the RSS, and {@code jcmd} for a forced
 * full GC, the heap layout, the Native Memory Tracking summary and the class histogram. Each {@code jcmd} call is
 * bounded in time and its output kept as a file in the output directory.
 */
final class ProxyProbe {

    private static final long JCMD_TIMEOUT_SECONDS = 60;
    private static final Pattern NMT_CATEGORY =
            Pattern.compile("^-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)", Pattern.MULTILINE);
    private static final Pattern NMT_TOTAL =
            Pattern.compile("^Total: reserved=(\\d+)KB, committed=(\\d+)KB", Pattern.MULTILINE);
    private static final Pattern HISTOGRAM_ROW =
            Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)", Pattern.MULTILINE);

    private final long pid;
    private final Path jcmd;
    private final Path outputDir;

    /**
     * Probes the process {@code pid}, writing what {@code jcmd} prints under {@code outputDir}.
     *
     * @param pid the process to read
     * @param outputDir where the raw outputs go
     */
    ProxyProbe(long pid, Path outputDir) {
        this.pid = pid;
        this.outputDir = outputDir;
        Path beside = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        this.jcmd = Files.isExecutable(beside) ? beside : Path.of("jcmd");
    }

    /** Returns the {@code VmRSS} of the process, in bytes. */
    long rssBytes() throws IOException {
        return statusKib("VmRSS") * 1024;
    }

    /** Returns the {@code RssAnon} of the process (anonymous memory: heap, malloc, thread stacks), in bytes. */
    long rssAnonBytes() throws IOException {
        return statusKib("RssAnon") * 1024;
    }

    private long statusKib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IOException("/proc/" + pid + "/status has no " + field);
    }

    /** Runs {@code jcmd PID GC.run}: a full collection, with an explicit GC not disabled. */
    void fullGc() throws IOException, InterruptedException {
        jcmd("GC.run", null);
    }

    /**
     * Runs {@code jcmd PID GC.heap_info} and keeps its output as {@code heap-info-<label>.txt}.
     *
     * @param label the measurement the file belongs to
     * @return the output
     */
    String heapInfo(String label) throws IOException, InterruptedException {
        return jcmd("GC.heap_info", "heap-info-" + label + ".txt");
    }

    /**
     * Runs {@code jcmd PID VM.native_memory summary}, keeps its output as {@code nmt-<label>.txt}, and returns the
     * committed kilobytes of each category, in the order printed, with {@code "Total"} first; empty when the process
     * runs without Native Memory Tracking.
     *
     * @param label the measurement the file belongs to
     * @return committed KiB by category
     * @throws IOException when the command fails or its output cannot be read
     */
    Map<String, Long> nativeMemoryCommittedKib(String label) throws IOException, InterruptedException {
        String text = jcmd("VM.native_memory summary", "nmt-" + label + ".txt");
        Map<String, Long> committed = new LinkedHashMap<>();
        if (text.contains("Native memory tracking is not enabled")) {
            return committed;
        }
        Matcher total = NMT_TOTAL.matcher(text);
        if (!total.find()) {
            throw new IOException("no Native Memory Tracking summary (is -XX:NativeMemoryTracking=summary set?): "
                    + text.strip());
        }
        committed.put("Total", Long.parseLong(total.group(2)));
        Matcher category = NMT_CATEGORY.matcher(text);
        while (category.find()) {
            committed.put(category.group(1).strip(), Long.parseLong(category.group(3)));
        }
        return committed;
    }

    /**
     * Runs {@code jcmd PID GC.class_histogram} (which collects first, so it counts live objects), keeps its output as
     * {@code histogram-<label>.txt}, and returns its rows in order, largest first.
     *
     * @param label the measurement the file belongs to
     * @return the rows
     */
    List<HistogramRow> classHistogram(String label) throws IOException, InterruptedException {
        String text = jcmd("GC.class_histogram", "histogram-" + label + ".txt");
        List<HistogramRow> rows = new ArrayList<>();
        Matcher row = HISTOGRAM_ROW.matcher(text);
        while (row.find()) {
            rows.add(new HistogramRow(row.group(3), Long.parseLong(row.group(1)), Long.parseLong(row.group(2))));
        }
        return rows;
    }

    private String jcmd(String command, String file) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        cmd.addAll(List.of(command.split(" ")));
        Path output = outputDir.resolve(file != null ? file : "jcmd-last.txt");
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(JCMD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("jcmd " + command + " did not finish within " + JCMD_TIMEOUT_SECONDS + " s");
        }
        String text = Files.readString(output);
        if (process.exitValue() != 0) {
            throw new IOException("jcmd " + pid + " " + command + " exited with " + process.exitValue() + ": "
                    + text.strip());
        }
        return text;
    }

    /** One class in a histogram: its name, live instances and their shallow bytes. */
    record HistogramRow(String className, long instances, long bytes) {
    }
}
