package io.refractium.internal.admit;

import java.net.InetAddress;

/**
 * One client for the per-address limits: an IPv4 address (an IPv4-mapped IPv6 address counts as its IPv4 address),
 * or the first {@code prefixLength} bits of an IPv6 address. Immutable.
 *
 * @param hi the first 64 bits (IPv6), or 0 (IPv4)
 * @param lo the last 64 bits (IPv6, masked), or the IPv4 address
 * @param v6 whether it is an IPv6 prefix
 */
public record IpKey(long hi, long lo, boolean v6) {

    /**
     * Returns the key of an address.
     *
     * @param address the client's address
     * @param ipv6PrefixLength how many leading bits of an IPv6 address make one client
     * @return the key
     */
    public static IpKey of(InetAddress address, int ipv6PrefixLength) {
        byte[] a = address.getAddress();
        if (a.length == 4) {
            return new IpKey(0, toLong(a, 0, 4), false);
        }
        if (isV4Mapped(a)) {
            return new IpKey(0, toLong(a, 12, 4), false);
        }
        long hi = toLong(a, 0, 8);
        long lo = toLong(a, 8, 8);
        if (ipv6PrefixLength <= 64) {
            hi &= ipv6PrefixLength == 0 ? 0 : -1L << (64 - ipv6PrefixLength);
            lo = 0;
        } else if (ipv6PrefixLength < 128) {
            lo &= -1L << (128 - ipv6PrefixLength);
        }
        return new IpKey(hi, lo, true);
    }

    private static long toLong(byte[] a, int from, int n) {
        long v = 0;
        for (int i = from; i < from + n; i++) {
            v = v << 8 | (a[i] & 0xff);
        }
        return v;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }
}
