package io.refractium.balance;

import io.refractium.Backend;
import java.util.List;

/**
 * {@link LoadBalancers#weighted()}: nginx's smooth weighted round robin.
 *
 * <p>Each backend has a running score. On every selection each eligible backend's score grows by its weight, the
 * eligible backend with the highest score (the first one in declared order on a tie) is chosen, and its score drops
 * by the sum of the eligible weights. With a fixed set of eligible backends of weights {@code w1..wn}, every run of
 * {@code w1 + ... + wn} selections picks backend {@code i} exactly {@code wi} times, interleaved rather than in
 * bursts: weights 5, 1, 1 give {@code a a b a c a a}. Ineligible backends keep their score and take no part until
 * they are eligible again.
 *
 * <p>Thread-safe: the scores are read and updated under a lock held for one pass over the backends, so concurrent
 * selections see the same sequence as sequential ones would. Nothing is allocated per selection.
 */
final class WeightedRoundRobinSelector implements LoadBalancer.Selector {

    private final int[] weights;
    /** The running scores; guarded by itself. */
    private final long[] scores;

    WeightedRoundRobinSelector(List<Backend> backends) {
        weights = new int[backends.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = backends.get(i).weight();
        }
        scores = new long[weights.length];
    }

    @Override
    public int select(SelectionContext context) {
        int[] w = weights;
        long[] s = scores;
        synchronized (s) {
            long total = 0;
            int best = -1;
            long bestScore = 0;
            for (int i = 0; i < w.length; i++) {
                if (!context.isEligible(i)) {
                    continue;
                }
                long score = s[i] + w[i];
                s[i] = score;
                total += w[i];
                if (best < 0 || score > bestScore) {
                    best = i;
                    bestScore = score;
                }
            }
            if (best >= 0) {
                s[best] = bestScore - total;
            }
            return best;
        }
    }
}
