package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Route matching, specificity and table validation, without sockets. */
class RoutingTableTest {

    private static final ForwardTarget A = ForwardTarget.of("a", "127.0.0.1:1");
    private static final ForwardTarget B = ForwardTarget.of("b", "127.0.0.1:2");
    private static final ForwardTarget C = ForwardTarget.of("c", "127.0.0.1:3");
    private static final ForwardTarget D = ForwardTarget.of("d", "127.0.0.1:4");

    private static ProtocolAttributes sni(String name) {
        return ProtocolAttributes.builder().put(AttributeKey.SNI, name).build();
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void sniMatchesExactlyOrBelowAWildcardIgnoringCaseAndTrailingDot() throws Exception {
        RoutingTable t = RoutingTable.builder()
                .route(Route.builder("tls").sni("*.example.com").to(A))
                .route(Route.builder("tls").sni("api.Example.com.").to(B))
                .route("tls", C)
                .build();
        assertThat(t.select("tls", sni("API.example.COM."), null).target()).isEqualTo(B);
        assertThat(t.select("tls", sni("x.y.example.com"), null).target()).isEqualTo(A);
        assertThat(t.select("tls", sni("example.com"), null).target()).isEqualTo(C);
        assertThat(t.select("tls", sni("badexample.com"), null).target()).isEqualTo(C);
        assertThat(t.select("tls", ProtocolAttributes.EMPTY, null).target()).isEqualTo(C);
        assertThat(t.select("http", sni("api.example.com"), null)).isNull();
    }

    @Test
    void aLongerWildcardIsMoreSpecific() {
        RoutingTable t = RoutingTable.builder()
                .route(Route.builder("tls").sni("*.com").to(A))
                .route(Route.builder("tls").sni("*.example.com").to(B))
                .build();
        assertThat(t.select("tls", sni("a.example.com"), null).target()).isEqualTo(B);
        assertThat(t.select("tls", sni("a.other.com"), null).target()).isEqualTo(A);
    }

    @Test
    void moreConditionsWinThenDeclaredOrder() throws Exception {
        ProtocolAttributes h2 = ProtocolAttributes.builder().put(AttributeKey.SNI, "a.test")
                .put(AttributeKey.ALPN, List.of("h2", "http/1.1")).build();
        RoutingTable t = RoutingTable.builder()
                .route(Route.builder("tls").alpn("h2").to(A))
                .route(Route.builder("tls").alpn("http/1.1").to(D))
                .route(Route.builder("tls").sni("a.test").alpn("h2").to(B))
                .route(Route.builder("tls").sni("a.test").to(C))
                .build();
        assertThat(t.select("tls", h2, null).target()).isEqualTo(B);
        ProtocolAttributes onlyH11 = ProtocolAttributes.builder().put(AttributeKey.ALPN, List.of("http/1.1")).build();
        assertThat(t.select("tls", onlyH11, null).target()).isEqualTo(D);
        ProtocolAttributes both = ProtocolAttributes.builder().put(AttributeKey.ALPN, List.of("http/1.1", "h2")).build();
        assertThat(t.select("tls", both, null).target()).as("equal specificity: declared order").isEqualTo(A);
    }

    @Test
    void hostPathAndClientNetwork() throws Exception {
        RoutingTable t = RoutingTable.builder()
                .route(Route.builder("http").host("web.test").to(A))
                .route(Route.builder("http").host("web.test").pathPrefix("/api/").to(B))
                .route(Route.builder("http").host("web.test").pathPrefix("/api/v2/").to(C))
                .route(Route.builder("http").clientCidr("10.0.0.0/8").to(D))
                .build();
        ProtocolAttributes api = ProtocolAttributes.builder().put(AttributeKey.HTTP_HOST, "web.test")
                .put(AttributeKey.HTTP_PATH, "/api/v2/users").build();
        assertThat(t.select("http", api, ip("127.0.0.1")).target()).isEqualTo(C);
        ProtocolAttributes root = ProtocolAttributes.builder().put(AttributeKey.HTTP_HOST, "WEB.test.")
                .put(AttributeKey.HTTP_PATH, "/").build();
        assertThat(t.select("http", root, ip("127.0.0.1")).target()).isEqualTo(A);
        assertThat(t.select("http", ProtocolAttributes.EMPTY, ip("10.1.2.3")).target()).isEqualTo(D);
        assertThat(t.select("http", ProtocolAttributes.EMPTY, ip("::ffff:10.1.2.3")).target()).isEqualTo(D);
        assertThat(t.select("http", ProtocolAttributes.EMPTY, ip("11.0.0.1"))).isNull();
    }

    @Test
    void ipv6Networks() throws Exception {
        RoutingTable t = RoutingTable.builder()
                .route(Route.builder("ssh").clientCidr("fd00::/8").to(A))
                .route(Route.builder("ssh").clientCidr("fd00:1::/32").to(B))
                .build();
        assertThat(t.select("ssh", ProtocolAttributes.EMPTY, ip("fd00:1::5")).target()).isEqualTo(B);
        assertThat(t.select("ssh", ProtocolAttributes.EMPTY, ip("fd12::5")).target()).isEqualTo(A);
        assertThat(t.select("ssh", ProtocolAttributes.EMPTY, ip("fe80::1"))).isNull();
    }

    @Test
    void anUnreachableRouteIsNamed() {
        assertThatThrownBy(() -> RoutingTable.builder()
                .route(Route.builder("tls").sni("a.test").to(A))
                .route(Route.builder("tls").sni("A.TEST.").to(B))
                .build())
                .hasMessage("route #2 (tls sni=A.TEST. -> b) can never match: route #1 (tls sni=a.test -> a) has the same protocol and conditions");
    }

    @Test
    void oneNameForTwoDifferentTargetsIsAnError() {
        assertThatThrownBy(() -> RoutingTable.builder()
                .route("tls", ForwardTarget.of("web", "127.0.0.1:1"))
                .route("http", ForwardTarget.of("web", "127.0.0.1:2"))
                .build())
                .hasMessageStartingWith("target name \"web\" is used by two different targets");
    }

    @Test
    void conditionValuesAreChecked() {
        assertThatThrownBy(() -> Route.builder("tls").sni("*")).hasMessageStartingWith("sni: \"*\" (expected:");
        assertThatThrownBy(() -> Route.builder("tls").sni("a.*.b")).hasMessageStartingWith("sni: \"a.*.b\"");
        assertThatThrownBy(() -> Route.builder("http").pathPrefix("api")).hasMessage("pathPrefix: \"api\" (expected: a path starting with /)");
        assertThatThrownBy(() -> Route.builder("ssh").clientCidr("10.0.0.0/33")).hasMessage("cidr: \"10.0.0.0/33\" (expected: a prefix length 0-32)");
        assertThatThrownBy(() -> Route.builder("ssh").clientCidr("example.com")).hasMessageStartingWith("cidr: \"example.com\"");
        assertThatThrownBy(() -> Route.builder("TLS")).hasMessageStartingWith("protocol: \"TLS\"");
    }
}
