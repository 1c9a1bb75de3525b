package io.refractium.examples.hooks;

import io.refractium.Cidr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refractium.ForwardTarget;
import io.refractium.Route;
import io.refractium.hook.Admission;
import io.refractium.hook.CloseReason;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.DetectionFailure;
import io.refractium.spi.AttributeKey;
import io.refractium.spi.ProtocolAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoggingHookTest {

    private final List<String> lines = new ArrayList<>();

    private static ConnectionInfo connection(long id, String client, String protocol, ProtocolAttributes attributes) {
        return connection(id, client, protocol, attributes, null);
    }

    private static ConnectionInfo connection(long id, String client, String protocol, ProtocolAttributes attributes,
                                             DetectionFailure failure) {
        return new ConnectionInfo() {
            @Override
            public long id() {
                return id;
            }

            @Override
            public InetSocketAddress clientAddress() {
                return new InetSocketAddress(client, 40000);
            }

            @Override
            public InetSocketAddress localAddress() {
                return new InetSocketAddress("127.0.0.1", 8443);
            }

            @Override
            public Instant acceptedAt() {
                return Instant.EPOCH;
            }

            @Override
            public String protocol() {
                return protocol;
            }

            @Override
            public ProtocolAttributes attributes() {
                return attributes;
            }

            @Override
            public Route route() {
                return null;
            }

            @Override
            public DetectionFailure detectionFailure() {
                return failure;
            }

            @Override
            public ForwardTarget target() {
                return null;
            }
        };
    }

    private static ConnectionSummary summary(long in, long out, CloseReason reason, InetSocketAddress backend) {
        return new ConnectionSummary(in, out, Duration.ofMillis(41), reason, backend);
    }

    @Test
    void logsProtocolAttributesBytesDurationAndReason() {
        LoggingHook hook = new LoggingHook(lines::add);
        ProtocolAttributes attributes = ProtocolAttributes.builder()
                .put(AttributeKey.SNI, "a.test")
                .put(AttributeKey.ALPN, List.of("h2", "http/1.1"))
                .build();
        ConnectionInfo c = connection(7, "127.0.0.1", "tls", attributes);
        assertThat(hook.onAccepted(c)).isEqualTo(Admission.ACCEPT);
        hook.onClosed(c, summary(517, 2150, CloseReason.COMPLETED, new InetSocketAddress("127.0.0.1", 40211)));
        assertThat(lines).containsExactly("#7 127.0.0.1:40000 tls tls.sni=a.test tls.alpn=[h2, http/1.1] -> "
                + "127.0.0.1:40211: 517 B in, 2.1 KiB out, 41 ms, COMPLETED");
    }

    @Test
    void logsWhyDetectionFailed() {
        LoggingHook hook = new LoggingHook(lines::add);
        ConnectionInfo c = connection(8, "::1", null, ProtocolAttributes.EMPTY, DetectionFailure.SILENCE);
        hook.onAccepted(c);
        hook.onClosed(c, summary(0, 0, CloseReason.DETECTION_FAILED, null));
        hook.onClosed(connection(9, "::1", null, ProtocolAttributes.EMPTY), summary(0, 0, CloseReason.REFUSED, null));
        assertThat(lines).containsExactly(
                "#8 [0:0:0:0:0:0:0:1]:40000 no protocol (SILENCE) -> no backend: 0 B in, 0 B out, 41 ms, DETECTION_FAILED",
                "#9 [0:0:0:0:0:0:0:1]:40000 no protocol (not detected) -> no backend: 0 B in, 0 B out, 41 ms, REFUSED");
    }

    @Test
    void refusesClientsFromTheNetworksWithOneLine() {
        LoggingHook hook = new LoggingHook(lines::add,
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("127.0.0.2")));
        ConnectionInfo refused = connection(9, "10.1.2.3", null, ProtocolAttributes.EMPTY);
        ConnectionInfo alsoRefused = connection(10, "127.0.0.2", null, ProtocolAttributes.EMPTY);
        ConnectionInfo accepted = connection(11, "127.0.0.1", "http", ProtocolAttributes.EMPTY);
        assertThat(hook.onAccepted(refused)).isEqualTo(Admission.REFUSE);
        assertThat(hook.onAccepted(alsoRefused)).isEqualTo(Admission.REFUSE);
        assertThat(hook.onAccepted(accepted)).isEqualTo(Admission.ACCEPT);
        hook.onClosed(refused, summary(0, 0, CloseReason.REFUSED, null));
        hook.onClosed(alsoRefused, summary(0, 0, CloseReason.REFUSED, null));
        hook.onClosed(accepted, summary(80, 120, CloseReason.COMPLETED, new InetSocketAddress("127.0.0.1", 9080)));
        assertThat(lines).containsExactly(
                "#9 10.1.2.3:40000 refused: in 10.0.0.0/8",
                "#10 127.0.0.2:40000 refused: in 127.0.0.2/32",
                "#11 127.0.0.1:40000 http -> 127.0.0.1:9080: 80 B in, 120 B out, 41 ms, COMPLETED");
    }

    @Test
    void bytesUseBinaryUnits() {
        assertThat(LoggingHook.bytes(0)).isEqualTo("0 B");
        assertThat(LoggingHook.bytes(1023)).isEqualTo("1023 B");
        assertThat(LoggingHook.bytes(1024)).isEqualTo("1.0 KiB");
        assertThat(LoggingHook.bytes(3L * 1024 * 1024 + 1)).isEqualTo("3.0 MiB");
        assertThat(LoggingHook.bytes(5L * 1024 * 1024 * 1024)).isEqualTo("5.0 GiB");
    }

    @Test
    void networksMatchTheirAddressesOnly() throws Exception {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.contains(InetAddress.getByName("10.255.0.1"))).isTrue();
        assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(ten.contains(InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 10, 1, 2, 3})))
                .isTrue();
        assertThat(ten.contains(InetAddress.getByName("::1"))).isFalse();
        assertThat(ten.contains(null)).isFalse();

        Cidr odd = Cidr.parse("192.168.1.128/25");
        assertThat(odd.contains(InetAddress.getByName("192.168.1.200"))).isTrue();
        assertThat(odd.contains(InetAddress.getByName("192.168.1.127"))).isFalse();

        Cidr v6 = Cidr.parse("fd00::/8");
        assertThat(v6.contains(InetAddress.getByName("fd12::1"))).isTrue();
        assertThat(v6.contains(InetAddress.getByName("fe80::1"))).isFalse();

        Cidr all = Cidr.parse("0.0.0.0/0");
        assertThat(all.contains(InetAddress.getByName("203.0.113.9"))).isTrue();
        assertThat(Cidr.parse("10.0.0.1/8")).isEqualTo(ten).hasSameHashCodeAs(ten);
        assertThat(ten).hasToString("10.0.0.0/8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "example.com", "10.0.0/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "fd00::/129",
        "localhost", "1.2.3.4.5"})
    void badNetworksAreRejectedWithTheirValue(String cidr) {
        assertThatThrownBy(() -> Cidr.parse(cidr))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("cidr: \"" + cidr + "\" (expected: ");
    }
}
