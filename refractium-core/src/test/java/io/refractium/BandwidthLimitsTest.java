package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.BandwidthLimits.Rate;
import org.junit.jupiter.api.Test;

/** {@link BandwidthLimits}: defaults, the per-target fallback, and the checks of every setting. */
class BandwidthLimitsTest {

    @Test
    void defaultsCapNothing() {
        BandwidthLimits l = BandwidthLimits.none();
        assertThat(l.isUnlimited()).isTrue();
        assertThat(l.perConnection()).isEqualTo(Rate.UNLIMITED);
        assertThat(l.perIp()).isEqualTo(Rate.UNLIMITED);
        assertThat(l.perRoute()).isEqualTo(Rate.UNLIMITED);
        assertThat(l.perTarget()).isEqualTo(Rate.UNLIMITED);
        assertThat(l.targets()).isEmpty();
        assertThat(l.target("any")).isEqualTo(Rate.UNLIMITED);
    }

    @Test
    void aTargetsOwnCapReplacesThePerTargetCap() {
        BandwidthLimits l = BandwidthLimits.builder().perTarget(1 << 20, 2 << 20)
                .perTarget("slow", 65536, 0).perTarget("free", 0, 0).build();
        assertThat(l.isUnlimited()).isFalse();
        assertThat(l.target("slow")).isEqualTo(new Rate(65536, 0));
        assertThat(l.target("free").isUnlimited()).isTrue();
        assertThat(l.target("other")).isEqualTo(new Rate(1 << 20, 2 << 20));
        assertThat(l.targets()).containsOnlyKeys("slow", "free");
    }

    @Test
    void eachKindAloneIsALimit() {
        assertThat(BandwidthLimits.builder().perConnection(0, 16384).build().isUnlimited()).isFalse();
        assertThat(BandwidthLimits.builder().perIp(16384, 0).build().isUnlimited()).isFalse();
        assertThat(BandwidthLimits.builder().perRoute(16384, 0).build().isUnlimited()).isFalse();
        assertThat(BandwidthLimits.builder().perConnection(0, 0).build().isUnlimited()).isTrue();
    }

    @Test
    void theBuilderIsReusable() {
        BandwidthLimits.Builder b = BandwidthLimits.builder().perConnection(65536, 65536);
        BandwidthLimits first = b.build();
        b.perConnection(0, 0);
        assertThat(first.perConnection()).isEqualTo(new Rate(65536, 65536));
        assertThat(b.build().isUnlimited()).isTrue();
    }

    @Test
    void badValuesFailNamingTheSettingAndTheValue() {
        BandwidthLimits.Builder b = BandwidthLimits.builder();
        String range = " (expected: 0 for no limit, or 16384 to 1099511627776 bytes per second)";
        assertThatThrownBy(() -> b.perConnection(-1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("perConnection upload: -1" + range);
        assertThatThrownBy(() -> b.perConnection(0, 1000)).hasMessage("perConnection download: 1000" + range);
        assertThatThrownBy(() -> b.perIp(16383, 0)).hasMessage("perIp upload: 16383" + range);
        assertThatThrownBy(() -> b.perRoute(0, (1L << 40) + 1))
                .hasMessage("perRoute download: " + ((1L << 40) + 1) + range);
        assertThatThrownBy(() -> b.perTarget(5, 0)).hasMessage("perTarget upload: 5" + range);
        assertThatThrownBy(() -> b.perTarget("t", 0, -5)).hasMessage("perTarget \"t\" download: -5" + range);
        assertThatThrownBy(() -> b.perTarget(null, 0, 0)).isInstanceOf(NullPointerException.class)
                .hasMessage("perTarget name");
        assertThatThrownBy(() -> b.perTarget("", 0, 0)).hasMessage("perTarget name: \"\" (expected: a target name)");
        b.perTarget("t", 16384, 0);
        assertThatThrownBy(() -> b.perTarget("t", 16384, 0))
                .hasMessage("perTarget \"t\": given twice (expected: one cap per target)");
        assertThatThrownBy(() -> new Rate(1, 0)).hasMessage("upload: 1" + range);
    }

    @Test
    void theBuilderRefusesNull() {
        assertThatThrownBy(() -> Refractium.builder().bandwidth(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("bandwidth");
    }
}
