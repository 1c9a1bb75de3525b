package io.refractium.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The attributes and their builder: insertion order, replacement, copies of lists, and a builder reused. */
class ProtocolAttributesTest {

    private static final AttributeKey<String> EXTRA = AttributeKey.of("test.extra", String.class);

    @Test
    void keepsTheOrderOfInsertionAndTheLastValueOfAKey() {
        ProtocolAttributes a = ProtocolAttributes.builder()
                .put(AttributeKey.SNI, "a.test")
                .put(AttributeKey.TLS_VERSION, "TLSv1.2")
                .put(AttributeKey.SNI, "b.test")
                .put(EXTRA, null)
                .build();
        assertThat(a.get(AttributeKey.SNI)).isEqualTo("b.test");
        assertThat(a.has(EXTRA)).isFalse();
        assertThat(a.asMap().keySet()).containsExactly(AttributeKey.SNI, AttributeKey.TLS_VERSION);
        assertThat(a.toString()).isEqualTo("{tls.sni=b.test, tls.version=TLSv1.2}");
        assertThat(ProtocolAttributes.builder().put(EXTRA, null).build()).isSameAs(ProtocolAttributes.EMPTY);
    }

    @Test
    void copiesLists() {
        List<String> alpn = new ArrayList<>(List.of("h2"));
        ProtocolAttributes a = ProtocolAttributes.builder().put(AttributeKey.ALPN, alpn).build();
        alpn.add("http/1.1");
        assertThat(a.get(AttributeKey.ALPN)).containsExactly("h2");
        assertThatThrownBy(() -> a.get(AttributeKey.ALPN).add("h3")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void attributesBuiltEarlierStayAsTheyWereWhenTheBuilderGoesOn() {
        ProtocolAttributes.Builder b = ProtocolAttributes.builder().put(AttributeKey.SNI, "a.test");
        ProtocolAttributes first = b.build();
        // a replaced value, then new keys, more than the builder's first array holds
        b.put(AttributeKey.SNI, "b.test");
        ProtocolAttributes second = b.build();
        for (int i = 0; i < 8; i++) {
            b.put(AttributeKey.of("test.key" + i, String.class), "v" + i);
        }
        ProtocolAttributes third = b.build();
        b.put(AttributeKey.SNI, "c.test");
        assertThat(first.asMap()).containsExactly(entry(AttributeKey.SNI, "a.test"));
        assertThat(first.get(AttributeKey.of("test.key0", String.class))).isNull();
        assertThat(second.asMap()).containsExactly(entry(AttributeKey.SNI, "b.test"));
        assertThat(third.asMap()).hasSize(9);
        assertThat(third.get(AttributeKey.SNI)).isEqualTo("b.test");
        assertThat(third.get(AttributeKey.of("test.key7", String.class))).isEqualTo("v7");
        assertThat(b.build().get(AttributeKey.SNI)).isEqualTo("c.test");
        assertThat(b.build().get(AttributeKey.of("test.key7", String.class))).isEqualTo("v7");
    }

    @Test
    void rejectsAValueOfTheWrongType() {
        @SuppressWarnings({"unchecked", "rawtypes"})
        AttributeKey<Object> sni = (AttributeKey) AttributeKey.SNI;
        assertThatThrownBy(() -> ProtocolAttributes.builder().put(sni, List.of("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.sni");
    }
}
