package io.refractium.protocols.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import io.refractium.ForwardTarget;
import io.refractium.Refractium;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.Detection;
import io.refractium.hook.Hook;
import io.refractium.protocols.dns.DnsDetector;
import io.refractium.testing.TestDnsServer;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Netty's DNS resolver through a UDP listener, detected by the real {@link DnsDetector} and routed by the same
 * {@code dns} route as DNS over TCP, to a UDP DNS server.
 */
@Timeout(60)
class DnsOverUdpTest {

    @Test
    void aRealResolverGetsItsAnswersThroughTheProxy() throws Exception {
        Queue<String> names = new ConcurrentLinkedQueue<>();
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (TestDnsServer dns = new TestDnsServer();
             Refractium r = Refractium.builder()
                     .listen("127.0.0.1", 0)
                     .listenUdp("127.0.0.1", 0)
                     .protocol(new DnsDetector())
                     .route("dns", ForwardTarget.of("dns", "127.0.0.1:" + dns.address().getPort()))
                     .shutdownGracePeriod(Duration.ZERO)
                     .hook(new Hook() {
                         @Override
                         public void onDetected(ConnectionInfo c, Detection d) {
                             names.add(String.valueOf(d.attributes().get(DnsDetector.QNAME)));
                         }
                     })
                     .build().start()) {
            dns.answer("one.example", 60, "192.0.2.1");
            dns.answer("two.example", 60, "192.0.2.2");
            DnsNameResolver resolver = new DnsNameResolverBuilder(group.next())
                    .datagramChannelType(NioDatagramChannel.class)
                    .nameServerProvider(new SingletonDnsServerAddressStreamProvider(r.udpLocalAddresses().get(0)))
                    .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                    .queryTimeoutMillis(3000)
                    .searchDomains(List.of())
                    .ndots(1)
                    .build();
            try {
                assertThat(resolver.resolve("one.example").get(5, TimeUnit.SECONDS).getHostAddress())
                        .isEqualTo("192.0.2.1");
                assertThat(resolver.resolve("two.example").get(5, TimeUnit.SECONDS).getHostAddress())
                        .isEqualTo("192.0.2.2");
            } finally {
                resolver.close();
            }
            assertThat(names).anySatisfy(n -> assertThat(n).startsWith("one.example"));
            assertThat(r.activeUdpFlows()).isPositive();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
