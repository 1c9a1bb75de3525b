package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.balance.LoadBalancers;
import io.refractium.testing.PrefixProtocol;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code toBuilder()} on targets and routes, and {@code RefractiumBuilder.routes(RoutingTable)}. */
class LibraryApiTest {

    private static ForwardTarget target() {
        return ForwardTarget.builder("web")
                .backend("10.0.0.1:80").backend(Backend.parse("10.0.0.2:80").withWeight(3).withMaxConnections(7))
                .loadBalancer(LoadBalancers.weighted())
                .connectDeadline(Duration.ofSeconds(3))
                .healthCheck(HealthCheck.connect().withInterval(Duration.ofSeconds(2)))
                .ejectAfter(5)
                .ejectionCooldown(Duration.ofSeconds(9))
                .sendProxyProtocol(ProxyProtocolVersion.V2)
                .build();
    }

    @Test
    void aTargetRebuiltFromItsBuilderIsEqualToIt() {
        ForwardTarget t = target();
        ForwardTarget copy = t.toBuilder().build();
        assertThat(copy).isEqualTo(t).hasSameHashCodeAs(t).isNotSameAs(t);
        assertThat(copy.backends()).isEqualTo(t.backends());
        assertThat(copy.sendProxyProtocol()).isEqualTo(ProxyProtocolVersion.V2);
    }

    @Test
    void aDerivedTargetChangesOnlyWhatWasSetAndADefaultMaxAttemptsFollowsTheBackends() {
        ForwardTarget t = target();
        ForwardTarget more = t.toBuilder().backend("10.0.0.3:80").build();
        assertThat(t.maxAttempts()).isEqualTo(2);
        assertThat(more.maxAttempts()).isEqualTo(3);
        assertThat(more.name()).isEqualTo("web");
        assertThat(more.loadBalancer()).isEqualTo(t.loadBalancer());
        assertThat(more.healthCheck()).isEqualTo(t.healthCheck());
        assertThat(more.ejectionCooldown()).isEqualTo(Duration.ofSeconds(9));

        ForwardTarget capped = t.toBuilder().maxAttempts(1).build();
        assertThat(capped.toBuilder().backend("10.0.0.3:80").build().maxAttempts()).isEqualTo(1);
        assertThat(t.maxAttempts()).as("the original is unchanged").isEqualTo(2);
        assertThatThrownBy(() -> t.toBuilder().backend("10.0.0.1:80").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("listed twice");
    }

    @Test
    void aRouteRebuiltFromItsBuilderIsEqualToItAndCanBeRetargetedOrNarrowed() {
        ForwardTarget t = target();
        Route r = Route.builder("tls").sni("*.a.example").alpn("h2").pathPrefix("/x").clientCidr("10.0.0.0/8")
                .attribute("tls.version", "TLSv1.3").listener(8443).to(t);
        assertThat(r.toBuilder().to(t)).isEqualTo(r).hasSameHashCodeAs(r);

        ForwardTarget other = ForwardTarget.of("other", "10.0.0.9:443");
        Route moved = r.toBuilder().to(other);
        assertThat(moved.target()).isEqualTo(other);
        assertThat(moved.describe()).isEqualTo(r.describe());

        Route narrowed = Route.builder("http").to(t).toBuilder().host("a.example").to(t);
        assertThat(narrowed.host()).isEqualTo("a.example");
        assertThat(narrowed).isNotEqualTo(Route.of("http", t));
    }

    @Test
    void theBuilderTakesAWholeRoutingTableAndAddsToIt() {
        ForwardTarget a = ForwardTarget.of("a", "127.0.0.1:1001");
        ForwardTarget b = ForwardTarget.of("b", "127.0.0.1:1002");
        ForwardTarget spare = ForwardTarget.of("spare", "127.0.0.1:1003");
        ForwardTarget fb = ForwardTarget.of("fb", "127.0.0.1:1004");
        RoutingTable table = RoutingTable.builder().route("alpha", a).target(spare).fallback(fb).onSilence(a).build();

        Refractium r = Refractium.builder().listen("127.0.0.1", 0)
                .protocol(new PrefixProtocol("alpha", "ALPHA")).protocol(new PrefixProtocol("beta", "BETA"))
                .route("beta", ForwardTarget.of("dropped", "127.0.0.1:1009")) // replaced by the table
                .routes(table)
                .route("beta", b)
                .build();
        try {
            RoutingTable in = r.routes();
            assertThat(in.routes()).containsExactly(Route.of("alpha", a), Route.of("beta", b));
            assertThat(in.targets()).containsOnlyKeys("a", "b", "spare", "fb");
            assertThat(in.fallback()).isEqualTo(fb);
            assertThat(in.silenceTarget()).isEqualTo(a);
        } finally {
            r.close();
        }
        assertThatThrownBy(() -> Refractium.builder().routes(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("routes");
    }
}
