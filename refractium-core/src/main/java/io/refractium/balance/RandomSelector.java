package io.refractium.balance;

import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link LoadBalancers#random()}: an eligible backend chosen uniformly at random.
 *
 * <p>A few random indexes are tried first, which is enough when most backends are eligible; failing that, the
 * eligible backends are counted and the chosen one is located by rank. Either way each eligible backend is equally
 * likely. Lock-free, uses {@link ThreadLocalRandom}, allocates nothing per selection.
 */
final class RandomSelector implements LoadBalancer.Selector {

    /** Random indexes tried before counting; with half the backends eligible, 1 selection in 256 counts. */
    private static final int GUESSES = 8;

    @Override
    public int select(SelectionContext context) {
        return pick(context, context.size(), -1, ThreadLocalRandom.current());
    }

    /**
     * Returns an eligible index other than {@code exclude}, each equally likely, or {@code -1} when there is none.
     *
     * @param context the selection context
     * @param n the number of backends
     * @param exclude an index to leave out, or {@code -1}
     * @param random the source of randomness
     * @return the index, or {@code -1}
     */
    static int pick(SelectionContext context, int n, int exclude, ThreadLocalRandom random) {
        if (exclude >= 0 && n == 1) {
            return -1;
        }
        for (int guess = 0; guess < GUESSES; guess++) {
            int i;
            if (exclude < 0) {
                i = random.nextInt(n);
            } else {
                // uniform over the other n - 1 indexes
                i = random.nextInt(n - 1);
                if (i >= exclude) {
                    i++;
                }
            }
            if (context.isEligible(i)) {
                return i;
            }
        }
        int eligible = 0;
        for (int i = 0; i < n; i++) {
            if (i != exclude && context.isEligible(i)) {
                eligible++;
            }
        }
        if (eligible == 0) {
            return -1;
        }
        int rank = random.nextInt(eligible);
        int last = -1;
        for (int i = 0; i < n; i++) {
            if (i != exclude && context.isEligible(i)) {
                if (rank-- == 0) {
                    return i;
                }
                last = i;
            }
        }
        return last;
    }
}
