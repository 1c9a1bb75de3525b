package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.testing.PrefixProtocol;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad configuration fails fast, naming the setting, the value and what was expected. */
class RefractiumBuilderTest {

    @Test
    void settersNameTheSettingAndTheValue() {
        RefractiumBuilder b = Refractium.builder();
        assertThatThrownBy(() -> b.peekTimeout(Duration.ofSeconds(-1)))
                .hasMessage("peekTimeout: PT-1S (expected: > 0)");
        assertThatThrownBy(() -> b.silenceTimeout(Duration.ZERO)).hasMessage("silenceTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> b.maxPeekBytes(0)).hasMessage("maxPeekBytes: 0 (expected: 1-16777216)");
        assertThatThrownBy(() -> b.idleTimeout(Duration.ofMillis(-5)))
                .hasMessage("idleTimeout: PT-0.005S (expected: >= 0, 0 disables)");
        assertThatThrownBy(() -> b.drainTimeout(Duration.ZERO)).hasMessage("drainTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> b.drainTimeout(Duration.ofSeconds(-3)))
                .hasMessage("drainTimeout: PT-3S (expected: > 0)");
        assertThatThrownBy(() -> b.drainTimeout(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("drainTimeout");
        assertThatThrownBy(() -> b.listen("127.0.0.1", 70000)).hasMessage("listen port: 70000 (expected: 0-65535)");
        assertThatThrownBy(() -> b.workerThreads(0)).hasMessage("workerThreads: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.peekTimeout(null)).isInstanceOf(NullPointerException.class).hasMessage("peekTimeout");
    }

    @Test
    void buildNeedsAListenAddress() {
        assertThatThrownBy(() -> Refractium.builder().build())
                .hasMessageStartingWith("listen: none (expected: at least one address");
    }

    @Test
    void aRouteToAnUnknownProtocolIsNamed() {
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "A"))
                .route("tls", ForwardTarget.to("127.0.0.1:1"))
                .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown protocol \"tls\"")
                .hasMessageContaining("[alpha]");
    }

    @Test
    void aSilenceDeadlineMustBeShorterThanTheDetectionDeadline() {
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                .peekTimeout(Duration.ofSeconds(1)).silenceTimeout(Duration.ofSeconds(2))
                .onSilence(ForwardTarget.to("127.0.0.1:22"))
                .build())
                .hasMessage("silenceTimeout: PT2S (expected: < peekTimeout PT1S); shorten silenceTimeout or lengthen peekTimeout");
    }

    @Test
    void theQuietTimeoutMustBePositiveAndShorterThanTheDetectionDeadline() {
        assertThat(RefractiumBuilder.DEFAULT_QUIET_TIMEOUT).isEqualTo(Duration.ofMillis(100));
        assertThatThrownBy(() -> Refractium.builder().quietTimeout(Duration.ZERO))
                .hasMessage("quietTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> Refractium.builder().quietTimeout(null))
                .isInstanceOf(NullPointerException.class).hasMessage("quietTimeout");
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                .peekTimeout(Duration.ofMillis(500)).quietTimeout(Duration.ofMillis(500))
                .build())
                .hasMessage("quietTimeout: PT0.5S (expected: < peekTimeout PT0.5S); shorten quietTimeout or lengthen "
                        + "peekTimeout");
        Refractium.builder().listen("127.0.0.1", 0).peekTimeout(Duration.ofMillis(500))
                .quietTimeout(Duration.ofMillis(499)).build();
    }

    @Test
    void dnsSettingsNameTheSettingAndTheValue() {
        RefractiumBuilder b = Refractium.builder();
        assertThatThrownBy(() -> b.dnsMinTtl(Duration.ofSeconds(-1))).hasMessage("dnsMinTtl: PT-1S (expected: > 0)");
        assertThatThrownBy(() -> b.dnsMaxTtl(Duration.ZERO)).hasMessage("dnsMaxTtl: PT0S (expected: > 0)");
        assertThatThrownBy(() -> b.dnsServers(java.util.List.of(java.net.InetSocketAddress.createUnresolved("dns.example", 53))))
                .hasMessage("dnsServers: [dns.example/<unresolved>:53] (expected: resolved addresses with a port, such as 10.0.0.53:53)");
        assertThatThrownBy(() -> b.dnsServers(null)).isInstanceOf(NullPointerException.class).hasMessage("dnsServers");
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                .dnsMinTtl(Duration.ofMinutes(10)).dnsMaxTtl(Duration.ofMinutes(1))
                .build())
                .hasMessage("dnsMinTtl: PT10M (expected: <= dnsMaxTtl PT1M); shorten dnsMinTtl or lengthen dnsMaxTtl");
    }

