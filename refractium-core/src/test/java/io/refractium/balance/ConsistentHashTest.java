package io.refractium.balance;

import static io.refractium.balance.FakeSelectionContext.backends;
import static io.refractium.balance.FakeSelectionContext.equalBackends;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.refractium.Backend;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConsistentHashTest {

    private static final int KEYS = 10_000;

    /** Returns {@value #KEYS} distinct-enough client addresses, the same ones in every run. */
    private static List<InetSocketAddress> clients(long seed) {
        Random random = new Random(seed);
        List<InetSocketAddress> clients = new ArrayList<>(KEYS);
        for (int i = 0; i < KEYS; i++) {
            byte[] ip = new byte[i % 4 == 3 ? 16 : 4];
            random.nextBytes(ip);
            clients.add(socketAddress(ip));
        }
        return clients;
    }

    private static InetSocketAddress socketAddress(byte[] ip) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), 50000);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Returns the backend ({@code HOST:PORT}) each client is sent to. */
    private static List<String> assign(List<Backend> backends, FakeSelectionContext context,
            List<InetSocketAddress> clients) {
        LoadBalancer.Selector selector = LoadBalancers.hashClientIp().newSelector(backends);
        List<String> assigned = new ArrayList<>(clients.size());
        for (InetSocketAddress client : clients) {
            int chosen = selector.select(context.client(client));
            assigned.add(chosen < 0 ? null : backends.get(chosen).hostAndPort());
        }
        return assigned;
    }

    @ParameterizedTest(name = "{0} backends")
    @ValueSource(ints = {3, 5, 10})
    void removingOneBackendMovesOnlyItsOwnKeys(int n) {
        List<Backend> all = equalBackends(n);
        List<InetSocketAddress> clients = clients(n);
        List<String> before = assign(all, new FakeSelectionContext(n), clients);

        for (int removed = 0; removed < n; removed++) {
            List<Backend> rest = new ArrayList<>(all);
            String gone = rest.remove(removed).hostAndPort();
            List<String> after = assign(rest, new FakeSelectionContext(n - 1), clients);

            int moved = 0;
            int othersMoved = 0;
            for (int k = 0; k < KEYS; k++) {
                if (!before.get(k).equals(after.get(k))) {
                    moved++;
                    if (!before.get(k).equals(gone)) {
                        othersMoved++;
                    }
                }
            }
            // the removed backend's share of the ring is 1/N give or take the spread of 160 points (about 8%
            // of the share for one standard deviation): 1/N + 3 points bounds it for every N here
            assertThat((double) moved / KEYS).as("moved when removing %s of %d", gone, n)
                    .isLessThanOrEqualTo(1.0 / n + 0.03)
                    .isGreaterThan(0);
            assertThat(othersMoved).as("keys of other backends moved when removing %s", gone).isZero();
        }
    }

    @ParameterizedTest(name = "{0} backends")
    @ValueSource(ints = {3, 5, 10})
    void anIneligibleBackendIsTheSameAsARemovedOne(int n) {
        List<Backend> all = equalBackends(n);
        List<InetSocketAddress> clients = clients(100 + n);

        for (int removed = 0; removed < n; removed++) {
            List<Backend> rest = new ArrayList<>(all);
            rest.remove(removed);
            List<String> withoutIt = assign(rest, new FakeSelectionContext(n - 1), clients);
            List<String> withItIneligible = assign(all, new FakeSelectionContext(n).ineligible(removed), clients);

            assertThat(withItIneligible).as("backend %d ineligible", removed).isEqualTo(withoutIt);
        }
    }

    @Test
    void theKeysOfAFailedBackendSpreadOverTheOthers() {
        int n = 5;
        List<Backend> all = equalBackends(n);
        List<InetSocketAddress> clients = clients(7);
        List<String> before = assign(all, new FakeSelectionContext(n), clients);
        List<String> after = assign(all, new FakeSelectionContext(n).ineligible(2), clients);

        int[] received = new int[n];
        for (int k = 0; k < KEYS; k++) {
            if (before.get(k).equals(all.get(2).hostAndPort())) {
                received[all.indexOf(Backend.parse(after.get(k)))]++;
            }
        }

        assertThat(received[2]).isZero();
        int total = received[0] + received[1] + received[3] + received[4];
        for (int i : new int[] {0, 1, 3, 4}) {
            assertThat(100.0 * received[i] / total).as("share of backend %d", i).isBetween(10.0, 40.0);
        }
    }

    @Test
    void sameKeySameBackendAcrossIndependentSelectors() {
        List<InetSocketAddress> clients = clients(11);

        List<String> first = assign(equalBackends(7), new FakeSelectionContext(7), clients);
        List<String> second = assign(equalBackends(7), new FakeSelectionContext(7), clients);

        assertThat(second).isEqualTo(first);
    }

    @Test
    void theRingDependsOnTheBackendsNotOnTheirOrder() {
        List<Backend> forward = equalBackends(6);
        List<Backend> backward = new ArrayList<>(forward);
        Collections.reverse(backward);
        List<InetSocketAddress> clients = clients(13);

        assertThat(assign(backward, new FakeSelectionContext(6), clients))
                .isEqualTo(assign(forward, new FakeSelectionContext(6), clients));
    }

    @Test
    void knownClientsGoToKnownBackends() {
        // pinned, and computed by an independent implementation of the ring: a different answer means every
        // deployed proxy would move its clients on upgrade
        List<Backend> backends = equalBackends(5);
        LoadBalancer.Selector selector = LoadBalancers.hashClientIp().newSelector(backends);
        FakeSelectionContext context = new FakeSelectionContext(5);
        Map<String, String> golden = new LinkedHashMap<>();
        golden.put("192.0.2.1", "10.0.0.3:443");
        golden.put("192.0.2.2", "10.0.0.4:443");
        golden.put("192.0.2.3", "10.0.0.5:443");
        golden.put("2001:db8::2", "10.0.0.4:443");

        Map<String, String> actual = new LinkedHashMap<>();
        for (String client : golden.keySet()) {
            actual.put(client, backends.get(selector.select(context.client(client))).hostAndPort());
        }

        assertThat(actual).isEqualTo(golden);
    }

    @Test
    void equalWeightsShareTheKeysEvenly() {
        int n = 5;
        List<String> assigned = assign(equalBackends(n), new FakeSelectionContext(n), clients(17));

        for (Backend b : equalBackends(n)) {
            long count = assigned.stream().filter(b.hostAndPort()::equals).count();
            // 160 points per backend: each share within a quarter of its fair 20%
            assertThat(100.0 * count / KEYS).as("share of %s", b).isCloseTo(20.0, within(5.0));
        }
    }

    @Test
    void weightsScaleTheShares() {
        List<Backend> backends = backends(3, 1);
        List<String> assigned = assign(backends, new FakeSelectionContext(2), clients(19));

        long heavy = assigned.stream().filter(backends.get(0).hostAndPort()::equals).count();
        assertThat(100.0 * heavy / KEYS).isCloseTo(75.0, within(5.0));
    }

    @Test
    void veryUnevenWeightsKeepTheirProportionsOnAScaledRing() {
        // 1001 units of 160 points exceed the ring's limit: the points are scaled down, the light backend keeps some
        List<Backend> backends = backends(750, 250, 1);
        List<String> assigned = assign(backends, new FakeSelectionContext(3), clients(41));

        double[] shares = new double[3];
        for (int i = 0; i < 3; i++) {
            shares[i] = 100.0 * assigned.stream().filter(backends.get(i).hostAndPort()::equals).count() / KEYS;
        }
        assertThat(shares[0]).isCloseTo(74.9, within(3.0));
        assertThat(shares[1]).isCloseTo(25.0, within(3.0));
        assertThat(shares[2]).isGreaterThan(0.0).isLessThan(1.0);
    }

    @Test
    void anIpv4MappedIpv6ClientIsTheSameClientAsItsIpv4Address() throws Exception {
        LoadBalancer.Selector selector = LoadBalancers.hashClientIp().newSelector(equalBackends(10));
        Random random = new Random(23);
        for (int i = 0; i < 200; i++) {
            byte[] v4 = new byte[4];
            random.nextBytes(v4);
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(v4, 0, mapped, 12, 4);
            InetSocketAddress plain = new InetSocketAddress(InetAddress.getByAddress(v4), 1);
            InetSocketAddress asV6 = new InetSocketAddress(Inet6Address.getByAddress(null, mapped, -1), 2);
            assertThat(asV6.getAddress()).isInstanceOf(Inet6Address.class);

            assertThat(selector.select(new FakeSelectionContext(10).client(asV6)))
                    .isEqualTo(selector.select(new FakeSelectionContext(10).client(plain)));
        }
    }

    @Test
    void hashNameIgnoresCaseAndATrailingDot() {
        LoadBalancer.Selector selector = LoadBalancers.hashServerName().newSelector(equalBackends(10));
        FakeSelectionContext context = new FakeSelectionContext(10).client("192.0.2.1");
        Random random = new Random(29);

        for (int i = 0; i < 200; i++) {
            String name = "host-" + Long.toHexString(random.nextLong()) + ".example.com";
            int chosen = selector.select(context.serverName(name));
            assertThat(selector.select(context.serverName(name.toUpperCase(Locale.ROOT))))
                    .isEqualTo(chosen);
            assertThat(selector.select(context.serverName(name + "."))).isEqualTo(chosen);
        }
    }

    @Test
    void hashNameSpreadsNamesAndIgnoresTheClient() {
        int n = 4;
        LoadBalancer.Selector selector = LoadBalancers.hashServerName().newSelector(equalBackends(n));
        List<InetSocketAddress> clients = clients(31);
        int[] counts = new int[n];

        for (int i = 0; i < KEYS; i++) {
            String name = "svc" + i + ".example.net";
            int chosen = selector.select(new FakeSelectionContext(n).client(clients.get(i)).serverName(name));
            counts[chosen]++;
            assertThat(selector.select(new FakeSelectionContext(n).client(clients.get(KEYS - 1 - i))
                    .serverName(name))).isEqualTo(chosen);
        }

        for (int c : counts) {
            assertThat(100.0 * c / KEYS).isCloseTo(25.0, within(6.25));
        }
    }

    @Test
    void hashNameWithoutANameFallsBackToTheClientIp() {
        List<Backend> backends = equalBackends(8);
        LoadBalancer.Selector byName = LoadBalancers.hashServerName().newSelector(backends);
        LoadBalancer.Selector byIp = LoadBalancers.hashClientIp().newSelector(backends);

        for (InetSocketAddress client : clients(37)) {
            assertThat(byName.select(new FakeSelectionContext(8).client(client)))
                    .isEqualTo(byIp.select(new FakeSelectionContext(8).client(client)));
        }
    }

    @Test
    void withoutAnyKeyTheChoiceIsRandomAndWeighted() {
        LoadBalancer.Selector selector = LoadBalancers.hashClientIp().newSelector(backends(1, 3));
        FakeSelectionContext context = new FakeSelectionContext(2).client(InetSocketAddress.createUnresolved(
                "client.example", 1));
        int[] counts = new int[2];

        for (int i = 0; i < KEYS; i++) {
            counts[selector.select(context)]++;
        }

        // a point drawn at random: shares follow the ring, 25% and 75% give or take the spread of the points
        assertThat(100.0 * counts[1] / KEYS).isCloseTo(75.0, within(6.0));
    }
}
