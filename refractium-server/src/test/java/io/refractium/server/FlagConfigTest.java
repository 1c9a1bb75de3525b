package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.Route;
import io.refractium.RoutingTable;
import io.refractium.config.ConfigException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The quick flags become the same configuration a file gives. */
class FlagConfigTest {

    private static FlagConfig.Flags flags() {
        FlagConfig.Flags f = new FlagConfig.Flags();
        f.listen = List.of("127.0.0.1:8443", "127.0.0.1:2222");
        return f;
    }

    private static ServerConfig config(FlagConfig.Flags f) {
        return ServerConfig.from(FlagConfig.toTree(f));
    }

    @Test
    void routesWithNamesConditionsAndOptions() {
        FlagConfig.Flags f = flags();
        f.route = List.of("tls@a.test=127.0.0.1:9443", "postgres[database=app,listener=2222]=127.0.0.1:5432",
                "http=127.0.0.1:9080*3,127.0.0.1:9081,127.0.0.1:9082+backup;balance=weighted;check=send;"
                        + "send=HEAD / HTTP/1.0\\r\\n\\r\\n;expect=HTTP/1.;interval=1s;fall=2;rise=2;max-conns=7");
        f.fallback = "127.0.0.1:5201";
        f.onSilence = List.of("127.0.0.1:22;listener=2222;timeout=500ms");
        f.acceptProxy = List.of("optional;trusted=10.0.0.0/8,127.0.0.1/32");
        ServerConfig c = config(f);
        RoutingTable t = c.engine().routingTable();
        assertThat(t.routes()).extracting(Route::describe)
                .containsExactly("tls sni=a.test", "postgres postgres.database=app listener=:2222", "http");
        ForwardTarget http = c.engine().targets().get("http");
        assertThat(http.backends()).hasSize(3);
        assertThat(http.backends().get(0).weight()).isEqualTo(3);
        assertThat(http.backends().get(2).isBackup()).isTrue();
        assertThat(http.backends().get(1).maxConnections()).isEqualTo(7);
        assertThat(http.healthCheck().kind()).isEqualTo(HealthCheck.Kind.SEND_EXPECT);
        assertThat(new String(http.healthCheck().send(), java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("HEAD / HTTP/1.0\r\n\r\n");
        assertThat(t.fallback().name()).isEqualTo("fallback");
        assertThat(t.listenerSilenceRoutes()).singleElement().satisfies(s -> {
            assertThat(s.listenerPort()).isEqualTo(2222);
            assertThat(s.timeout()).isEqualTo(Duration.ofMillis(500));
            assertThat(s.target().name()).isEqualTo("on-silence:2222");
        });
        assertThat(c.engine().proxyProtocol(8443)).isEqualTo(c.engine().proxyProtocol(2222)).startsWith("optional");
    }

    @Test
    void grammarErrorsNameTheFlag() {
        FlagConfig.Flags f = flags();
        f.route = List.of("http");
        assertThatThrownBy(() -> config(f)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("--route \"http\": --route: no \"=\"");
        f.route = List.of("http=127.0.0.1:80;speed=fast");
        assertThatThrownBy(() -> config(f)).hasMessageContaining("\"speed=fast\" (expected: OPTION=VALUE");
        f.route = List.of("http=127.0.0.1:80", "http=127.0.0.1:81");
        assertThatThrownBy(() -> config(f)).hasMessageContaining("the same protocol and conditions as --route "
                + "\"http=127.0.0.1:80\"");
        f.route = List.of("http=127.0.0.1:80;check=send;send=\\q;expect=x");
        assertThatThrownBy(() -> config(f)).hasMessageContaining("escape \"\\q\"");
        f.route = List.of("http=127.0.0.1:80");
        f.ratePerIp = "fast";
        assertThatThrownBy(() -> config(f)).hasMessageContaining("(expected: R/s[,burst=B]");
        f.ratePerIp = "0.5/s,burst=5";
        assertThat(config(f).engine().toBuilder()).isNotNull();
    }

    @Test
    void silenceTimeoutAppliesToListenerSilencesWithoutTheirOwn() {
        FlagConfig.Flags f = flags();
        f.route = List.of("http=127.0.0.1:80");
        f.onSilence = List.of("127.0.0.1:22;listener=2222");
        f.silenceTimeout = "300ms";
        ServerConfig c = config(f);
        assertThat(c.engine().routingTable().silenceTarget()).isNull();
        assertThat(c.engine().routingTable().listenerSilenceRoutes()).hasSize(1);
    }

    @Test
    void bandwidthFlags() {
        FlagConfig.Flags f = flags();
        f.route = List.of("http=127.0.0.1:80");
        f.bandwidthPerConnection = "1m:10m";
        f.bandwidthPerTarget = List.of("0:100m", "http=512k:1m");
        assertThat(config(f).engine().toBuilder().build()).satisfies(io.refractium.Refractium::close);
        f.bandwidthPerTarget = List.of("nope=512k:1m");
        assertThatThrownBy(() -> config(f)).hasMessageStartingWith("--bandwidth-per-target \"nope=512k:1m\": "
                + "bandwidth.targets.nope: no target \"nope\"");
    }

    @Test
    void udpListeners() {
        FlagConfig.Flags f = new FlagConfig.Flags();
        f.listenUdp = List.of("127.0.0.1:0");
        f.route = List.of("dns=127.0.0.1:53");
        ServerConfig c = config(f);
        assertThat(c.engine().listenAddresses()).isEmpty();
        try (io.refractium.Refractium r = c.engine().toBuilder().build().start()) {
            assertThat(r.udpLocalAddresses()).singleElement().satisfies(a -> assertThat(a.getPort()).isPositive());
        }
    }

    @Test
    void theAdminFlagTurnsTheEndpointOn() {
        FlagConfig.Flags f = new FlagConfig.Flags();
        f.fallback = "127.0.0.1:9000";
        f.listen = List.of("127.0.0.1:0");
        assertThat(config(f).admin()).isNull();
        f.admin = "127.0.0.1:9901";
        assertThat(config(f).admin()).isEqualTo(new java.net.InetSocketAddress("127.0.0.1", 9901));
    }
}
