package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Attribute and listener conditions, their specificity, and silence routes per listener. */
class RouteConditionsTest {

    private static final InetAddress CLIENT = InetAddress.getLoopbackAddress();
    private static final AttributeKey<String> DATABASE = AttributeKey.of("postgres.database", String.class);
    private static final AttributeKey<String> USER = AttributeKey.of("postgres.user", String.class);

    private static ForwardTarget t(String name) {
        return ForwardTarget.of(name, "127.0.0.1:1");
    }

    private static ProtocolAttributes pg(String database, String user) {
        return ProtocolAttributes.builder().put(DATABASE, database).put(USER, user).build();
    }

    private static InetSocketAddress local(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    @Test
    void anExactAttributeValueMatchesOnlyThatValueCaseSensitively() {
        Route r = Route.builder("postgres").attribute("postgres.database", "app").to(t("app"));
        assertThat(r.matches("postgres", pg("app", "u"), CLIENT)).isTrue();
        assertThat(r.matches("postgres", pg("App", "u"), CLIENT)).isFalse();
        assertThat(r.matches("postgres", pg("other", "u"), CLIENT)).isFalse();
        assertThat(r.matches("postgres", ProtocolAttributes.EMPTY, CLIENT)).as("attribute absent").isFalse();
        assertThat(r.matches("mysql", pg("app", "u"), CLIENT)).isFalse();
        assertThat(r.attributeConditions()).containsExactly("postgres.database=app");
    }

    @Test
    void aSuffixAttributeMatchesNamesBelowItAndAPredicateDecidesInCode() {
        Route suffix = Route.builder("postgres").attribute("postgres.database", "*.tenant").to(t("s"));
        assertThat(suffix.matches("postgres", pg("a.TENANT", "u"), CLIENT)).isTrue();
        assertThat(suffix.matches("postgres", pg("tenant", "u"), CLIENT)).isFalse();
        Route predicate = Route.builder("postgres").attribute("postgres.user", v -> v.startsWith("admin")).to(t("p"));
        assertThat(predicate.matches("postgres", pg("x", "admin7"), CLIENT)).isTrue();
        assertThat(predicate.matches("postgres", pg("x", "bob"), CLIENT)).isFalse();
        assertThat(predicate.describe()).isEqualTo("postgres postgres.user~predicate");
    }

    @Test
    void aListValuedAttributeMatchesWhenAnyElementMatches() {
        Route r = Route.builder("tls").attribute(AttributeKey.ALPN, "h2").to(t("h2"));
        ProtocolAttributes offered = ProtocolAttributes.builder().put(AttributeKey.ALPN, List.of("http/1.1", "h2")).build();
        ProtocolAttributes other = ProtocolAttributes.builder().put(AttributeKey.ALPN, List.of("http/1.1")).build();
        assertThat(r.matches("tls", offered, CLIENT)).isTrue();
        assertThat(r.matches("tls", other, CLIENT)).isFalse();
    }

    @Test
    void moreConditionsWinThenExactBeforeSuffixBeforePredicateThenDeclaredOrder() {
        RoutingTable table = RoutingTable.builder()
                .route(Route.builder("postgres").attribute("postgres.user", v -> true).to(t("predicate")))
                .route(Route.builder("postgres").attribute("postgres.database", "*.b.example").to(t("short-suffix")))
                .route(Route.builder("postgres").attribute("postgres.database", "*.a.b.example").to(t("long-suffix")))
                .route(Route.builder("postgres").attribute("postgres.database", "x.a.b.example").to(t("exact")))
                .route(Route.builder("postgres").attribute("postgres.database", "*.b.example")
                        .attribute("postgres.user", "bob").to(t("two")))
                .route("postgres", t("any"))
                .build();
        assertThat(table.select("postgres", pg("x.a.b.example", "bob"), CLIENT).target().name()).isEqualTo("two");
        assertThat(table.select("postgres", pg("x.a.b.example", "eve"), CLIENT).target().name()).isEqualTo("exact");
        assertThat(table.select("postgres", pg("y.a.b.example", "eve"), CLIENT).target().name())
                .isEqualTo("long-suffix");
        assertThat(table.select("postgres", pg("y.b.example", "eve"), CLIENT).target().name())
                .isEqualTo("short-suffix");
        assertThat(table.select("postgres", pg("other", "eve"), CLIENT).target().name()).isEqualTo("predicate");
        assertThat(table.select("postgres", ProtocolAttributes.EMPTY, CLIENT).target().name()).isEqualTo("any");
    }

    @Test
    void aListenerConditionMatchesThePortAndAnAddressIsMoreSpecificThanAPortAlone() {
        RoutingTable table = RoutingTable.builder()
                .route(Route.builder("ssh").listener(2222).to(t("port")))
                .route(Route.builder("ssh").listener(local("127.0.0.2", 2222)).to(t("address")))
                .route(Route.builder("ssh").listener(local("0.0.0.0", 22)).to(t("wildcard")))
                .route("ssh", t("any"))
                .build();
        ProtocolAttributes none = ProtocolAttributes.EMPTY;
        assertThat(table.select("ssh", none, CLIENT, local("127.0.0.2", 2222)).target().name()).isEqualTo("address");
        assertThat(table.select("ssh", none, CLIENT, local("127.0.0.1", 2222)).target().name()).isEqualTo("port");
        assertThat(table.select("ssh", none, CLIENT, local("10.1.1.1", 22)).target().name()).isEqualTo("wildcard");
        assertThat(table.select("ssh", none, CLIENT, local("127.0.0.1", 443)).target().name()).isEqualTo("any");
        assertThat(table.select("ssh", none, CLIENT).target().name()).as("listener unknown").isEqualTo("any");
        assertThat(table.routes().get(1).describe()).isEqualTo("ssh listener=127.0.0.2:2222");
        assertThat(table.routes().get(1).listenerPort()).isEqualTo(2222);
    }

    @Test
    void theSameConditionsInAnotherOrderCanNeverMatchAndAreAnError() {
        RoutingTable.Builder b = RoutingTable.builder()
                .route(Route.builder("postgres").attribute("postgres.database", "app").attribute("postgres.user", "u")
                        .to(t("a")))
                .route(Route.builder("postgres").attribute("postgres.user", "u").attribute("postgres.database", "app")
                        .to(t("b")));
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("route #2").hasMessageContaining("can never match");
        RoutingTable.Builder ports = RoutingTable.builder()
                .route(Route.builder("ssh").listener(22).to(t("a")))
                .route(Route.builder("ssh").listener(local("0.0.0.0", 22)).to(t("b")));
        assertThatThrownBy(ports::build).hasMessageContaining("can never match");
    }

    @Test
    void badConditionsNameTheSettingAndValue() {
        assertThatThrownBy(() -> Route.builder("pg").attribute("pg database", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attribute: \"pg database\"");
        assertThatThrownBy(() -> Route.builder("pg").attribute("pg.db", "*.bad*"))
                .hasMessageStartingWith("pg.db: \"*.bad*\"");
        assertThatThrownBy(() -> Route.builder("pg").attribute("pg.db", ""))
                .hasMessageStartingWith("pg.db: \"\"");
        assertThatThrownBy(() -> Route.builder("ssh").listener(0)).hasMessage("listener: 0 (expected: a port 1-65535)");
        assertThatThrownBy(() -> Route.builder("ssh").listener(new InetSocketAddress("127.0.0.1", 0)))
                .hasMessageStartingWith("listener: ");
        assertThatThrownBy(() -> RoutingTable.builder().onSilence(70000, t("s"), null))
                .hasMessage("onSilence listener: 70000 (expected: a port 1-65535)");
        assertThatThrownBy(() -> RoutingTable.builder().onSilence(22, t("s"), Duration.ZERO))
                .hasMessage("onSilence timeout: PT0S (expected: > 0)");
    }

    @Test
    void eachListenerHasItsOwnSilenceRouteElseTheDefault() {
        RoutingTable table = RoutingTable.builder()
                .onSilence(t("default"))
                .onSilence(2222, t("greeter"), Duration.ofMillis(300))
                .build();
        assertThat(table.silenceFor(local("127.0.0.1", 2222)).target().name()).isEqualTo("greeter");
        assertThat(table.silenceFor(local("127.0.0.1", 2222)).timeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(table.silenceFor(local("127.0.0.1", 443)).target().name()).isEqualTo("default");
        assertThat(table.silenceFor(local("127.0.0.1", 443)).timeoutOr(Duration.ofSeconds(2)))
                .isEqualTo(Duration.ofSeconds(2));
        assertThat(table.targets()).containsKeys("default", "greeter");
        assertThat(table.toBuilder().build().silenceFor(local("127.0.0.1", 2222)).target().name())
                .isEqualTo("greeter");

        RoutingTable perPortOnly = RoutingTable.builder().onSilence(2222, t("greeter"), null).build();
        assertThat(perPortOnly.silenceFor(local("127.0.0.1", 443))).isNull();

        assertThatThrownBy(() -> RoutingTable.builder().onSilence(22, t("a"), null).onSilence(22, t("b"), null).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("listener port 22 already has");
    }

    @Test
    void aListenerSilenceDeadlineMustBeShorterThanTheDetectionDeadline() {
        RefractiumBuilder b = Refractium.builder().listen("127.0.0.1", 0).peekTimeout(Duration.ofSeconds(1))
                .silenceTimeout(Duration.ofMillis(500))
                .onSilence(2222, t("greeter"), Duration.ofSeconds(1));
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("onSilence(2222) timeout: PT1S (expected: < peekTimeout PT1S)");
    }
}