    @Test
    void twoDetectorsWithOneIdAreAnError() {
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "A"))
                .protocol(new PrefixProtocol("alpha", "B"))
                .build())
                .hasMessageContaining("protocol id \"alpha\" is registered twice");
    }

    @Test
    void aDetectorWithABadIdOrMaxBytesIsRejected() {
        RefractiumProtocol upper = new RefractiumProtocol() {
            @Override
            public String id() {
                return "Upper";
            }

            @Override
            public int maxBytes() {
                return 1;
            }

            @Override
            public DetectionResult detect(ByteBuf buf, DetectionContext context) {
                return DetectionResult.noMatch();
            }
        };
        assertThatThrownBy(() -> Refractium.builder().listen("127.0.0.1", 0).protocol(upper).build())
                .hasMessageContaining("protocol id: \"Upper\"");
    }

    @Test
    void theBuilderIsReusableAndBuildsStoppedInstances() {
        RefractiumBuilder b = Refractium.builder().listen("127.0.0.1", 0).protocol(new PrefixProtocol("alpha", "A"));
        Refractium one = b.build();
        Refractium two = b.build();
        assertThat(one).isNotSameAs(two);
        assertThat(one.isRunning()).isFalse();
        assertThatThrownBy(one::localAddresses).isInstanceOf(IllegalStateException.class);
        assertThat(one.protocols()).containsExactly("alpha");
        one.close();
        two.close();
    }

    @Test
    void backendsAndTargetsValidateTheirValues() {
        assertThatThrownBy(() -> Backend.parse("nohost")).hasMessageStartingWith("backend: \"nohost\" (expected: HOST:PORT");
        assertThatThrownBy(() -> Backend.parse("h:0")).hasMessageContaining("(expected: a port number 1-65535)");
        assertThatThrownBy(() -> Backend.parse("::1:80")).hasMessageContaining("IPv6 host in brackets");
        assertThat(Backend.parse("[::1]:443").host()).isEqualTo("::1");
        assertThat(Backend.parse("[::1]:443").hostAndPort()).isEqualTo("[::1]:443");
        assertThat(Backend.parse("backend.internal:8080").port()).isEqualTo(8080);
        assertThatThrownBy(() -> Backend.of("h", 1).withWeight(0)).hasMessage("weight: 0 (expected: 1-1000)");
        assertThatThrownBy(() -> ForwardTarget.builder("empty").build())
                .hasMessage("target empty: no backends (expected: at least one)");
        assertThatThrownBy(() -> ForwardTarget.of("dup", "127.0.0.1:1", "127.0.0.1:1"))
                .hasMessage("target dup: backend 127.0.0.1:1 is listed twice");
        assertThatThrownBy(() -> ForwardTarget.builder("t").maxAttempts(0)).hasMessage("maxAttempts: 0 (expected: >= 1)");
        assertThat(ForwardTarget.of("t", "127.0.0.1:1", "127.0.0.1:2").maxAttempts()).isEqualTo(2);
        assertThatThrownBy(() -> ForwardTarget.builder("t").backend("127.0.0.1:1").maxAttempts(3).build())
                .hasMessage("target t: maxAttempts 3 (expected: 1-1, the number of backends; each backend is tried at most once)");
    }

    @Test
    void acceptProxyProtocolChecksItsValues() {
        RefractiumBuilder b = Refractium.builder();
        assertThatThrownBy(() -> b.acceptProxyProtocol(ProxyProtocolMode.REQUIRED, java.util.List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("acceptProxyProtocol trustedSources: [] (expected: at least one network, e.g. 10.0.0.0/8)");
        assertThatThrownBy(() -> b.acceptProxyProtocol(0, ProxyProtocolMode.OPTIONAL,
                java.util.List.of(Cidr.parse("10.0.0.0/8"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("acceptProxyProtocol listenerPort: 0 (expected: 1-65535)");
        assertThatThrownBy(() -> b.acceptProxyProtocol(null, java.util.List.of(Cidr.parse("10.0.0.0/8"))))
                .isInstanceOf(NullPointerException.class).hasMessage("mode");
    }
}
