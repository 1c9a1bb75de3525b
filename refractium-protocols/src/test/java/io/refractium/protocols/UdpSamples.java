package io.refractium.protocols;

import java.util.Arrays;
import java.util.Random;

/** First datagrams of UDP flows, for the UDP detectors' tests. */
public final class UdpSamples {

    private UdpSamples() {
    }

    /** The captured STUN message (TURN Allocate); a STUN message is the same over UDP and TCP. */
    public static byte[] stunAllocate() {
        return Samples.captured("stun");
    }

    /** An RFC 5769 style Binding request without attributes. */
    public static byte[] stunBinding() {
        return Samples.hex("000100002112a442b7e7a701bc34d686fa87dfae");
    }

    /** The captured OpenVPN hard reset, as a UDP datagram: without the TCP length prefix. */
    public static byte[] openVpn(String sample) {
        byte[] tcp = Samples.captured(sample);
        return Arrays.copyOfRange(tcp, 2, tcp.length);
    }

    /**
     * A WireGuard handshake initiation (whitepaper §5.4.2) with random (seeded) sender index, ephemeral key,
     * encrypted fields and {@code mac1}, and {@code mac2} zero as a client without a cookie sends it.
     */
    public static byte[] wireGuardInitiation(long seed) {
        byte[] b = new byte[148];
        new Random(seed).nextBytes(b);
        b[0] = 1;
        b[1] = 0;
        b[2] = 0;
        b[3] = 0;
        Arrays.fill(b, 132, 148, (byte) 0);
        return b;
    }

    /** A DNS query for {@code example.com} with EDNS, as a UDP datagram. */
    public static byte[] dnsQuery() {
        return Samples.dnsQuery("example.com", 1, true);
    }
}
