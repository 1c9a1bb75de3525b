package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link AdmissionLimits}: defaults and the checks of every setting. */
class AdmissionLimitsTest {

    @Test
    void defaultsAreOff() {
        AdmissionLimits l = AdmissionLimits.none();
        assertThat(l.maxConnections()).isZero();
        assertThat(l.maxConnectionsPerListener()).isZero();
        assertThat(l.maxConnectionsPerIp()).isZero();
        assertThat(l.maxDetecting()).isZero();
        assertThat(l.ratePerIp()).isZero();
        assertThat(l.allow()).isEmpty();
        assertThat(l.deny()).isEmpty();
        assertThat(l.ipv6PrefixLength()).isEqualTo(64);
        assertThat(l.maxTrackedAddresses()).isEqualTo(100_000);
        assertThat(l.rejectWithRst()).isFalse();
        assertThat(l.tracksAddresses()).isFalse();
    }

    @Test
    void theBurstDefaultsToTheRateRoundedUp() {
        assertThat(AdmissionLimits.builder().ratePerIp(2.5).build().burstPerIp()).isEqualTo(3);
        assertThat(AdmissionLimits.builder().ratePerIp(0.1).build().burstPerIp()).isEqualTo(1);
        assertThat(AdmissionLimits.builder().ratePerIp(5, 20).build().burstPerIp()).isEqualTo(20);
    }

    @Test
    void badValuesFailNamingTheSettingAndTheValue() {
        AdmissionLimits.Builder b = AdmissionLimits.builder();
        assertThatThrownBy(() -> b.maxConnections(0)).hasMessage("maxConnections: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.maxConnectionsPerListener(-1))
                .hasMessage("maxConnectionsPerListener: -1 (expected: >= 1)");
        assertThatThrownBy(() -> b.maxConnectionsPerIp(0)).hasMessage("maxConnectionsPerIp: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.maxDetecting(0)).hasMessage("maxDetecting: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.ratePerIp(0)).hasMessageStartingWith("ratePerIp: 0.0 (expected: > 0");
        assertThatThrownBy(() -> b.ratePerIp(Double.NaN)).hasMessageStartingWith("ratePerIp: NaN");
        assertThatThrownBy(() -> b.ratePerIp(2e6)).hasMessageStartingWith("ratePerIp: 2000000.0");
        assertThatThrownBy(() -> b.ratePerIp(5, 0)).hasMessage("burstPerIp: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.ipv6PrefixLength(0)).hasMessage("ipv6PrefixLength: 0 (expected: 1-128)");
        assertThatThrownBy(() -> b.ipv6PrefixLength(129)).hasMessage("ipv6PrefixLength: 129 (expected: 1-128)");
        assertThatThrownBy(() -> b.maxTrackedAddresses(0)).hasMessage("maxTrackedAddresses: 0 (expected: >= 1)");
        assertThatThrownBy(() -> b.allow("10.0.0.0/33")).hasMessageStartingWith("allow: cidr: \"10.0.0.0/33\"");
        assertThatThrownBy(() -> b.deny("nope")).hasMessageStartingWith("deny: cidr: \"nope\"");
        assertThatThrownBy(() -> b.deny((String) null)).isInstanceOf(NullPointerException.class).hasMessage("deny");
        assertThat(b.build()).isNotNull();
    }

    @Test
    void aCapAboveTheGlobalCapFailsInBuild() {
        assertThatThrownBy(() -> AdmissionLimits.builder().maxConnections(10).maxConnectionsPerIp(11).build())
                .hasMessageStartingWith("maxConnectionsPerIp: 11 (expected: <= maxConnections 10)");
        assertThatThrownBy(() -> AdmissionLimits.builder().maxConnections(10).maxConnectionsPerListener(20).build())
                .hasMessageStartingWith("maxConnectionsPerListener: 20 (expected: <= maxConnections 10)");
    }

    @Test
    void theBuilderIsReusable() {
        AdmissionLimits.Builder b = AdmissionLimits.builder().deny("10.0.0.0/8");
        AdmissionLimits first = b.build();
        b.deny("192.0.2.0/24");
        assertThat(first.deny()).containsExactly(Cidr.parse("10.0.0.0/8"));
        assertThat(b.build().deny()).hasSize(2);
    }
}
