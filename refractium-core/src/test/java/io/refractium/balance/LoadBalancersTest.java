package io.refractium.balance;

import static io.refractium.balance.FakeSelectionContext.equalBackends;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.Backend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LoadBalancersTest {

    static Stream<Arguments> strategies() {
        return Stream.of(
                Arguments.of("round-robin", (Supplier<LoadBalancer>) LoadBalancers::roundRobin),
                Arguments.of("weighted", (Supplier<LoadBalancer>) LoadBalancers::weighted),
                Arguments.of("least-conn", (Supplier<LoadBalancer>) LoadBalancers::leastConnections),
                Arguments.of("p2c", (Supplier<LoadBalancer>) LoadBalancers::powerOfTwoChoices),
                Arguments.of("random", (Supplier<LoadBalancer>) LoadBalancers::random),
                Arguments.of("hash-ip", (Supplier<LoadBalancer>) LoadBalancers::hashClientIp),
                Arguments.of("hash-name", (Supplier<LoadBalancer>) LoadBalancers::hashServerName));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void eachStrategyIsASingletonWithAStableName(String name, Supplier<LoadBalancer> factory) {
        LoadBalancer strategy = factory.get();

        assertThat(strategy.name()).isEqualTo(name);
        assertThat(strategy).hasToString(name);
        assertThat(factory.get()).isSameAs(strategy);
        assertThat(LoadBalancers.byName(name)).isSameAs(strategy);
    }

    @Test
    void byNameRejectsAnUnknownNameListingTheAcceptedOnes() {
        String expected = "(expected one of: round-robin, weighted, least-conn, p2c, random, hash-ip, hash-name, hash-attr:NAME)";

        assertThatThrownBy(() -> LoadBalancers.byName("foo"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("balance: \"foo\" " + expected);
        assertThatThrownBy(() -> LoadBalancers.byName("Round-Robin"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("balance: \"Round-Robin\" " + expected);
        assertThatThrownBy(() -> LoadBalancers.byName(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("balance: \"\" " + expected);
    }

    @Test
    void byNameRejectsNull() {
        assertThatThrownBy(() -> LoadBalancers.byName(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("name");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void newSelectorChecksTheBackendList(String name, Supplier<LoadBalancer> factory) {
        LoadBalancer strategy = factory.get();

        assertThatThrownBy(() -> strategy.newSelector(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("backends");
        assertThatThrownBy(() -> strategy.newSelector(List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("backends: [] (expected: at least one backend)");
        List<Backend> withNull = new ArrayList<>(equalBackends(2));
        withNull.add(null);
        assertThatThrownBy(() -> strategy.newSelector(withNull))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("backends[2]");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void eachSelectorHasItsOwnState(String name, Supplier<LoadBalancer> factory) {
        LoadBalancer.Selector a = factory.get().newSelector(equalBackends(3));
        LoadBalancer.Selector b = factory.get().newSelector(equalBackends(3));

        assertThat(a).isNotSameAs(b);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void choosesOnlyEligibleBackendsAndMinusOneWhenThereAreNone(String name, Supplier<LoadBalancer> factory)
            throws Exception {
        long seed = name.hashCode();
        Random random = new Random(seed);
        for (int round = 0; round < 300; round++) {
            int n = 1 + random.nextInt(round % 10 == 0 ? 90 : 12);
            List<Backend> backends = randomBackends(random, n);
            LoadBalancer.Selector selector = factory.get().newSelector(backends);
            for (int pick = 0; pick < 40; pick++) {
                FakeSelectionContext context = new FakeSelectionContext(n);
                double density = pick % 8 == 0 ? 0 : pick % 8 == 1 ? 1 : random.nextDouble();
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    context.eligible[i] = random.nextDouble() < density;
                    context.active[i] = random.nextInt(5);
                    any |= context.eligible[i];
                }
                context.client(randomClient(random)).serverName(random.nextBoolean() ? null : "n" + random.nextInt(50));

                int chosen = selector.select(context);

                String situation = name + ", seed " + seed + ", round " + round + ", eligible "
                        + Arrays.toString(context.eligible);
                if (any) {
                    assertThat(chosen).as(situation).isBetween(0, n - 1);
                    assertThat(context.eligible[chosen]).as(situation + ", chose %d", chosen).isTrue();
                } else {
                    assertThat(chosen).as(situation).isEqualTo(-1);
                }
            }
        }
    }

    private static List<Backend> randomBackends(Random random, int n) {
        List<Backend> backends = new ArrayList<>(equalBackends(n));
        for (int i = 0; i < n; i++) {
            backends.set(i, backends.get(i).withWeight(1 + random.nextInt(random.nextBoolean() ? 3 : 1000))
                    .withBackup(random.nextInt(4) == 0));
        }
        Collections.shuffle(backends, random);
        return backends;
    }

    private static InetSocketAddress randomClient(Random random) throws Exception {
        switch (random.nextInt(4)) {
            case 0:
                return null;
            case 1:
                return InetSocketAddress.createUnresolved("client.example", 1);
            case 2:
                byte[] v6 = new byte[16];
                random.nextBytes(v6);
                return new InetSocketAddress(InetAddress.getByAddress(v6), 1);
            default:
                byte[] v4 = new byte[4];
                random.nextBytes(v4);
                return new InetSocketAddress(InetAddress.getByAddress(v4), 1);
        }
    }
}
