package io.refractium.internal.admit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.AdmissionLimits;
import io.refractium.hook.RefusalReason;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link AdmissionControl} on synthetic addresses, with its own clock: no sockets. */
class AdmissionControlTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private AdmissionControl control(AdmissionLimits limits) {
        return new AdmissionControl(limits, now::get);
    }

    private static InetAddress v4(int i) {
        try {
            return InetAddress.getByAddress(new byte[] {10, (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aHundredThousandDistinctAddressesKeepTheStateBounded() {
        AdmissionControl c = control(AdmissionLimits.builder().ratePerIp(5, 10).maxConnectionsPerIp(3)
                .maxTrackedAddresses(1000).build());
        for (int i = 0; i < 100_000; i++) {
            Ticket t = c.admit(v4(i), "l");
            assertThat(t.isRefused()).isFalse();
            t.release();
        }
        assertThat(c.trackedBuckets()).isLessThanOrEqualTo(1000).isGreaterThan(0);
        assertThat(c.addressesWithOpenConnections()).isZero();
        assertThat(c.openConnections()).isZero();
    }

    @Test
    void openCountsAreBoundedByTheGlobalCapWhenConnectionsStayOpen() {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnections(500).maxConnectionsPerIp(2)
                .ratePerIp(100).maxTrackedAddresses(1000).build());
        List<Ticket> open = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            Ticket t = c.admit(v4(i), "l");
            if (!t.isRefused()) {
                open.add(t);
            }
        }
        assertThat(open).hasSize(500);
        assertThat(c.addressesWithOpenConnections()).isEqualTo(500);
        assertThat(c.trackedBuckets()).isLessThanOrEqualTo(1000);
        assertThat(c.refusals().get(RefusalReason.MAX_CONNECTIONS)).isEqualTo(100_000 - 500);
        open.forEach(Ticket::release);
        assertThat(c.addressesWithOpenConnections()).isZero();
        assertThat(c.openConnections()).isZero();
    }

    @Test
    void anAddressWithOpenConnectionsKeepsItsCountWhileAFloodEvictsBuckets() {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnectionsPerIp(1).ratePerIp(1000)
                .maxTrackedAddresses(10).build());
        Ticket held = c.admit(ip("192.0.2.1"), "l");
        assertThat(held.isRefused()).isFalse();
        for (int i = 0; i < 10_000; i++) {
            c.admit(v4(i), "l").release();
        }
        assertThat(c.trackedBuckets()).isLessThanOrEqualTo(10);
        Ticket again = c.admit(ip("192.0.2.1"), "l");
        assertThat(again.refusal().reason()).isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_IP);
        assertThat(again.refusal().limit()).isEqualTo("maxConnectionsPerIp=1");
        held.release();
        assertThat(c.admit(ip("192.0.2.1"), "l").isRefused()).isFalse();
    }

    @Test
    void countsReturnToZeroAfterReleaseAndReleaseIsIdempotent() {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnections(10).maxConnectionsPerListener(5)
                .maxConnectionsPerIp(5).maxDetecting(5).build());
        List<Ticket> tickets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tickets.add(c.admit(ip("192.0.2.7"), "a"));
        }
        assertThat(c.openConnections()).isEqualTo(5);
        assertThat(c.detectingConnections()).isEqualTo(5);
        assertThat(c.openConnections(ip("192.0.2.7"))).isEqualTo(5);
        assertThat(c.admit(ip("192.0.2.8"), "a").refusal().reason()).isEqualTo(RefusalReason.MAX_DETECTING);
        tickets.forEach(Ticket::endDetection);
        assertThat(c.detectingConnections()).isZero();
        assertThat(c.admit(ip("192.0.2.8"), "a").refusal().reason())
                .isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_LISTENER);
        assertThat(c.detectingConnections()).as("the refused one gave its detection slot back").isZero();
        assertThat(c.admit(ip("192.0.2.7"), "b").refusal().reason()).isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_IP);
        assertThat(c.openConnections()).isEqualTo(5);
        for (Ticket t : tickets) {
            t.release();
            t.release();
            t.endDetection();
        }
        assertThat(c.openConnections()).isZero();
        assertThat(c.detectingConnections()).isZero();
        assertThat(c.openConnections(ip("192.0.2.7"))).isZero();
        assertThat(c.addressesWithOpenConnections()).isZero();
    }

    @Test
    void theTokenBucketAllowsTheBurstThenTheRate() {
        AdmissionControl c = control(AdmissionLimits.builder().ratePerIp(10, 3).build());
        InetAddress a = ip("192.0.2.1");
        for (int i = 0; i < 3; i++) {
            c.admit(a, "l").release();
        }
        Ticket refused = c.admit(a, "l");
        assertThat(refused.refusal().reason()).isEqualTo(RefusalReason.RATE_PER_IP);
        assertThat(refused.refusal().limit()).isEqualTo("ratePerIp=10.0/s,burst=3");
        assertThat(c.admit(ip("192.0.2.2"), "l").isRefused()).as("another address has its own bucket").isFalse();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(c.admit(a, "l").isRefused()).as("one token after 100 ms").isFalse();
        assertThat(c.admit(a, "l").isRefused()).isTrue();
        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        for (int i = 0; i < 3; i++) {
            assertThat(c.admit(a, "l").isRefused()).as("the full burst again after a long pause").isFalse();
        }
        assertThat(c.admit(a, "l").isRefused()).isTrue();
        assertThat(c.refusals().get(RefusalReason.RATE_PER_IP)).isEqualTo(3);
    }

    @Test
    void ipv6ClientsAreGroupedByPrefix() {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnectionsPerIp(1).build());
        assertThat(c.admit(ip("2001:db8::1"), "l").isRefused()).isFalse();
        assertThat(c.admit(ip("2001:db8::ffff:2"), "l").isRefused()).as("same /64").isTrue();
        assertThat(c.admit(ip("2001:db8:0:1::1"), "l").isRefused()).as("next /64").isFalse();
        assertThat(c.openConnections(ip("2001:db8::99"))).isEqualTo(1);

        AdmissionControl narrow = control(AdmissionLimits.builder().maxConnectionsPerIp(1).ipv6PrefixLength(128)
                .build());
        assertThat(narrow.admit(ip("2001:db8::1"), "l").isRefused()).isFalse();
        assertThat(narrow.admit(ip("2001:db8::2"), "l").isRefused()).isFalse();

        AdmissionControl wide = control(AdmissionLimits.builder().maxConnectionsPerIp(1).ipv6PrefixLength(48)
                .build());
        assertThat(wide.admit(ip("2001:db8:1:1::1"), "l").isRefused()).isFalse();
        assertThat(wide.admit(ip("2001:db8:1:2::1"), "l").isRefused()).as("same /48").isTrue();
        assertThat(wide.admit(ip("2001:db8:2::1"), "l").isRefused()).isFalse();
    }

    @Test
    void anIpv4MappedAddressIsItsIpv4Address() throws Exception {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnectionsPerIp(1).deny("198.51.100.0/24")
                .build());
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 192;
        mapped[13] = 0;
        mapped[14] = 2;
        mapped[15] = 1;
        assertThat(c.admit(ip("192.0.2.1"), "l").isRefused()).isFalse();
        assertThat(c.admit(java.net.Inet6Address.getByAddress(null, mapped, -1), "l").refusal().reason())
                .isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_IP);
    }

    @Test
    void denyWinsOverAllowAndTheRefusalNamesTheNetwork() {
        AdmissionControl c = control(AdmissionLimits.builder().allow("10.0.0.0/8").deny("10.1.0.0/16").build());
        assertThat(c.admit(ip("10.2.0.1"), "l").isRefused()).isFalse();
        Ticket denied = c.admit(ip("10.1.2.3"), "l");
        assertThat(denied.refusal().reason()).isEqualTo(RefusalReason.DENIED);
        assertThat(denied.refusal().limit()).isEqualTo("deny=10.1.0.0/16");
        Ticket outside = c.admit(ip("192.0.2.1"), "l");
        assertThat(outside.refusal().reason()).isEqualTo(RefusalReason.NOT_ALLOWED);
        assertThat(outside.refusal().limit()).isEqualTo("allow=[10.0.0.0/8]");
        assertThat(c.refusals()).containsEntry(RefusalReason.DENIED, 1L).containsEntry(RefusalReason.NOT_ALLOWED, 1L)
                .containsEntry(RefusalReason.MAX_CONNECTIONS, 0L).hasSize(RefusalReason.values().length);
    }

    @Test
    void withoutLimitsEveryoneIsAdmittedAndNothingIsTracked() {
        AdmissionControl c = control(AdmissionLimits.none());
        for (int i = 0; i < 1000; i++) {
            Ticket t = c.admit(v4(i), "l");
            assertThat(t.isRefused()).isFalse();
            assertThat(t.holdsDetectionSlot()).isFalse();
        }
        assertThat(c.openConnections()).isEqualTo(1000);
        assertThat(c.addressesWithOpenConnections()).isZero();
        assertThat(c.trackedBuckets()).isZero();
    }

    @Test
    void aPendingAddressTakesOnlyTheAddressFreeCapsUntilTheRealClientIsKnown() {
        AdmissionControl c = control(AdmissionLimits.builder().maxConnections(10).maxConnectionsPerListener(10)
                .maxDetecting(10).maxConnectionsPerIp(1).ratePerIp(1, 2).deny("192.0.2.66/32").build());
        Ticket a = c.admitPendingAddress("l");
        Ticket b = c.admitPendingAddress("l");
        assertThat(a.isAddressPending()).isTrue();
        assertThat(c.openConnections()).isEqualTo(2);
        assertThat(c.detectingConnections()).isEqualTo(2);
        assertThat(c.addressesWithOpenConnections()).as("no address counted yet").isZero();
        assertThat(c.trackedBuckets()).as("no token taken yet").isZero();

        assertThat(a.admitAddress(ip("192.0.2.1"))).isNull();
        assertThat(a.isAddressPending()).isFalse();
        assertThat(a.admitAddress(ip("192.0.2.9"))).as("once only").isNull();
        assertThat(c.openConnections(ip("192.0.2.1"))).isEqualTo(1);
        assertThat(c.openConnections(ip("192.0.2.9"))).isZero();
        assertThat(b.admitAddress(ip("192.0.2.1")).reason()).isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_IP);
        assertThat(c.openConnections(ip("192.0.2.1"))).as("the refused one holds no slot").isEqualTo(1);

        Ticket denied = c.admitPendingAddress("l");
        assertThat(denied.admitAddress(ip("192.0.2.66")).reason()).isEqualTo(RefusalReason.DENIED);
        Ticket rate = c.admitPendingAddress("l");
        assertThat(rate.admitAddress(ip("192.0.2.1")).reason()).as("third token of a burst of 2")
                .isEqualTo(RefusalReason.RATE_PER_IP);
        Ticket late = c.admitPendingAddress("l");
        late.release();
        assertThat(late.admitAddress(ip("192.0.2.2"))).as("released: nothing taken").isNull();
        assertThat(c.openConnections(ip("192.0.2.2"))).isZero();

        for (Ticket t : List.of(a, b, denied, rate)) {
            t.release();
        }
        assertThat(c.openConnections()).isZero();
        assertThat(c.detectingConnections()).isZero();
        assertThat(c.addressesWithOpenConnections()).isZero();
        assertThat(c.refusals().get(RefusalReason.MAX_CONNECTIONS_PER_IP)).isEqualTo(1);
        assertThat(c.refusals().get(RefusalReason.DENIED)).isEqualTo(1);
        assertThat(c.refusals().get(RefusalReason.RATE_PER_IP)).isEqualTo(1);
    }
}
