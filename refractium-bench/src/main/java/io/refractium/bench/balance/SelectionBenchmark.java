package io.refractium.bench.balance;

import io.refractium.Backend;
import io.refractium.balance.LoadBalancer;
import io.refractium.balance.LoadBalancers;
import io.refractium.balance.SelectionContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one backend selection, for every built-in strategy, with 3, 30 and 300 backends, all of them eligible
 * or every other one.
 *
 * <p>The context is a plain object over arrays, as cheap as the engine's: active connections are fixed random
 * numbers, and each selection takes the next of 1024 client addresses (IPv4) and server names, so the hash
 * strategies do not see one key over and over. One selector is shared by all benchmark threads, as one target's
 * selector is shared by all event loops; add {@code -t 2} to measure two threads selecting at once.
 *
 * <p>Run from the repository root:
 * <pre>{@code
 * mvn -q -B -DskipTests package && java -jar refractium-bench/target/benchmarks.jar SelectionBenchmark -prof gc
 * }</pre>
 * and, for a quick look, add {@code -f 1 -wi 2 -i 3 -w 1s -r 1s}; narrow it with, e.g., {@code -p strategy=weighted}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SelectionBenchmark {

    /** Client keys each thread cycles through; a power of two. */
    private static final int KEYS = 1024;

    /** One target: its selector and which backends are eligible; shared by all threads. */
    @State(Scope.Benchmark)
    public static class Target {

        /** The strategy's name, as {@link LoadBalancers#byName(String)} takes it. */
        @Param({"round-robin", "weighted", "least-conn", "p2c", "random", "hash-ip", "hash-name"})
        public String strategy;

        /** The number of backends. */
        @Param({"3", "30", "300"})
        public int backends;

        /** {@code all} backends eligible, or {@code half}: every other one. */
        @Param({"all", "half"})
        public String eligible;

        LoadBalancer.Selector selector;
        boolean[] eligibility;
        int[] active;

        /** Builds the backends (weights 1 to 5) and the selector. */
        @Setup
        public void setUp() {
            Random random = new Random(42);
            List<Backend> list = new ArrayList<>(backends);
            eligibility = new boolean[backends];
            active = new int[backends];
            for (int i = 0; i < backends; i++) {
                list.add(Backend.of("10.1." + (i / 250) + "." + (i % 250 + 1), 443).withWeight(1 + i % 5));
                eligibility[i] = eligible.equals("all") || i % 2 == 0;
                active[i] = random.nextInt(100);
            }
            selector = LoadBalancers.byName(strategy).newSelector(list);
        }
    }

    /** One thread's connections: a selection context whose keys change on every selection. */
    @State(Scope.Thread)
    public static class Connections implements SelectionContext {

        private boolean[] eligibility;
        private int[] active;
        private final InetSocketAddress[] clients = new InetSocketAddress[KEYS];
        private final String[] names = new String[KEYS];
        private int next;

        /**
         * Prepares the keys and takes the target's eligibility and loads.
         *
         * @param target the shared target
         * @throws UnknownHostException never: the addresses are built from bytes
         */
        @Setup
        public void setUp(Target target) throws UnknownHostException {
            eligibility = target.eligibility;
            active = target.active;
            Random random = new Random(7);
            for (int i = 0; i < KEYS; i++) {
                byte[] ip = new byte[4];
                random.nextBytes(ip);
                clients[i] = new InetSocketAddress(InetAddress.getByAddress(ip), 40000 + i);
                names[i] = "svc" + random.nextInt(1_000_000) + ".example.com";
            }
        }

        @Override
        public int size() {
            return eligibility.length;
        }

        @Override
        public boolean isEligible(int index) {
            return eligibility[index];
        }

        @Override
        public int activeConnections(int index) {
            return active[index];
        }

        @Override
        public InetSocketAddress clientAddress() {
            return clients[next];
        }

        @Override
        public String serverName() {
            return names[next];
        }
    }

    /**
     * Selects one backend for the next connection.
     *
     * @param target the shared target
     * @param connections this thread's connections
     * @return the chosen index, consumed by JMH
     */
    @Benchmark
    public int select(Target target, Connections connections) {
        connections.next = (connections.next + 1) & (KEYS - 1);
        return target.selector.select(connections);
    }
}
