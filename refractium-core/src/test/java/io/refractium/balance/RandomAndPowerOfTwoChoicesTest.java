package io.refractium.balance;

import static io.refractium.balance.FakeSelectionContext.equalBackends;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Distribution tests over {@value #PICKS} selections. Each share is asserted within {@value #TOLERANCE} percentage
 * points of its expected value; with 10 000 picks one standard deviation is at most 0.5 points, so a correct
 * strategy stays inside by a wide margin and a biased one does not.
 */
class RandomAndPowerOfTwoChoicesTest {

    private static final int PICKS = 10_000;
    private static final double TOLERANCE = 3.0;

    /** Returns the percentage of picks each backend received. */
    private static double[] shares(LoadBalancer.Selector selector, SelectionContext context) {
        int[] counts = new int[context.size()];
        for (int i = 0; i < PICKS; i++) {
            counts[selector.select(context)]++;
        }
        double[] shares = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            shares[i] = 100.0 * counts[i] / PICKS;
        }
        return shares;
    }

    private static void assertShares(double[] actual, double... expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == 0) {
                assertThat(actual[i]).as("share of backend %d", i).isZero();
            } else {
                assertThat(actual[i]).as("share of backend %d", i).isCloseTo(expected[i], within(TOLERANCE));
            }
        }
    }

    @Test
    void randomIsUniform() {
        LoadBalancer.Selector selector = LoadBalancers.random().newSelector(equalBackends(4));

        assertShares(shares(selector, new FakeSelectionContext(4)), 25, 25, 25, 25);
    }

    @Test
    void randomIsUniformAmongTheEligible() {
        LoadBalancer.Selector selector = LoadBalancers.random().newSelector(equalBackends(6));

        assertShares(shares(selector, new FakeSelectionContext(6).onlyEligible(0, 2, 5)),
                100 / 3.0, 0, 100 / 3.0, 0, 0, 100 / 3.0);
    }

    @Test
    void randomIsUniformWhenFewAreEligible() {
        // with 3 of 40 eligible most selections find none by guessing and count instead
        LoadBalancer.Selector selector = LoadBalancers.random().newSelector(equalBackends(40));
        FakeSelectionContext context = new FakeSelectionContext(40).onlyEligible(3, 17, 39);

        double[] shares = shares(selector, context);

        double[] expected = new double[40];
        expected[3] = 100 / 3.0;
        expected[17] = 100 / 3.0;
        expected[39] = 100 / 3.0;
        assertShares(shares, expected);
    }

    @Test
    void powerOfTwoChoicesIsUniformUnderEqualLoad() {
        LoadBalancer.Selector selector = LoadBalancers.powerOfTwoChoices().newSelector(equalBackends(4));

        assertShares(shares(selector, new FakeSelectionContext(4).active(7, 7, 7, 7)), 25, 25, 25, 25);
    }

    @Test
    void powerOfTwoChoicesPrefersTheLessLoaded() {
        LoadBalancer.Selector selector = LoadBalancers.powerOfTwoChoices().newSelector(equalBackends(4));

        // of the 6 equally likely pairs, backend i wins against each more loaded one: 3, 2, 1 and 0 pairs of 6
        assertShares(shares(selector, new FakeSelectionContext(4).active(0, 10, 20, 30)),
                50, 100 / 3.0, 100 / 6.0, 0);
    }

    @Test
    void powerOfTwoChoicesDrawsTwoDistinctBackends() {
        LoadBalancer.Selector selector = LoadBalancers.powerOfTwoChoices().newSelector(equalBackends(2));
        FakeSelectionContext context = new FakeSelectionContext(2).active(0, 5);

        // drawing the loaded backend twice would choose it a quarter of the time
        for (int i = 0; i < PICKS; i++) {
            assertThat(selector.select(context)).isZero();
        }
    }

    @Test
    void powerOfTwoChoicesAmongTheEligibleOnly() {
        LoadBalancer.Selector selector = LoadBalancers.powerOfTwoChoices().newSelector(equalBackends(6));
        FakeSelectionContext context = new FakeSelectionContext(6).active(0, 1, 2, 3, 4, 5).onlyEligible(2, 4, 5);

        // pairs {2,4} {2,5} {4,5}: backend 2 wins two of three, backend 4 one
        assertShares(shares(selector, context), 0, 0, 200 / 3.0, 0, 100 / 3.0, 0);
    }

    @Test
    void powerOfTwoChoicesWithOneEligibleBackendChoosesIt() {
        LoadBalancer.Selector selector = LoadBalancers.powerOfTwoChoices().newSelector(equalBackends(30));
        FakeSelectionContext context = new FakeSelectionContext(30).onlyEligible(29);

        for (int i = 0; i < 1000; i++) {
            assertThat(selector.select(context)).isEqualTo(29);
        }
    }
}
