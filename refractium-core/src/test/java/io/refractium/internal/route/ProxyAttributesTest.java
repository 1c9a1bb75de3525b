package io.refractium.internal.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.ProxyProtocolVersion;
import io.refractium.hook.ProxyInfo;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The attributes routes and load balancers see for a connection that arrived with a PROXY header. */
class ProxyAttributesTest {

    private static final InetSocketAddress LB = new InetSocketAddress("127.0.0.1", 50000);

    private static ProxyInfo header(ProxyInfo.Tlv... tlvs) {
        return new ProxyInfo(ProxyProtocolVersion.V2, false, LB, new InetSocketAddress("192.0.2.1", 1),
                new InetSocketAddress("192.0.2.2", 443), List.of(tlvs));
    }

    private static ProxyInfo.Tlv tlv(int type, String value) {
        return new ProxyInfo.Tlv(type, value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void withoutAHeaderOrItsTlvsTheDetectorsAttributesAreKeptAsTheyAre() {
        ProtocolAttributes detected = ProtocolAttributes.builder().put(AttributeKey.SNI, "a.example").build();
        assertThat(Router.withProxyHeader(detected, null)).isSameAs(detected);
        assertThat(Router.withProxyHeader(detected, header(tlv(0x05, "id")))).isSameAs(detected);
    }

    @Test
    void theAuthorityIsLowerCasedWithoutATrailingDotAndTheAlpnKept() {
        ProtocolAttributes detected = ProtocolAttributes.builder().put(AttributeKey.SNI, "a.example").build();
        ProtocolAttributes seen = Router.withProxyHeader(detected,
                header(tlv(ProxyInfo.PP2_TYPE_AUTHORITY, "API.Example."), tlv(ProxyInfo.PP2_TYPE_ALPN, "h2")));
        assertThat(seen.get(AttributeKey.PROXY_AUTHORITY)).isEqualTo("api.example");
        assertThat(seen.get(AttributeKey.PROXY_ALPN)).isEqualTo("h2");
        assertThat(seen.get(AttributeKey.SNI)).isEqualTo("a.example");
    }

    @Test
    void aDetectorsOwnAttributeOfTheSameNameWinsAndEmptyValuesAreLeftOut() {
        ProtocolAttributes detected = ProtocolAttributes.builder()
                .put(AttributeKey.PROXY_AUTHORITY, "from.detector").build();
        ProtocolAttributes seen = Router.withProxyHeader(detected,
                header(tlv(ProxyInfo.PP2_TYPE_AUTHORITY, "from.header"), tlv(ProxyInfo.PP2_TYPE_ALPN, "")));
        assertThat(seen.get(AttributeKey.PROXY_AUTHORITY)).isEqualTo("from.detector");
        assertThat(seen.has(AttributeKey.PROXY_ALPN)).isFalse();
    }
}
