package io.refractium.examples.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.Backend;
import io.refractium.Cidr;
import io.refractium.ForwardTarget;
import io.refractium.HealthCheck;
import io.refractium.ProxyProtocolMode;
import io.refractium.ProxyProtocolVersion;
import io.refractium.Refractium;
import io.refractium.Route;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LauncherOptionsTest {

    private static final String LISTEN = "--listen";
    private static final String ADDR = "127.0.0.1:8443";

    /** Parses {@code --listen 127.0.0.1:8443} plus the given arguments. */
    private static LauncherOptions parse(String... args) {
        List<String> all = new ArrayList<>(List.of(LISTEN, ADDR));
        all.addAll(Arrays.asList(args));
        return LauncherOptions.parse(all);
    }

    private static ForwardTarget onlyTarget(String route) {
        List<Route> routes = parse("--route", route).routes();
        assertThat(routes).hasSize(1);
        return routes.get(0).target();
    }

    private static void assertError(String expectedMessage, String... args) {
        List<String> all = new ArrayList<>(List.of(LISTEN, ADDR));
        all.addAll(Arrays.asList(args));
        assertThatThrownBy(() -> LauncherOptions.parse(all))
                .isInstanceOf(UsageException.class)
                .hasMessage(expectedMessage);
    }

    private static void assertErrorContains(List<String> args, String... fragments) {
        assertThatThrownBy(() -> LauncherOptions.parse(args))
                .isInstanceOf(UsageException.class)
                .hasMessageContainingAll(fragments);
    }

    // ---- the example from the documentation ----

    @Test
    void theDocumentedRouteParsesIntoTheExpectedTarget() {
        LauncherOptions o = parse("--route",
                "http=127.0.0.1:9080*3,127.0.0.1:9081,127.0.0.1:9082+backup;balance=weighted;check=connect;"
                        + "interval=1s;fall=2;rise=2");

        Route route = o.routes().get(0);
        assertThat(route.protocol()).isEqualTo("http");
        assertThat(route.sni()).isNull();
        assertThat(route.host()).isNull();
        ForwardTarget t = route.target();
        assertThat(t.name()).isEqualTo("http");
        assertThat(t.backends()).containsExactly(
                Backend.of("127.0.0.1", 9080).withWeight(3),
                Backend.of("127.0.0.1", 9081),
                Backend.of("127.0.0.1", 9082).withBackup(true));
        assertThat(t.loadBalancer().name()).isEqualTo("weighted");
        assertThat(t.maxAttempts()).isEqualTo(3);
        HealthCheck hc = t.healthCheck();
        assertThat(hc.kind()).isEqualTo(HealthCheck.Kind.CONNECT);
        assertThat(hc.interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(hc.fall()).isEqualTo(2);
        assertThat(hc.rise()).isEqualTo(2);
        assertThat(hc.timeout()).isEqualTo(HealthCheck.connect().timeout());
    }

    // ---- listen ----

    @Test
    void listenTakesIpv4Ipv6AndPortZeroAndRepeats() {
        LauncherOptions o = LauncherOptions.parse("--listen", "127.0.0.1:443", "--listen", "[::1]:0",
                "--listen=0.0.0.0:8443", "--fallback", "127.0.0.1:9000");
        assertThat(o.listenAddresses()).containsExactly(
                new InetSocketAddress("127.0.0.1", 443),
                new InetSocketAddress("::1", 0),
                new InetSocketAddress("0.0.0.0", 8443));
        assertThat(o.listenAddresses().get(1).getAddress().getHostAddress()).contains(":");
    }

    @Test
    void listenRejectsABadPort() {
        assertErrorContains(List.of("--listen", "127.0.0.1:99999"),
                "--listen \"127.0.0.1:99999\": port \"99999\" (expected: 0-65535)");
        assertErrorContains(List.of("--listen", "127.0.0.1:https"),
                "--listen \"127.0.0.1:https\": port \"https\" (expected: 0-65535)");
        assertErrorContains(List.of("--listen", "127.0.0.1:"),
                "--listen \"127.0.0.1:\": port \"\" (expected: 0-65535)");
    }

    @Test
    void listenRejectsAnAddressWithoutPortOrWithUnbracketedIpv6() {
        assertErrorContains(List.of("--listen", "127.0.0.1"),
                "--listen \"127.0.0.1\" (expected: HOST:PORT, with an IPv6 host in brackets such as [::1]:443)");
        assertErrorContains(List.of("--listen", "::1:443"),
                "--listen \"::1:443\": host \"::1\" (expected: HOST:PORT, with an IPv6 host in brackets");
        assertErrorContains(List.of("--listen", "[::1:443"),
                "--listen \"[::1:443\": host \"[::1\" (expected: an IPv6 address in brackets, such as [::1])");
    }

    @Test
    void listenIsRequired() {
        assertErrorContains(List.of("--fallback", "127.0.0.1:9000"),
                "--listen: missing (expected: at least one --listen HOST:PORT, e.g. --listen 0.0.0.0:443, or --listen-udp HOST:PORT)");
    }

    // ---- routes ----

    @Test
    void conditionsInBracketsTestAnyAttributeTheListenerAndTheNamedOnes() {
        LauncherOptions o = parse("--route", "postgres[database=app]=127.0.0.1:5432",
                "--route", "tls[sni=*.a.example,alpn=h2]=127.0.0.1:9443",
                "--route", "ssh[listener=2222]=127.0.0.1:22",
                "--route", "http@www.example[path=/api,client=10.0.0.0/8,listener=127.0.0.1:8080]=127.0.0.1:9080",
                "--route", "mqtt[mqtt.clientid=*.sensors,listener=[::1]:1883]=127.0.0.1:1883",
                "--route", "tls@a.test=127.0.0.1:9444");
        List<Route> routes = o.routes();
        assertThat(routes).extracting(Route::describe).containsExactly(
                "postgres postgres.database=app",
                "tls sni=*.a.example alpn=h2",
                "ssh listener=:2222",
                "http host=www.example path=/api* client=10.0.0.0/8 listener=127.0.0.1:8080",
                "mqtt mqtt.clientid=*.sensors listener=[0:0:0:0:0:0:0:1]:1883",
                "tls sni=a.test");
        assertThat(routes).extracting(r -> r.target().name()).containsExactly("postgres[database=app]",
                "tls[sni=*.a.example,alpn=h2]", "ssh[listener=2222]",
                "http@www.example[path=/api,client=10.0.0.0/8,listener=127.0.0.1:8080]",
                "mqtt[mqtt.clientid=*.sensors,listener=[::1]:1883]", "tls@a.test");
        assertThat(routes.get(2).listenerPort()).isEqualTo(2222);
    }

    @Test
    void badConditionsNameTheOptionAndTheValue() {
        assertError("--route \"tls[sni=*.a*]=127.0.0.1:1\": condition \"sni=*.a*\": sni: \"*.a*\" (expected: a host "
                + "name such as a.example, or *.example for any name below it)", "--route", "tls[sni=*.a*]=127.0.0.1:1");
        assertError("--route \"pg[database]=127.0.0.1:1\": condition \"database\" (expected: KEY=VALUE, such as "
                + "sni=*.a.example, alpn=h2, listener=2222 or database=app)", "--route", "pg[database]=127.0.0.1:1");
        assertError("--route \"ssh[listener=0]=127.0.0.1:1\": listener \"0\" (expected: a port 1-65535)",
                "--route", "ssh[listener=0]=127.0.0.1:1");
        assertError("--route \"pg[a=1=127.0.0.1:1\": no \"]\" after \"[\" (expected: "
                + "PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...])",
                "--route", "pg[a=1=127.0.0.1:1");
        assertError("--route \"pg[]=127.0.0.1:1\": empty conditions \"[]\" (expected: [KEY=VALUE,...], e.g. "
                + "[sni=*.a.example,alpn=h2] or [listener=2222])", "--route", "pg[]=127.0.0.1:1");
        assertError("--route \"tls@a.test[sni=b.test]=127.0.0.1:1\": sni= and @NAME both set the SNI (expected: one)",
                "--route", "tls@a.test[sni=b.test]=127.0.0.1:1");
        assertError("--route \"pg[db=a,db=b]=127.0.0.1:1\": condition db is given twice (expected: at most once)",
                "--route", "pg[db=a,db=b]=127.0.0.1:1");
        assertErrorContains(List.of(LISTEN, ADDR, "--route", "pg[db=a,user=b]=127.0.0.1:1", "--route",
                "pg[db=a,user=b]=127.0.0.1:2"), "the same protocol and conditions as --route \"pg[db=a,user=b]");
    }

    @Test
    void onSilencePerListenerWithItsOwnTimeout() {
        LauncherOptions o = parse("--on-silence", "127.0.0.1:22", "--on-silence", "127.0.0.1:2022;listener=2222;timeout=500ms",
                "--on-silence", "127.0.0.1:25;listener=25");
        assertThat(o.onSilence().name()).isEqualTo("on-silence");
        assertThat(o.listenerSilences()).extracting(LauncherOptions.ListenerSilence::port).containsExactly(2222, 25);
        assertThat(o.listenerSilences().get(0).target().name()).isEqualTo("on-silence:2222");
        assertThat(o.listenerSilences().get(0).timeout()).isEqualTo(java.time.Duration.ofMillis(500));
        assertThat(o.listenerSilences().get(1).timeout()).isNull();
        Refractium r = o.toBuilder().build();
        assertThat(r.routes().listenerSilenceRoutes()).hasSize(2);

        assertError("--on-silence \"127.0.0.1:22;timeout=1s\": timeout= applies only with listener=PORT (expected: "
                + "--silence-timeout for the default silent-client target)", "--on-silence", "127.0.0.1:22;timeout=1s");
        assertError("--on-silence \"127.0.0.1:23;listener=22\": listener 22 already has a silent-client target "
                + "(expected: one --on-silence per port)", "--on-silence", "127.0.0.1:22;listener=22",
                "--on-silence", "127.0.0.1:23;listener=22");
        assertError("--on-silence listener 22: timeout 5s must be shorter than --peek-timeout 5s (the default) "
                + "(expected: a shorter timeout= or a longer --peek-timeout)",
                "--on-silence", "127.0.0.1:22;listener=22;timeout=5s");
        assertError("--on-silence \"127.0.0.1:22;port=2\": option \"port=2\" (expected: listener=PORT or "
                + "timeout=DURATION)", "--on-silence", "127.0.0.1:22;port=2");
    }

    @Test
    void hashOnAnAttributeIsABalanceName() {
        ForwardTarget t = onlyTarget("mqtt=127.0.0.1:1883,127.0.0.1:1884;balance=hash-attr:mqtt.clientid");
        assertThat(t.loadBalancer()).isEqualTo(io.refractium.balance.LoadBalancers.hashAttribute("mqtt.clientid"));
    }

    @Test
    void tlsNameIsTheSniAndHttpNameIsTheHost() {
        LauncherOptions o = parse("--route", "tls@a.test=127.0.0.1:9443", "--route", "tls@*.b.test=127.0.0.1:9444",
                "--route", "http@www.example=127.0.0.1:9080", "--route", "tls=127.0.0.1:9445");
        List<Route> routes = o.routes();
        assertThat(routes).extracting(Route::protocol).containsExactly("tls", "tls", "http", "tls");
        assertThat(routes.get(0).sni()).isEqualTo("a.test");
        assertThat(routes.get(1).sni()).isEqualTo("*.b.test");
        assertThat(routes.get(2).host()).isEqualTo("www.example");
        assertThat(routes.get(2).sni()).isNull();
        assertThat(routes.get(3).sni()).isNull();
        assertThat(routes).extracting(r -> r.target().name())
                .containsExactly("tls@a.test", "tls@*.b.test", "http@www.example", "tls");
    }

    @Test
    void backendsTakeIpv6WeightsAndBackup() {
        ForwardTarget t = onlyTarget("ssh=[::1]:22*2,host.example:2222*1000+backup,10.0.0.1:22+backup");
        assertThat(t.backends()).containsExactly(
                Backend.of("::1", 22).withWeight(2),
                Backend.of("host.example", 2222).withWeight(1000).withBackup(true),
                Backend.of("10.0.0.1", 22).withBackup(true));
    }

    @Test
    void defaultsWithoutOptions() {
        ForwardTarget t = onlyTarget("ssh=127.0.0.1:22");
        assertThat(t.loadBalancer().name()).isEqualTo("round-robin");
        assertThat(t.healthCheck()).isEqualTo(HealthCheck.none());
        assertThat(t.maxAttempts()).isEqualTo(1);
        assertThat(t.backends().get(0).maxConnections()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"round-robin", "weighted", "least-conn", "p2c", "random", "hash-ip", "hash-name"})
    void everyBalanceNameIsAccepted(String name) {
        assertThat(onlyTarget("http=127.0.0.1:80;balance=" + name).loadBalancer().name()).isEqualTo(name);
    }

    @Test
    void attemptsAndMaxConnsApplyToTheTargetAndEveryBackend() {
        ForwardTarget t = onlyTarget("http=127.0.0.1:80,127.0.0.1:81*2,127.0.0.1:82+backup;attempts=2;max-conns=50");
        assertThat(t.maxAttempts()).isEqualTo(2);
        assertThat(t.backends()).extracting(Backend::maxConnections).containsExactly(50, 50, 50);
        assertThat(t.backends()).extracting(Backend::weight).containsExactly(1, 2, 1);
        assertThat(t.backends()).extracting(Backend::isBackup).containsExactly(false, false, true);
    }

    @Test
    void sendCheckUnescapesItsTexts() {
        ForwardTarget t = onlyTarget("http=127.0.0.1:80;check=send;send=GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n;"
                + "expect=HTTP/1.1 200;timeout=500ms;interval=PT3S;rise=1;fall=5");
        HealthCheck hc = t.healthCheck();
        assertThat(hc.kind()).isEqualTo(HealthCheck.Kind.SEND_EXPECT);
        assertThat(new String(hc.send(), StandardCharsets.UTF_8)).isEqualTo("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(new String(hc.expect(), StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200");
        assertThat(hc.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(hc.interval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(hc.rise()).isEqualTo(1);
        assertThat(hc.fall()).isEqualTo(5);
    }

    @Test
    void sendCheckKnowsEveryEscapeAndMayOnlyRead() {
        HealthCheck hc = onlyTarget("ssh=127.0.0.1:22;check=send;send=a\\tb\\\\c\\;d\\n;expect=SSH-").healthCheck();
        assertThat(new String(hc.send(), StandardCharsets.UTF_8)).isEqualTo("a\tb\\c;d\n");
        HealthCheck readOnly = onlyTarget("ssh=127.0.0.1:22;check=send;expect=SSH-2.0-").healthCheck();
        assertThat(readOnly.send()).isEmpty();
        assertThat(new String(readOnly.expect(), StandardCharsets.UTF_8)).isEqualTo("SSH-2.0-");
    }

    @Test
    void checkNoneIsNoCheck() {
        assertThat(onlyTarget("http=127.0.0.1:80;check=none").healthCheck()).isEqualTo(HealthCheck.none());
    }

    // ---- fallback, silence, timeouts, peek bytes ----

    @Test
    void fallbackAndOnSilenceAreSingleBackendTargets() {
        LauncherOptions o = parse("--fallback", "127.0.0.1:9000", "--on-silence=[::1]:22");
        assertThat(o.fallback().name()).isEqualTo("fallback");
        assertThat(o.fallback().backends()).containsExactly(Backend.of("127.0.0.1", 9000));
        assertThat(o.onSilence().name()).isEqualTo("on-silence");
        assertThat(o.onSilence().backends()).containsExactly(Backend.of("::1", 22));
        assertThat(o.routes()).isEmpty();
    }

    @Test
    void quietTimeoutIsPassedOnAndMustBeShorterThanThePeekTimeout() {
        LauncherOptions o = parse("--fallback", "127.0.0.1:9000", "--quiet-timeout", "250ms");
        assertThat(o.quietTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(parse("--fallback", "127.0.0.1:9000").quietTimeout()).isNull();
        assertError("--quiet-timeout 6s must be shorter than --peek-timeout 5s (the default) "
                + "(expected: a shorter --quiet-timeout or a longer --peek-timeout)",
                "--fallback", "127.0.0.1:9000", "--quiet-timeout", "6s");
    }

    @ParameterizedTest
    @CsvSource({"500ms, PT0.5S", "2s, PT2S", "1m, PT1M", "1h, PT1H", "PT2S, PT2S", "pt1m30s, PT1M30S", "90s, PT1M30S"})
    void durationsTakeUnitsAndIso8601(String text, String iso) {
        LauncherOptions o = parse("--fallback", "127.0.0.1:9000", "--peek-timeout", text, "--connect-timeout", text,
                "--idle-timeout", text);
        Duration expected = Duration.parse(iso);
        assertThat(o.peekTimeout()).isEqualTo(expected);
        assertThat(o.connectTimeout()).isEqualTo(expected);
        assertThat(o.idleTimeout()).isEqualTo(expected);
    }

    @Test
    void timeoutsAndPeekBytes() {
        LauncherOptions o = parse("--on-silence", "127.0.0.1:22", "--silence-timeout", "1s", "--peek-timeout", "3s",
                "--idle-timeout", "0", "--peek-bytes", "65536");
        assertThat(o.silenceTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(o.peekTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(o.idleTimeout()).isEqualTo(Duration.ZERO);
        assertThat(o.maxPeekBytes()).isEqualTo(65536);
        assertThat(o.connectTimeout()).isNull();
    }

    @Test
    void theTransportIsNamedAndCheckedStrictly() {
        assertThat(parse("--fallback", "127.0.0.1:9000", "--transport", "io_uring").transport())
                .isEqualTo(io.refractium.IoTransport.IO_URING);
        assertThat(parse("--fallback", "127.0.0.1:9000", "--transport", "nio").transport())
                .isEqualTo(io.refractium.IoTransport.NIO);
        assertThat(parse("--fallback", "127.0.0.1:9000").transport()).isNull();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> parse("--fallback", "127.0.0.1:9000", "--transport", "uring"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--transport \"uring\": unknown transport (expected: native, epoll, io_uring or nio)");
    }

    @Test
    void unsetOptionsLeaveTheBuilderDefaults() {
        LauncherOptions o = parse("--fallback", "127.0.0.1:9000");
        assertThat(o.peekTimeout()).isNull();
        assertThat(o.silenceTimeout()).isNull();
        assertThat(o.connectTimeout()).isNull();
        assertThat(o.idleTimeout()).isNull();
        assertThat(o.maxPeekBytes()).isNull();
        assertThat(o.onSilence()).isNull();
        assertThat(o.isHelp()).isFalse();
    }

    @Test
    void helpWinsOverEverythingElse() {
        assertThat(LauncherOptions.parse("--listen", "nonsense", "--help").isHelp()).isTrue();
        assertThat(LauncherOptions.parse("-h").isHelp()).isTrue();
        assertThat(LauncherOptions.usage()).contains("--listen HOST:PORT", "--route PROTOCOL[@NAME][[CONDITION,...]]=BACKEND",
                "balance=NAME", "--on-silence", "--peek-bytes", "--idle-timeout");
        assertThatThrownBy(() -> LauncherOptions.parse("--help").toBuilder()).isInstanceOf(IllegalStateException.class);
    }

    // ---- the builder ----

    @Test
    void toBuilderBuildsWithDiscoveredProtocols() {
        LauncherOptions o = parse("--route", "redis=127.0.0.1:6379", "--fallback", "127.0.0.1:9000",
                "--on-silence", "127.0.0.1:22", "--peek-timeout", "3s", "--silence-timeout", "1s",
                "--idle-timeout", "0", "--connect-timeout", "1s", "--peek-bytes", "100");
        Refractium r = o.toBuilder().build();
        assertThat(r.protocols()).contains("redis");
        assertThat(r.routes().routes()).extracting(Route::protocol).containsExactly("redis");
        assertThat(r.routes().fallback().name()).isEqualTo("fallback");
        assertThat(r.routes().silenceTarget().name()).isEqualTo("on-silence");
        assertThat(r.isRunning()).isFalse();
        r.close();
    }

    @Test
    void toBuilderLeavesUnknownProtocolsToTheBuilder() {
        LauncherOptions o = parse("--route", "nosuch=127.0.0.1:1");
        assertThatThrownBy(() -> o.toBuilder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown protocol \"nosuch\"");
    }

    @Test
    void listenAddressesResolveLocally() throws Exception {
        LauncherOptions o = LauncherOptions.parse("--listen", "localhost:0", "--fallback", "127.0.0.1:9000");
        assertThat(o.listenAddresses().get(0).getAddress()).isEqualTo(InetAddress.getByName("localhost"));
    }

    // ---- errors: the options ----

    @Test
    void unknownOption() {
        assertErrorContains(List.of("--lisen", ADDR), "unknown option \"--lisen\" (expected one of --listen, --listen-udp, --route, "
                + "--fallback, --on-silence, --accept-proxy, --peek-timeout, --silence-timeout, --quiet-timeout, "
                + "--connect-timeout, --idle-timeout, --peek-bytes, --transport, --max-connections, --max-connections-per-listener, "
                + "--max-connections-per-ip, --max-detecting, --rate-per-ip, --allow, --deny, --ipv6-prefix, "
                + "--max-tracked-ips, --reject-with-rst, --bandwidth-per-connection, --bandwidth-per-ip, "
                + "--bandwidth-per-route, --bandwidth-per-target, --help)");
    }

    @Test
    void unexpectedArgument() {
        assertError("unexpected argument \"http=127.0.0.1:80\" (expected: an option such as --listen or --route; "
                + "see --help)", "http=127.0.0.1:80");
        assertError("unexpected argument \"-v\" (expected: an option such as --listen or --route; see --help)", "-v");
    }

    @Test
    void missingValue() {
        assertErrorContains(List.of("--listen"), "--listen: missing value (expected: HOST:PORT, e.g. 0.0.0.0:443 or [::]:443)");
        assertErrorContains(List.of("--listen", "--route", "http=127.0.0.1:80"),
                "--listen: missing value (expected: HOST:PORT");
        assertError("--route: missing value (expected: PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...])",
                "--route");
        assertError("--peek-timeout: missing value (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--fallback", "127.0.0.1:9000", "--peek-timeout");
    }

    @Test
    void badDuration() {
        assertError("--peek-timeout \"5x\" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--peek-timeout", "5x");
        assertError("--connect-timeout \"PT-1S\" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--connect-timeout", "PT-1S");
        assertError("--connect-timeout \"-1s\" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--connect-timeout=-1s");
        assertError("--peek-timeout \"0s\" (expected: more than zero, a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--peek-timeout", "0s");
        assertError("--idle-timeout \"1.5s\" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S, or 0 to disable)",
                "--idle-timeout", "1.5s");
        assertError("--connect-timeout \"30d\" (expected: a duration such as 500ms, 2s, 1m, 1h or PT2S)",
                "--connect-timeout", "30d");
    }

    @Test
    void connectTimeoutMustFitTheSocketOption() {
        assertError("--connect-timeout \"600h\" (expected: less than 24 days)", "--connect-timeout", "600h");
        assertThat(parse("--fallback", "127.0.0.1:9000", "--connect-timeout", "500h").connectTimeout())
                .isEqualTo(Duration.ofHours(500));
    }

    @Test
    void badPeekBytes() {
        assertError("--peek-bytes \"0\" (expected: a byte count 1-16777216)", "--peek-bytes", "0");
        assertError("--peek-bytes \"16777217\" (expected: a byte count 1-16777216)", "--peek-bytes", "16777217");
        assertError("--peek-bytes \"32k\" (expected: a byte count 1-16777216)", "--peek-bytes", "32k");
    }

    @Test
    void singleValuedOptionsOnce() {
        assertError("--fallback is given twice (expected: at most once)",
                "--fallback", "127.0.0.1:9000", "--fallback", "127.0.0.1:9001");
        assertError("--peek-timeout is given twice (expected: at most once)",
                "--fallback", "127.0.0.1:9000", "--peek-timeout", "1s", "--peek-timeout", "2s");
    }

    @Test
    void helpTakesNoValue() {
        assertError("--help takes no value (got \"yes\")", "--help=yes");
    }

    @Test
    void badFallbackAndOnSilence() {
        assertError("--fallback \"127.0.0.1:0\": port \"0\" (expected: 1-65535)", "--fallback", "127.0.0.1:0");
        assertError("--on-silence \"localhost\" (expected: HOST:PORT, with an IPv6 host in brackets such as [::1]:443)",
                "--on-silence", "localhost");
    }

    @Test
    void nothingToForward() {
        assertError("nothing to forward to (expected: at least one --route, --fallback or --on-silence)");
    }

    @Test
    void silenceTimeoutNeedsOnSilenceAndMustBeShorterThanThePeekTimeout() {
        assertError("--silence-timeout \"1s\" applies only to silent clients (expected: --on-silence HOST:PORT as well)",
                "--fallback", "127.0.0.1:9000", "--silence-timeout", "1s");
        assertError("--silence-timeout 5s must be shorter than --peek-timeout 5s (the default) (expected: a shorter "
                + "--silence-timeout or a longer --peek-timeout)",
                "--on-silence", "127.0.0.1:22", "--silence-timeout", "5s");
        assertError("--silence-timeout 2s (the default) must be shorter than --peek-timeout 1s (expected: a shorter "
                + "--silence-timeout or a longer --peek-timeout)",
                "--on-silence", "127.0.0.1:22", "--peek-timeout", "1s");
    }

    // ---- errors: routes ----

    @Test
    void routeWithoutEquals() {
        assertError("--route \"http\": no \"=\" (expected: PROTOCOL[@NAME][[CONDITION,...]]=BACKEND[,BACKEND...][;OPTION=VALUE...])",
                "--route", "http");
    }

    @Test
    void badProtocolId() {
        assertError("--route \"TLS=127.0.0.1:443\": protocol \"TLS\" (expected: a lower-case protocol id such as tls, "
                + "http, http2, ssh or dns)", "--route", "TLS=127.0.0.1:443");
        assertError("--route \"@a.test=127.0.0.1:443\": protocol \"\" (expected: a lower-case protocol id such as "
                + "tls, http, http2, ssh or dns)", "--route", "@a.test=127.0.0.1:443");
    }

    @Test
    void nameOnSshIsAnError() {
        assertError("--route \"ssh@host.example=127.0.0.1:22\": a name (@host.example) is allowed only on tls (the SNI), "
                + "http and http2 (the Host), not on ssh (expected: ssh=BACKEND...)", "--route", "ssh@host.example=127.0.0.1:22");
    }

    @Test
    void http2NameIsTheAuthority() {
        LauncherOptions o = parse("--route", "http2@a.test=127.0.0.1:8080", "--route", "http2@*.b.test=127.0.0.1:8081",
                "--route", "http2=127.0.0.1:8082");
        List<Route> routes = o.routes();
        assertThat(routes).extracting(Route::protocol).containsExactly("http2", "http2", "http2");
        assertThat(routes).extracting(Route::host).containsExactly("a.test", "*.b.test", null);
        assertThat(routes).extracting(r -> r.target().name()).containsExactly("http2@a.test", "http2@*.b.test", "http2");
    }

    @Test
    void badName() {
        assertError("--route \"tls@=127.0.0.1:443\": name \"\" (expected: a host name such as a.example, or *.example "
                + "for any name below it)", "--route", "tls@=127.0.0.1:443");
        assertError("--route \"tls@a.*.test=127.0.0.1:443\": name \"a.*.test\" (expected: a host name such as "
                + "a.example, or *.example for any name below it)", "--route", "tls@a.*.test=127.0.0.1:443");
    }

    @Test
    void duplicateRoute() {
        assertError("--route \"tls@A.test=127.0.0.1:2\": the same protocol and conditions as --route "
                + "\"tls@a.test=127.0.0.1:1\" (expected: one route per protocol and conditions)",
                "--route", "tls@a.test=127.0.0.1:1", "--route", "tls@A.test=127.0.0.1:2");
    }

    @Test
    void noBackend() {
        assertError("--route \"http=\": no backend (expected: HOST:PORT[*WEIGHT][+backup] after \"=\")",
                "--route", "http=");
        assertError("--route \"http=;balance=random\": no backend (expected: HOST:PORT[*WEIGHT][+backup] after \"=\")",
                "--route", "http=;balance=random");
    }

    @Test
    void badBackend() {
        assertError("--route \"http=127.0.0.1:80,\": backend \"\" (expected: HOST:PORT, with an IPv6 host in brackets "
                + "such as [::1]:443)", "--route", "http=127.0.0.1:80,");
        assertError("--route \"http=127.0.0.1:0\": backend \"127.0.0.1:0\": port \"0\" (expected: 1-65535)",
                "--route", "http=127.0.0.1:0");
        assertError("--route \"http=127.0.0.1:80,127.0.0.1:80*2\": backend 127.0.0.1:80 is listed twice "
                + "(expected: each backend once)", "--route", "http=127.0.0.1:80,127.0.0.1:80*2");
        assertError("--route \"http=a b:80\": backend \"a b:80\": host \"a b\" (expected: HOST:PORT, with an IPv6 host "
                + "in brackets such as [::1]:443)", "--route", "http=a b:80");
    }

    @Test
    void badWeight() {
        assertError("--route \"http=127.0.0.1:80*0\": weight \"0\" of backend \"127.0.0.1:80*0\" "
                + "(expected: an integer 1-1000)", "--route", "http=127.0.0.1:80*0");
        assertError("--route \"http=127.0.0.1:80*1001\": weight \"1001\" of backend \"127.0.0.1:80*1001\" "
                + "(expected: an integer 1-1000)", "--route", "http=127.0.0.1:80*1001");
        assertError("--route \"http=127.0.0.1:80*heavy+backup\": weight \"heavy\" of backend "
                + "\"127.0.0.1:80*heavy+backup\" (expected: an integer 1-1000)", "--route", "http=127.0.0.1:80*heavy+backup");
        assertError("--route \"http=127.0.0.1:80*\": weight \"\" of backend \"127.0.0.1:80*\" "
                + "(expected: an integer 1-1000)", "--route", "http=127.0.0.1:80*");
    }

    @Test
    void badBackendFlag() {
        assertError("--route \"http=127.0.0.1:80+spare\": flag \"+spare\" on backend \"127.0.0.1:80+spare\" "
                + "(expected: +backup)", "--route", "http=127.0.0.1:80+spare");
        assertError("--route \"http=127.0.0.1:80+backup*2\": flag \"+backup*2\" on backend \"127.0.0.1:80+backup*2\" "
                + "(expected: +backup)", "--route", "http=127.0.0.1:80+backup*2");
    }

    @Test
    void unknownBalanceNamesTheAcceptedOnes() {
        assertThatThrownBy(() -> parse("--route", "http=127.0.0.1:80;balance=fastest"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--route \"http=127.0.0.1:80;balance=fastest\": balance: \"fastest\" (expected one of: "
                        + "round-robin, weighted, least-conn, p2c, random, hash-ip, hash-name, hash-attr:NAME)");
    }

    @Test
    void badRouteOption() {
        assertError("--route \"http=127.0.0.1:80;weight=3\": unknown option \"weight\" (expected one of balance, check, "
                + "send, expect, interval, timeout, rise, fall, attempts, max-conns, send-proxy)", "--route", "http=127.0.0.1:80;weight=3");
        assertError("--route \"http=127.0.0.1:80;balance\": option \"balance\" (expected: OPTION=VALUE with OPTION one "
                + "of balance, check, send, expect, interval, timeout, rise, fall, attempts, max-conns, send-proxy)",
                "--route", "http=127.0.0.1:80;balance");
        assertError("--route \"http=127.0.0.1:80;\": option \"\" (expected: OPTION=VALUE with OPTION one of balance, "
                + "check, send, expect, interval, timeout, rise, fall, attempts, max-conns, send-proxy)", "--route", "http=127.0.0.1:80;");
        assertError("--route \"http=127.0.0.1:80;rise=2;rise=3\": option rise is given twice (expected: at most once)",
                "--route", "http=127.0.0.1:80;rise=2;rise=3");
    }

    @Test
    void badCheck() {
        assertError("--route \"http=127.0.0.1:80;check=ping\": check \"ping\" (expected one of connect, send, none)",
                "--route", "http=127.0.0.1:80;check=ping");
    }

    @Test
    void sendAndExpectNeedCheckSend() {
        assertError("--route \"http=127.0.0.1:80;send=PING\": send= applies only to check=send "
                + "(expected: check=send;send=TEXT;expect=PREFIX)", "--route", "http=127.0.0.1:80;send=PING");
        assertError("--route \"http=127.0.0.1:80;check=connect;expect=+PONG\": expect= applies only to check=send "
                + "(expected: check=send;send=TEXT;expect=PREFIX)", "--route", "http=127.0.0.1:80;check=connect;expect=+PONG");
        assertError("--route \"http=127.0.0.1:80;check=send;send=PING\": check=send needs expect=PREFIX (expected: the "
                + "start of the reply, e.g. expect=HTTP/1.1 200; send=TEXT is optional)",
                "--route", "http=127.0.0.1:80;check=send;send=PING");
        assertError("--route \"http=127.0.0.1:80;check=send;expect=\": check=send needs expect=PREFIX (expected: the "
                + "start of the reply, e.g. expect=HTTP/1.1 200; send=TEXT is optional)",
                "--route", "http=127.0.0.1:80;check=send;expect=");
    }

    @Test
    void badEscape() {
        assertError("--route \"http=127.0.0.1:80;check=send;send=a\\x;expect=b\": send=a\\x: escape \"\\x\" "
                + "(expected one of \\r \\n \\t \\\\ \\;)", "--route", "http=127.0.0.1:80;check=send;send=a\\x;expect=b");
        assertError("--route \"http=127.0.0.1:80;check=send;expect=b\\\": expect=b\\: escape \"\\\" "
                + "(expected one of \\r \\n \\t \\\\ \\;)", "--route", "http=127.0.0.1:80;check=send;expect=b\\");
    }

    @Test
    void checkTimingNeedsAnActiveCheck() {
        assertError("--route \"http=127.0.0.1:80;interval=1s\": interval=1s applies only to an active check "
                + "(expected: check=connect or check=send as well)", "--route", "http=127.0.0.1:80;interval=1s");
        assertError("--route \"http=127.0.0.1:80;check=none;fall=2\": fall=2 applies only to an active check "
                + "(expected: check=connect or check=send as well)", "--route", "http=127.0.0.1:80;check=none;fall=2");
    }

    @Test
    void badCheckValues() {
        assertError("--route \"http=127.0.0.1:80;check=connect;interval=soon\": interval \"soon\" (expected: more than "
                + "zero, a duration such as 500ms, 2s, 1m, 1h or PT2S)", "--route", "http=127.0.0.1:80;check=connect;interval=soon");
        assertError("--route \"http=127.0.0.1:80;check=connect;timeout=0\": timeout \"0\" (expected: more than zero, "
                + "a duration such as 500ms, 2s, 1m, 1h or PT2S)", "--route", "http=127.0.0.1:80;check=connect;timeout=0");
        assertError("--route \"http=127.0.0.1:80;check=connect;rise=0\": rise \"0\" (expected: 1-100 consecutive "
                + "successes)", "--route", "http=127.0.0.1:80;check=connect;rise=0");
        assertError("--route \"http=127.0.0.1:80;check=connect;fall=-1\": fall \"-1\" (expected: 1-100 consecutive "
                + "failures)", "--route", "http=127.0.0.1:80;check=connect;fall=-1");
    }

    @Test
    void badAttemptsAndMaxConns() {
        assertError("--route \"http=127.0.0.1:80,127.0.0.1:81;attempts=3\": attempts \"3\" (expected: 1-2, the number "
                + "of backends)", "--route", "http=127.0.0.1:80,127.0.0.1:81;attempts=3");
        assertError("--route \"http=127.0.0.1:80;attempts=0\": attempts \"0\" (expected: 1-1, the number of backends)",
                "--route", "http=127.0.0.1:80;attempts=0");
        assertError("--route \"http=127.0.0.1:80;max-conns=0\": max-conns \"0\" (expected: a connection count >= 1)",
                "--route", "http=127.0.0.1:80;max-conns=0");
        assertError("--route \"http=127.0.0.1:80;max-conns=lots\": max-conns \"lots\" (expected: a connection count >= 1)",
                "--route", "http=127.0.0.1:80;max-conns=lots");
    }

    // ---- helpers ----

    @Test
    void splitUnescapedKeepsEscapedSeparators() {
        assertThat(LauncherOptions.splitUnescaped("a;b\\;c;;d\\", ';')).containsExactly("a", "b\\;c", "", "d\\");
        assertThat(LauncherOptions.splitUnescaped("", ';')).containsExactly("");
    }

    @Test
    void parseDurationRejectsWhatIsNotADuration() {
        assertThat(LauncherOptions.parseDuration("0")).isEqualTo(Duration.ZERO);
        assertThat(LauncherOptions.parseDuration("10ms")).isEqualTo(Duration.ofMillis(10));
        assertThat(LauncherOptions.parseDuration("2S")).isNull();
        assertThat(LauncherOptions.parseDuration("s")).isNull();
        assertThat(LauncherOptions.parseDuration("")).isNull();
        assertThat(LauncherOptions.parseDuration("P")).isNull();
        assertThat(LauncherOptions.parseDuration("1 s")).isNull();
    }

    // ---- the PROXY protocol ----

    @Test
    void acceptProxyForEveryListenerAndPerPort() {
        LauncherOptions o = parse("--route", "tls=10.0.0.1:443",
                "--accept-proxy", "optional;trusted=10.0.0.0/8,fd00::/8",
                "--accept-proxy=required;trusted=192.0.2.1;listener=8443");
        assertThat(o.acceptProxies()).containsExactly(
                new LauncherOptions.AcceptProxy(0, ProxyProtocolMode.OPTIONAL,
                        List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"))),
                new LauncherOptions.AcceptProxy(8443, ProxyProtocolMode.REQUIRED, List.of(Cidr.parse("192.0.2.1/32"))));
        assertThat(o.toBuilder().build()).isNotNull();
    }

    @Test
    void acceptProxyErrorsNameTheValueAndWhatWasExpected() {
        assertError("--accept-proxy \"sometimes;trusted=10.0.0.0/8\": mode \"sometimes\" (expected: required or "
                + "optional, then ;trusted=CIDR,...)", "--route", "tls=10.0.0.1:443", "--accept-proxy",
                "sometimes;trusted=10.0.0.0/8");
        assertError("--accept-proxy \"required\": no trusted= (expected: the networks of the proxies in front, "
                + "e.g. trusted=10.0.0.0/8,fd00::/8)", "--route", "tls=10.0.0.1:443", "--accept-proxy", "required");
        assertErrorContains(List.of(LISTEN, ADDR, "--route", "tls=10.0.0.1:443", "--accept-proxy",
                "required;trusted=10.0.0.0/33"), "--accept-proxy \"required;trusted=10.0.0.0/33\": trusted cidr");
        assertErrorContains(List.of(LISTEN, ADDR, "--route", "tls=10.0.0.1:443", "--accept-proxy",
                "required;trusted=10.0.0.0/8;port=1"), "option \"port=1\"");
        assertErrorContains(List.of(LISTEN, ADDR, "--route", "tls=10.0.0.1:443",
                "--accept-proxy", "required;trusted=10.0.0.0/8;listener=9",
                "--accept-proxy", "optional;trusted=10.0.0.0/8;listener=9"), "listener 9 already has a --accept-proxy");
    }

    @Test
    void sendProxyRouteOption() {
        assertThat(onlyTarget("tls=10.0.0.1:443;send-proxy=v2").sendProxyProtocol()).isEqualTo(ProxyProtocolVersion.V2);
        assertThat(onlyTarget("tls=10.0.0.1:443;send-proxy=v1").sendProxyProtocol()).isEqualTo(ProxyProtocolVersion.V1);
        assertThat(onlyTarget("tls=10.0.0.1:443").sendProxyProtocol()).isNull();
        assertError("--route \"tls=10.0.0.1:443;send-proxy=v3\": send-proxy \"v3\" (expected: v1 or v2)",
                "--route", "tls=10.0.0.1:443;send-proxy=v3");
    }

    // ---- admission limits ----

    @Test
    void withoutLimitFlagsNothingIsLimited() {
        assertThat(parse("--fallback", "127.0.0.1:9000").limits()).isSameAs(io.refractium.AdmissionLimits.none());
    }

    @Test
    void everyLimitFlagSetsItsLimit() {
        io.refractium.AdmissionLimits l = parse("--fallback", "127.0.0.1:9000", "--max-connections", "1000",
                "--max-connections-per-listener=500", "--max-connections-per-ip", "20", "--max-detecting", "300",
                "--rate-per-ip", "0.5/s,burst=5", "--allow", "10.0.0.0/8", "--allow", "fd00::/8",
                "--deny", "10.1.0.0/16", "--ipv6-prefix", "56", "--max-tracked-ips", "5000",
                "--reject-with-rst").limits();
        assertThat(l.maxConnections()).isEqualTo(1000);
        assertThat(l.maxConnectionsPerListener()).isEqualTo(500);
        assertThat(l.maxConnectionsPerIp()).isEqualTo(20);
        assertThat(l.maxDetecting()).isEqualTo(300);
        assertThat(l.ratePerIp()).isEqualTo(0.5);
        assertThat(l.burstPerIp()).isEqualTo(5);
        assertThat(l.allow()).containsExactly(io.refractium.Cidr.parse("10.0.0.0/8"), io.refractium.Cidr.parse("fd00::/8"));
        assertThat(l.deny()).containsExactly(io.refractium.Cidr.parse("10.1.0.0/16"));
        assertThat(l.ipv6PrefixLength()).isEqualTo(56);
        assertThat(l.maxTrackedAddresses()).isEqualTo(5000);
        assertThat(l.rejectWithRst()).isTrue();
    }

    @Test
    void aRateWithoutBurstHasTheRateRoundedUp() {
        io.refractium.AdmissionLimits l = parse("--fallback", "127.0.0.1:9000", "--rate-per-ip", "10/s").limits();
        assertThat(l.ratePerIp()).isEqualTo(10.0);
        assertThat(l.burstPerIp()).isEqualTo(10);
    }

    @Test
    void theLimitsReachTheBuilder() {
        try (Refractium r = parse("--fallback", "127.0.0.1:9000", "--max-connections-per-ip", "3").toBuilder()
                .build()) {
            assertThat(r.refusals()).containsEntry(io.refractium.hook.RefusalReason.MAX_CONNECTIONS_PER_IP, 0L);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--max-connections|0|--max-connections \"0\" (expected: a connection count >= 1)",
        "--max-connections-per-ip|x|--max-connections-per-ip \"x\" (expected: a connection count >= 1)",
        "--max-connections-per-listener|-1|--max-connections-per-listener \"-1\" (expected: a connection count >= 1)",
        "--max-detecting|0|--max-detecting \"0\" (expected: a connection count >= 1)",
        "--rate-per-ip|10|--rate-per-ip \"10\" (expected: R/s[,burst=B], e.g. 10/s or 0.5/s,burst=5)",
        "--rate-per-ip|0/s|--rate-per-ip \"0/s\": ratePerIp: 0.0 (expected: > 0 and <= 1000000 connections per second)",
        "--rate-per-ip|5/s,burst=0|--rate-per-ip \"5/s,burst=0\": burst (expected: a burst >= 1)",
        "--allow|10.0.0.0/33|--allow \"10.0.0.0/33\": allow: cidr: \"10.0.0.0/33\" (expected: a prefix length 0-32)",
        "--deny|nope|--deny \"nope\": deny: cidr: \"nope\" (expected: an IP network such as 10.0.0.0/8 or fd00::/8)",
        "--ipv6-prefix|129|--ipv6-prefix \"129\" (expected: a prefix length 1-128)",
        "--max-tracked-ips|0|--max-tracked-ips \"0\" (expected: an address count >= 1)",
    })
    void badLimitValuesNameTheFlagAndTheValue(String flag, String value, String message) {
        assertError(message, "--fallback", "127.0.0.1:9000", flag, value);
    }

    @Test
    void limitFlagsGivenTwiceOrWithAValueWhereNoneIsTakenAreErrors() {
        assertError("--max-connections is given twice (expected: at most once)", "--fallback", "127.0.0.1:9000",
                "--max-connections", "5", "--max-connections", "6");
        assertError("--reject-with-rst takes no value (got \"yes\")", "--fallback", "127.0.0.1:9000",
                "--reject-with-rst=yes");
    }

    @Test
    void aPerIpCapAboveTheGlobalCapIsAnError() {
        assertError("--max-connections-per-ip: 50 (expected: <= --max-connections 10); lower it or raise "
                + "--max-connections", "--fallback", "127.0.0.1:9000", "--max-connections", "10",
                "--max-connections-per-ip", "50");
    }

    @Test
    void theUsageListsEveryLimitFlag() {
        assertThat(LauncherOptions.usage()).contains("--max-connections N", "--max-connections-per-listener N",
                "--max-connections-per-ip N", "--max-detecting N", "--rate-per-ip R/s[,burst=B]", "--allow CIDR",
                "--deny CIDR", "--ipv6-prefix N", "--max-tracked-ips N", "--reject-with-rst");
    }

    @Test
    void udpListenAddressesAloneAreEnough() {
        LauncherOptions o = LauncherOptions.parse(List.of("--listen-udp", "127.0.0.1:5353", "--listen-udp", "[::1]:0",
                "--route", "dns=127.0.0.1:53"));
        assertThat(o.listenAddresses()).isEmpty();
        assertThat(o.udpListenAddresses()).extracting(java.net.InetSocketAddress::getPort).containsExactly(5353, 0);
        assertErrorContains(List.of("--listen-udp", "nowhere"), "--listen-udp \"nowhere\"");
    }

    // ---- bandwidth caps ----

    @Test
    void withoutBandwidthFlagsNothingIsCapped() {
        assertThat(parse("--fallback", "127.0.0.1:9000").bandwidth()).isSameAs(io.refractium.BandwidthLimits.none());
    }

    @Test
    void everyBandwidthFlagSetsItsCap() {
        io.refractium.BandwidthLimits b = parse("--route", "http=127.0.0.1:80", "--route", "tls@a.example=10.0.0.1:443",
                "--fallback", "127.0.0.1:9000",
                "--bandwidth-per-connection", "512k:10m", "--bandwidth-per-ip=1M:0", "--bandwidth-per-route", "0:2g",
                "--bandwidth-per-target", "16384:32k", "--bandwidth-per-target", "tls@a.example=64k:64k",
                "--bandwidth-per-target", "fallback=0:0").bandwidth();
        assertThat(b.perConnection()).isEqualTo(new io.refractium.BandwidthLimits.Rate(512 * 1024, 10 << 20));
        assertThat(b.perIp()).isEqualTo(new io.refractium.BandwidthLimits.Rate(1 << 20, 0));
        assertThat(b.perRoute()).isEqualTo(new io.refractium.BandwidthLimits.Rate(0, 2L << 30));
        assertThat(b.perTarget()).isEqualTo(new io.refractium.BandwidthLimits.Rate(16384, 32768));
        assertThat(b.target("tls@a.example")).isEqualTo(new io.refractium.BandwidthLimits.Rate(65536, 65536));
        assertThat(b.target("fallback").isUnlimited()).isTrue();
        assertThat(b.target("http")).isEqualTo(b.perTarget());
    }

    @Test
    void theBandwidthCapsReachTheBuilder() {
        LauncherOptions o = parse("--route", "http=127.0.0.1:80", "--bandwidth-per-target", "http=1m:1m");
        try (Refractium r = o.toBuilder().build()) {
            assertThat(r.routes().targets()).containsKey("http");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--bandwidth-per-connection|1m|--bandwidth-per-connection \"1m\" (expected: UP:DOWN in bytes per second, "
            + "each 0 (no cap) or a size such as 512k, 10m or 1g (k = 1024), e.g. 1m:10m)",
        "--bandwidth-per-ip|1m:5x|--bandwidth-per-ip \"1m:5x\": \"5x\" (expected: UP:DOWN in bytes per second, "
            + "each 0 (no cap) or a size such as 512k, 10m or 1g (k = 1024), e.g. 1m:10m)",
        "--bandwidth-per-route|-1:0|--bandwidth-per-route \"-1:0\": \"-1\" (expected: UP:DOWN in bytes per second, "
            + "each 0 (no cap) or a size such as 512k, 10m or 1g (k = 1024), e.g. 1m:10m)",
        "--bandwidth-per-ip|1.5m:0|--bandwidth-per-ip \"1.5m:0\": \"1.5m\" (expected: UP:DOWN in bytes per second, "
            + "each 0 (no cap) or a size such as 512k, 10m or 1g (k = 1024), e.g. 1m:10m)",
        "--bandwidth-per-connection|1k:0|--bandwidth-per-connection \"1k:0\": perConnection upload: 1024 (expected: 0 "
            + "for no limit, or 16384 to 1099511627776 bytes per second)",
        "--bandwidth-per-connection|0:2048g|--bandwidth-per-connection \"0:2048g\": \"2048g\" (expected: at most "
            + "1099511627776 bytes per second, 1024g)",
        "--bandwidth-per-target|=1m:1m|--bandwidth-per-target \"=1m:1m\": empty NAME (expected: [NAME=]UP:DOWN in bytes "
            + "per second, each 0 (no cap) or a size such as 512k, 10m or 1g (k = 1024), e.g. 1m:10m or web=512k:2m)",
    })
    void badBandwidthValuesNameTheFlagAndTheValue(String flag, String value, String message) {
        assertError(message, "--fallback", "127.0.0.1:9000", flag, value);
    }

    @Test
    void bandwidthFlagsGivenTwiceOrForAnUnknownTargetAreErrors() {
        assertError("--bandwidth-per-ip is given twice (expected: at most once)", "--fallback", "127.0.0.1:9000",
                "--bandwidth-per-ip", "1m:1m", "--bandwidth-per-ip", "2m:2m");
        assertError("--bandwidth-per-target UP:DOWN is given twice (expected: at most once)", "--fallback",
                "127.0.0.1:9000", "--bandwidth-per-target", "1m:1m", "--bandwidth-per-target", "2m:2m");
        assertError("--bandwidth-per-target \"fallback=2m:2m\": perTarget \"fallback\": given twice (expected: one cap "
                + "per target)", "--fallback", "127.0.0.1:9000", "--bandwidth-per-target", "fallback=1m:1m",
                "--bandwidth-per-target", "fallback=2m:2m");
        assertError("--bandwidth-per-target \"htp=...\": no target named \"htp\" (expected one of [fallback, http])",
                "--fallback", "127.0.0.1:9000", "--route", "http=127.0.0.1:80", "--bandwidth-per-target", "htp=1m:1m");
    }

    @Test
    void theUsageListsEveryBandwidthFlag() {
        assertThat(LauncherOptions.usage()).contains("--bandwidth-per-connection UP:DOWN", "--bandwidth-per-ip UP:DOWN",
                "--bandwidth-per-route UP:DOWN", "--bandwidth-per-target [NAME=]UP:DOWN");
    }
}
