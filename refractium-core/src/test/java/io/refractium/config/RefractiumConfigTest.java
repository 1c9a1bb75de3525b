package io.refractium.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.Refractium;
import io.refractium.testing.PrefixProtocol;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configuration model on trees built by hand, without any file format. */
class RefractiumConfigTest {

    /** A detector named by class in a configuration: {@code ALPHA}. */
    public static final class AlphaProtocol implements io.refractium.spi.RefractiumProtocol {
        private final PrefixProtocol delegate = new PrefixProtocol("alpha", "ALPHA");

        /** Made by the configuration. */
        public AlphaProtocol() {
        }

        @Override
        public String id() {
            return delegate.id();
        }

        @Override
        public int maxBytes() {
            return delegate.maxBytes();
        }

        @Override
        public io.refractium.spi.DetectionResult detect(io.netty.buffer.ByteBuf buf,
                                                        io.refractium.spi.DetectionContext context) {
            return delegate.detect(buf, context);
        }
    }

    private static int line;

    private static ConfigNode s(String v) {
        return ConfigNode.scalar(v, "t", ++line);
    }

    private static ConfigNode l(ConfigNode... elements) {
        return ConfigNode.list(List.of(elements), "t", ++line);
    }

    private static ConfigNode m(Object... kv) {
        Map<String, ConfigNode> map = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            map.put((String) kv[i], kv[i + 1] instanceof String ? s((String) kv[i + 1]) : (ConfigNode) kv[i + 1]);
        }
        return ConfigNode.map(map, "t", ++line);
    }

    private static ConfigNode base(Object... extra) {
        Object[] kv = {"listeners", l(s("127.0.0.1:0"), m("address", "127.0.0.1:2222", "proxy-protocol",
                        m("mode", "optional", "trusted", l(s("10.0.0.0/8"))),
                        "silence", m("target", "ssh", "timeout", "500ms"))),
            "protocols", l(m("class", AlphaProtocol.class.getName())),
            "targets", m("a", m("backends", l(s("127.0.0.1:1001"), m("address", "127.0.0.1:1002", "weight", "3")),
                    "balance", "weighted", "health", m("check", "connect", "interval", "1s")),
                    "ssh", m("backends", l(s("127.0.0.1:22"))),
                    "spare", m("backends", l(s("127.0.0.1:1003")))),
            "routes", l(m("protocol", "alpha", "listener", "2222", "target", "a")),
            "fallback", "a"};
        Object[] all = new Object[kv.length + extra.length];
        System.arraycopy(kv, 0, all, 0, kv.length);
        System.arraycopy(extra, 0, all, kv.length, extra.length);
        return m(all);
    }

    @Test
    void mapsOntoTheBuilderAndTheRoutingTable() {
        RefractiumConfig c = RefractiumConfig.from(base("timeouts", m("idle", "0", "connect", "2s")));
        assertThat(c.listenAddresses()).containsExactly(new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", 2222));
        assertThat(c.routingTable().routes()).singleElement()
                .satisfies(r -> assertThat(r.listenerPort()).isEqualTo(2222));
        assertThat(c.routingTable().targets()).containsKeys("a", "ssh", "spare");
        assertThat(c.routingTable().fallback().name()).isEqualTo("a");
        assertThat(c.routingTable().listenerSilenceRoutes()).singleElement()
                .satisfies(sr -> assertThat(sr.timeout()).isEqualTo(Duration.ofMillis(500)));
        assertThat(c.targets().get("a").backends().get(1).weight()).isEqualTo(3);
        assertThat(c.proxyProtocol(2222)).isEqualTo("optional [10.0.0.0/8]");
        assertThat(c.proxyProtocol(443)).isNull();
        try (Refractium r = c.toBuilder().build()) {
            assertThat(r.protocols()).containsExactly("alpha");
        }
    }

    @Test
    void namesTheFixedSettingsThatDiffer() {
        RefractiumConfig a = RefractiumConfig.from(base());
        RefractiumConfig b = RefractiumConfig.from(base("timeouts", m("connect", "2s"),
                "limits", m("max-connections", "5"), "detection", m("peek-timeout", "4s")));
        assertThat(a.fixedSettingsThatDiffer(b)).containsExactly("detection.peek-timeout", "limits",
                "timeouts.connect");
        assertThat(a.fixedSettingsThatDiffer(RefractiumConfig.from(base()))).isEmpty();
    }

    @Test
    void errorsNameWhereKeyAndValue() {
        assertThatThrownBy(() -> RefractiumConfig.from(base("timeouts", m("connect", "-1s"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageMatching("t:\\d+: timeouts\\.connect: \"-1s\" \\(expected: more than zero, a duration .*\\)");
        assertThatThrownBy(() -> RefractiumConfig.from(base("engine", m("transport", "carrier-pigeon"))))
                .hasMessageMatching("t:\\d+: engine\\.transport: \"carrier-pigeon\" \\(expected: one of native, epoll, "
                        + "io_uring, nio\\)");
        ConfigNode flag = ConfigNode.map(Map.of("listeners", ConfigNode.list(List.of(
                ConfigNode.scalar("nowhere", "--listen \"nowhere\"", 0)), "--listen", 0)), "command line", 0);
        assertThatThrownBy(() -> RefractiumConfig.from(flag))
                .hasMessageStartingWith("--listen \"nowhere\": listeners[0]: \"nowhere\" (expected: HOST:PORT");
    }
}
