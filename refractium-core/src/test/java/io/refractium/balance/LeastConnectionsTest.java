package io.refractium.balance;

import static io.refractium.balance.FakeSelectionContext.equalBackends;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LeastConnectionsTest {

    private final LoadBalancer.Selector selector = LoadBalancers.leastConnections().newSelector(equalBackends(5));

    @Test
    void picksTheBackendWithTheFewestConnections() {
        FakeSelectionContext context = new FakeSelectionContext(5).active(5, 3, 7, 4, 9);

        for (int i = 0; i < 50; i++) {
            assertThat(selector.select(context)).isEqualTo(1);
        }
    }

    @Test
    void skipsAnIneligibleMinimum() {
        FakeSelectionContext context = new FakeSelectionContext(5).active(5, 0, 7, 4, 9).ineligible(1);

        assertThat(selector.select(context)).isEqualTo(3);
    }

    @Test
    void followsTheLoadAsItChanges() {
        FakeSelectionContext context = new FakeSelectionContext(5);
        int[] counts = new int[5];

        // each selection opens a connection: the pool fills evenly
        for (int i = 0; i < 100; i++) {
            int chosen = selector.select(context);
            counts[chosen]++;
            context.active[chosen]++;
        }

        assertThat(counts).containsExactly(20, 20, 20, 20, 20);
    }

    @Test
    void tiesTakeTurns() {
        FakeSelectionContext context = new FakeSelectionContext(5).active(2, 0, 0, 5, 0);
        int[] counts = new int[5];

        for (int round = 0; round < 100; round++) {
            // any three selections in a row reach the three tied backends
            boolean[] seen = new boolean[5];
            for (int k = 0; k < 3; k++) {
                int chosen = selector.select(context);
                counts[chosen]++;
                seen[chosen] = true;
            }
            assertThat(seen).containsExactly(false, true, true, false, true);
        }

        assertThat(counts).containsExactly(0, 100, 100, 0, 100);
    }

    @Test
    void tiesAmongEligibleBackendsOnly() {
        FakeSelectionContext context = new FakeSelectionContext(5).active(0, 0, 0, 0, 0).ineligible(0, 2);
        int[] counts = new int[5];

        for (int i = 0; i < 300; i++) {
            counts[selector.select(context)]++;
        }

        assertThat(counts).containsExactly(0, 100, 0, 100, 100);
    }

    @Test
    void returnsMinusOneWhenNothingIsEligible() {
        assertThat(selector.select(new FakeSelectionContext(5).onlyEligible())).isEqualTo(-1);
    }
}
