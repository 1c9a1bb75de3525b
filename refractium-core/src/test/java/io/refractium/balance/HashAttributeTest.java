package io.refractium.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Consistent hashing on any attribute the detector reports. */
class HashAttributeTest {

    private static final AttributeKey<String> CLIENT_ID = AttributeKey.of("mqtt.clientid", String.class);

    private static FakeSelectionContext withId(String id, String clientIp) {
        return withId(10, id, clientIp);
    }

    private static FakeSelectionContext withId(int size, String id, String clientIp) {
        return new FakeSelectionContext(size).client(clientIp)
                .attributes(ProtocolAttributes.builder().put(CLIENT_ID, id).build());
    }

    @Test
    void theSameValueGoesToTheSameBackendWhateverTheClientAndAcrossSelectors() {
        LoadBalancer.Selector one = LoadBalancers.hashAttribute("mqtt.clientid")
                .newSelector(FakeSelectionContext.equalBackends(10));
        LoadBalancer.Selector two = LoadBalancers.hashAttribute("mqtt.clientid")
                .newSelector(FakeSelectionContext.equalBackends(10));
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int chosen = one.select(withId("sensor-" + i, "10.1.0.1"));
            assertThat(one.select(withId("sensor-" + i, "10.9.9.9"))).isEqualTo(chosen);
            assertThat(two.select(withId("sensor-" + i, "192.0.2.7"))).isEqualTo(chosen);
            used.add(chosen);
        }
        assertThat(used).as("200 ids spread over 10 backends").hasSize(10);
    }

    @Test
    void valuesAreCaseSensitiveAndAMissingAttributeFallsBackToTheClientIp() {
        LoadBalancer.Selector selector = LoadBalancers.hashAttribute("mqtt.clientid")
                .newSelector(FakeSelectionContext.equalBackends(50));
        LoadBalancer.Selector byIp = LoadBalancers.hashClientIp().newSelector(FakeSelectionContext.equalBackends(50));
        int differences = 0;
        for (int i = 0; i < 50; i++) {
            if (selector.select(withId(50, "Id" + i, "10.0.0.1")) != selector.select(withId(50, "id" + i, "10.0.0.1"))) {
                differences++;
            }
        }
        assertThat(differences).isGreaterThan(20);
        for (int i = 1; i < 40; i++) {
            FakeSelectionContext noId = new FakeSelectionContext(50).client("10.2.0." + i);
            assertThat(selector.select(noId)).isEqualTo(byIp.select(noId));
        }
    }

    @Test
    void anIneligibleBackendMovesOnlyItsOwnValues() {
        LoadBalancer.Selector selector = LoadBalancers.hashAttribute("mqtt.clientid")
                .newSelector(FakeSelectionContext.equalBackends(5));
        for (int i = 0; i < 100; i++) {
            int before = selector.select(withId(5, "c" + i, "10.0.0.1"));
            int after = selector.select(withId(5, "c" + i, "10.0.0.1").ineligible(before == 0 ? 1 : 0));
            if (before != 0 && before != 1) {
                assertThat(after).isEqualTo(before);
            }
        }
    }

    @Test
    void aListValuedAttributeAndTheSelectionContextAccessors() {
        AttributeKey<List<String>> alpn = AttributeKey.listOf("tls.alpn");
        FakeSelectionContext ctx = new FakeSelectionContext(4)
                .attributes(ProtocolAttributes.builder().put(alpn, List.of("h2", "http/1.1")).build());
        assertThat(ctx.attribute("tls.alpn")).isEqualTo(List.of("h2", "http/1.1"));
        assertThat(ctx.attribute("tls.sni")).isNull();
        LoadBalancer.Selector selector = LoadBalancers.hashAttribute("tls.alpn")
                .newSelector(FakeSelectionContext.equalBackends(4));
        assertThat(selector.select(ctx)).isEqualTo(selector.select(new FakeSelectionContext(4)
                .attributes(ProtocolAttributes.builder().put(alpn, List.of("h2", "http/1.1")).build())));
    }

    @Test
    void namedHashAttrAndEqualByName() {
        LoadBalancer lb = LoadBalancers.byName("hash-attr:mqtt.clientid");
        assertThat(lb.name()).isEqualTo("hash-attr:mqtt.clientid");
        assertThat(lb).isEqualTo(LoadBalancers.hashAttribute("mqtt.clientid"))
                .isNotEqualTo(LoadBalancers.hashAttribute("other"));
        assertThat(LoadBalancers.hashClientIp()).isNotEqualTo(LoadBalancers.hashServerName());
        assertThatThrownBy(() -> LoadBalancers.hashAttribute("a b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("hashAttribute: \"a b\"");
        assertThatThrownBy(() -> LoadBalancers.byName("hash-attr:")).hasMessageContaining("hash-attr:NAME");
    }
}
