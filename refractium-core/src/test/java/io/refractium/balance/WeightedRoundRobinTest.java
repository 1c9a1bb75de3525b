package io.refractium.balance;

import static io.refractium.balance.FakeSelectionContext.backends;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class WeightedRoundRobinTest {

    private static int[] picks(LoadBalancer.Selector selector, SelectionContext context, int count) {
        int[] picks = new int[count];
        for (int i = 0; i < count; i++) {
            picks[i] = selector.select(context);
        }
        return picks;
    }

    private static int[] counts(int[] picks, int from, int to, int size) {
        int[] counts = new int[size];
        for (int i = from; i < to; i++) {
            counts[picks[i]]++;
        }
        return counts;
    }

    @Test
    void followsTheSmoothOrderOfNginx() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(5, 1, 1));

        int[] picks = picks(selector, new FakeSelectionContext(3), 21);

        // a a b a c a a, three times: never more than two in a row for the heavy backend
        assertThat(picks).containsExactly(0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0);
    }

    @Test
    void matchesTheWeightsExactlyInEveryCycle() {
        int[] weights = {3, 7, 1, 4, 2};
        int cycle = 17;
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(weights));

        int[] picks = picks(selector, new FakeSelectionContext(weights.length), cycle * 50);

        for (int start = 0; start < picks.length; start += cycle) {
            assertThat(counts(picks, start, start + cycle, weights.length))
                    .as("cycle starting at pick %d", start)
                    .containsExactly(weights);
        }
    }

    @Test
    void spreadsTheHeavyBackendInsteadOfBursting() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(10, 1));

        int[] picks = picks(selector, new FakeSelectionContext(2), 110);

        // the light backend comes once per cycle of 11, at the same place each time: an even spread
        List<Integer> light = new ArrayList<>();
        for (int i = 0; i < picks.length; i++) {
            if (picks[i] == 1) {
                light.add(i);
            }
        }
        assertThat(light).hasSize(10);
        for (int k = 1; k < light.size(); k++) {
            assertThat(light.get(k) - light.get(k - 1)).isEqualTo(11);
        }
    }

    @Test
    void equalWeightsTakeTurns() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(2, 2, 2));

        assertThat(picks(selector, new FakeSelectionContext(3), 9)).containsExactly(0, 1, 2, 0, 1, 2, 0, 1, 2);
    }

    @Test
    void onlyEligibleBackendsTakePartInARound() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(5, 1, 1, 3));
        FakeSelectionContext context = new FakeSelectionContext(4).ineligible(1, 3);

        int[] picks = picks(selector, context, 6 * 20);

        assertThat(picks).doesNotContain(1, 3);
        for (int start = 0; start < picks.length; start += 6) {
            assertThat(counts(picks, start, start + 6, 4)).containsExactly(5, 0, 1, 0);
        }
    }

    @Test
    void keepsTheProportionsWhenEligibilityChanges() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(5, 1, 1));
        FakeSelectionContext context = new FakeSelectionContext(3);

        picks(selector, context, 3);
        context.ineligible(0);
        int[] without = picks(selector, context, 40);
        context.eligible[0] = true;
        int[] after = picks(selector, context, 700);

        // scores carried over from before a change are bounded by the sum of the weights (7), and so is the
        // deviation from the exact proportions they cause
        assertThat(without).doesNotContain(0);
        int[] withoutCounts = counts(without, 0, without.length, 3);
        assertThat(withoutCounts[1]).isBetween(20 - 7, 20 + 7);
        assertThat(withoutCounts[2]).isBetween(20 - 7, 20 + 7);
        int[] afterCounts = counts(after, 0, after.length, 3);
        assertThat(afterCounts[0]).isBetween(500 - 7, 500 + 7);
        assertThat(afterCounts[1]).isBetween(100 - 7, 100 + 7);
        assertThat(afterCounts[2]).isBetween(100 - 7, 100 + 7);
        // and once the set is stable again, every cycle of 7 is exact
        for (int start = 7 * 10; start < after.length; start += 7) {
            assertThat(counts(after, start, start + 7, 3)).as("cycle starting at %d", start).containsExactly(5, 1, 1);
        }
    }

    @Test
    void returnsMinusOneWhenNothingIsEligible() {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(5, 1, 1));

        assertThat(selector.select(new FakeSelectionContext(3).onlyEligible())).isEqualTo(-1);
        // and a round with nobody eligible leaves the sequence where it was
        assertThat(picks(selector, new FakeSelectionContext(3), 7)).containsExactly(0, 0, 1, 0, 2, 0, 0);
    }

    @Test
    @Timeout(30)
    void concurrentSelectionsKeepTheExactProportions() throws Exception {
        LoadBalancer.Selector selector = LoadBalancers.weighted().newSelector(backends(5, 1, 1));
        int threads = 4;
        int perThread = 7 * 5_000;
        AtomicIntegerArray totals = new AtomicIntegerArray(3);
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                futures.add(pool.submit(() -> {
                    FakeSelectionContext context = new FakeSelectionContext(3);
                    start.await();
                    int[] mine = new int[3];
                    for (int i = 0; i < perThread; i++) {
                        mine[selector.select(context)]++;
                    }
                    for (int b = 0; b < 3; b++) {
                        totals.addAndGet(b, mine[b]);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(20, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        // every selection runs one whole step of the algorithm, so whole cycles add up exactly
        int cycles = threads * perThread / 7;
        assertThat(new int[] {totals.get(0), totals.get(1), totals.get(2)})
                .containsExactly(5 * cycles, cycles, cycles);
    }
}
