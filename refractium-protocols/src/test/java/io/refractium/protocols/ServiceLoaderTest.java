package io.refractium.protocols;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.protocols.dns.DnsDetector;
import io.refractium.protocols.http.Http2PrefaceDetector;
import io.refractium.protocols.http.HttpDetector;
import io.refractium.protocols.ssh.SshDetector;
import io.refractium.protocols.tls.TlsDetector;
import io.refractium.spi.RefractiumProtocol;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ServiceLoaderTest {

    @Test
    void serviceLoaderFindsEveryDetector() {
        List<RefractiumProtocol> found = ServiceLoader.load(RefractiumProtocol.class).stream()
                .map(ServiceLoader.Provider::get)
                .collect(Collectors.toList());
        assertThat(found).extracting(RefractiumProtocol::id)
                .containsExactlyInAnyOrder("tls", "http", "http2", "ssh", "dns");
        assertThat(found).extracting(p -> (Object) p.getClass()).containsExactlyInAnyOrder(TlsDetector.class,
                HttpDetector.class, Http2PrefaceDetector.class, SshDetector.class, DnsDetector.class);
        assertThat(found).allSatisfy(p -> assertThat(p.maxBytes()).isPositive());
    }
}
