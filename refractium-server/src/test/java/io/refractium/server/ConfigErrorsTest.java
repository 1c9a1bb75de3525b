package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.config.ConfigException;
import org.junit.jupiter.api.Test;

/** A bad file fails naming the file, the line, the key and the value. */
class ConfigErrorsTest {

    private static final String GOOD = "listeners: [127.0.0.1:0]\n"
            + "targets:\n"
            + "  web:\n"
            + "    backends: [127.0.0.1:8080]\n"
            + "routes:\n"
            + "  - {protocol: http, target: web}\n";

    private static ConfigException error(String yaml) {
        try {
            ServerConfig.from(YamlConfig.parse(yaml, "f.yaml"));
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("accepted: " + yaml);
    }

    @Test
    void theAdminEndpointIsOffUnlessConfiguredAndItsAddressIsChecked() {
        assertThat(ServerConfig.from(YamlConfig.parse(GOOD, "f.yaml")).admin()).isNull();
        assertThat(ServerConfig.from(YamlConfig.parse(GOOD + "admin:\n  listen: 127.0.0.1:9901\n", "f.yaml")).admin())
                .isEqualTo(new java.net.InetSocketAddress("127.0.0.1", 9901));
        assertThat(error(GOOD + "admin:\n  listen: localhost:99999\n").getMessage())
                .isEqualTo("f.yaml:8: admin.listen: \"localhost:99999\" (expected: IP:PORT such as 127.0.0.1:9901 or "
                        + "[::1]:9901, port 0-65535)");
        assertThat(ServerConfig.from(YamlConfig.parse(GOOD + "admin:\n", "f.yaml")).admin())
                .isEqualTo(ServerConfig.DEFAULT_ADMIN);
        assertThat(ServerConfig.from(YamlConfig.parse(GOOD + "admin: {}\n", "f.yaml")).admin().getAddress()
                .isLoopbackAddress()).isTrue();
        assertThat(error(GOOD + "admin:\n  port: 1\n").getMessage()).isEqualTo("f.yaml:8: admin.port: unknown key "
                + "(expected: listen)");
    }

    @Test
    void aGoodFileIsAccepted() {
        ServerConfig c = ServerConfig.from(YamlConfig.parse(GOOD, "f.yaml"));
        assertThat(c.engine().routes()).hasSize(1);
        assertThat(c.engine().routes().get(0).target().name()).isEqualTo("web");
    }

    @Test
    void aBadValueNamesFileLineKeyAndValue() {
        ConfigException e = error(GOOD + "targets2: 1\n");
        assertThat(e.getMessage()).isEqualTo("f.yaml:7: targets2: unknown key (expected one of: access-log, admin, bandwidth, detection, "
                + "dns, engine, fallback, hook-policy, hooks, limits, listeners, protocols, routes, silence, targets, "
                + "timeouts, udp-listeners)");

        e = error(GOOD.replace("    backends: [127.0.0.1:8080]\n", "    backends: [127.0.0.1:8080]\n"
                + "    balance: fastest\n"));
        assertThat(e.getMessage()).startsWith("f.yaml:5: targets.web.balance: \"fastest\"")
                .contains("expected one of: round-robin");
        assertThat(e.where()).isEqualTo("f.yaml:5");
        assertThat(e.key()).isEqualTo("targets.web.balance");

        e = error(GOOD + "timeouts:\n  connect: 5 seconds\n");
        assertThat(e.getMessage()).isEqualTo("f.yaml:8: timeouts.connect: \"5 seconds\" (expected: more than zero, "
                + "a duration such as 500ms, 2s, 1m, 1h or PT2S)");

        e = error(GOOD.replace("target: web}", "target: api}"));
        assertThat(e.getMessage()).isEqualTo("f.yaml:6: routes[0].target: \"api\" (expected: the name of a target "
                + "under targets, one of web)");

        e = error(GOOD.replace("127.0.0.1:8080", "127.0.0.1:99999"));
        assertThat(e.getMessage()).startsWith("f.yaml:4: targets.web.backends[0]: \"127.0.0.1:99999\"");

        e = error(GOOD + "limits:\n  max-connections: -1\n");
        assertThat(e.getMessage()).startsWith("f.yaml:8: limits.max-connections: \"-1\" (expected: an integer 1-");
    }

    @Test
    void structuralProblemsAreNamedToo() {
        assertThat(error("listeners: [127.0.0.1:0\n").getMessage()).startsWith("f.yaml:");
        assertThat(error("").getMessage()).isEqualTo("f.yaml: (file): empty (expected: a map with at least listeners "
                + "and routes)");
        assertThat(error(GOOD + "routes: []\n").getMessage()).isEqualTo("f.yaml:7: routes: given twice, first on line "
                + "5 (expected: each key once)");
        assertThat(error("targets: {}\nroutes: []\n").getMessage())
                .isEqualTo("f.yaml:1: listeners: missing (expected: a list of listen addresses such as 0.0.0.0:443)");
        assertThat(error(GOOD + "routes2:\n").getMessage()).contains("routes2: unknown key");
        assertThat(error(GOOD.replace("  - {protocol: http, target: web}\n",
                "  - {protocol: http, target: web}\n  - {protocol: http, target: web}\n")).getMessage())
                .startsWith("f.yaml:7: routes[1]: the same protocol and conditions as routes[0] (f.yaml:6)");
        assertThat(error(GOOD.replace("protocol: http", "protocol: gopher")).getMessage())
                .startsWith("f.yaml: (configuration): ").contains("gopher");
        assertThat(error(GOOD + "detection: {peek-timeout: 1s, quiet-timeout: 2s}\n").getMessage())
                .startsWith("f.yaml: (configuration): quietTimeout: PT2S (expected: < peekTimeout PT1S)");
        assertThat(error(GOOD + "hooks: [com.example.NoSuchHook]\n").getMessage())
                .isEqualTo("f.yaml:7: hooks[0]: \"com.example.NoSuchHook\": class not found (expected: a class on "
                        + "the class path)");
        assertThat(error(GOOD + "access-log: {format: xml}\n").getMessage())
                .isEqualTo("f.yaml:7: access-log.format: \"xml\" (expected: text or json)");
    }

    /** A hook named by class in the file. */
    public static final class CountingHook implements io.refractium.hook.Hook {
        /** Made by the configuration. */
        public CountingHook() {
        }
    }

    @Test
    void bandwidthCaps() {
        ServerConfig c = ServerConfig.from(YamlConfig.parse(GOOD + "bandwidth:\n  per-connection: 1m:10m\n"
                + "  per-ip: 0:20m\n  targets: {web: 512k:1m}\n", "f.yaml"));
        assertThat(c.engine().toBuilder().build()).satisfies(io.refractium.Refractium::close);
        assertThat(c.engine().fixedSettingsThatDiffer(ServerConfig.from(YamlConfig.parse(GOOD + "bandwidth:\n"
                + "  per-connection: 1m:10m\n  per-ip: 0:20m\n  targets: {web: 512k:1m}\n", "g.yaml")).engine()))
                .isEmpty();
        assertThat(error(GOOD + "bandwidth: {per-ip: fast}\n").getMessage())
                .startsWith("f.yaml:7: bandwidth.per-ip: \"fast\" (expected: UP:DOWN in bytes per second");
        assertThat(error(GOOD + "bandwidth: {per-ip: 1:1}\n").getMessage())
                .startsWith("f.yaml:7: bandwidth.per-ip: \"1:1\": ");
        assertThat(error(GOOD + "bandwidth: {targets: {api: 1m:1m}}\n").getMessage())
                .startsWith("f.yaml:7: bandwidth.targets.api: no target \"api\"");
    }

    @Test
    void hooksAndProtocolsByClassName() {
        ServerConfig c = ServerConfig.from(YamlConfig.parse(GOOD + "hooks: [" + CountingHook.class.getName() + "]\n"
                + "protocols: [http, {class: io.refractium.protocols.tls.TlsDetector}]\n", "f.yaml"));
        assertThat(c.engine().toBuilder().build()).satisfies(r -> {
            assertThat(r.protocols()).containsExactlyInAnyOrder("http", "tls");
            r.close();
        });
        assertThat(error(GOOD + "hooks: [java.lang.String]\n").getMessage())
                .isEqualTo("f.yaml:7: hooks[0]: \"java.lang.String\" (expected: a class that implements "
                        + "io.refractium.hook.Hook, io.refractium.hook.HookFactory, io.refractium.hook.DataHookFactory "
                        + "or io.refractium.hook.Tap)");
        assertThat(error(GOOD + "protocols: [gopher]\n").getMessage())
                .startsWith("f.yaml:7: protocols[0]: \"gopher\" (expected: a protocol id found through ServiceLoader");
    }
}
