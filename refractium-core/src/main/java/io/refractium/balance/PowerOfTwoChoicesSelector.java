package io.refractium.balance;

import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link LoadBalancers#powerOfTwoChoices()}: of two distinct eligible backends drawn at random, the one with fewer
 * active connections (the first drawn on a tie); the only eligible backend when there is one.
 *
 * <p>Lock-free, uses {@link ThreadLocalRandom}, allocates nothing per selection.
 */
final class PowerOfTwoChoicesSelector implements LoadBalancer.Selector {

    @Override
    public int select(SelectionContext context) {
        int n = context.size();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = RandomSelector.pick(context, n, -1, random);
        if (a < 0) {
            return -1;
        }
        int b = RandomSelector.pick(context, n, a, random);
        if (b < 0) {
            return a;
        }
        return context.activeConnections(b) < context.activeConnections(a) ? b : a;
    }
}
