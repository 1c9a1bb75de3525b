package io.refractium.internal.route;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/** An IPv4 or IPv6 network in CIDR notation; immutable. IPv4-mapped IPv6 clients match IPv4 networks. */
public final class Cidr {

    private final byte[] network;
    private final int prefixLength;
    private final String text;

    private Cidr(byte[] network, int prefixLength, String text) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.text = text;
    }

    /**
     * Parses {@code ADDRESS/BITS}, or a bare address (a /32 or /128 network).
     *
     * @param cidr the text
     * @return the network
     * @throws IllegalArgumentException naming the value when it does not parse
     */
    public static Cidr parse(String cidr) {
        Objects.requireNonNull(cidr, "cidr");
        String s = cidr.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        if (addr.isEmpty() || !(addr.indexOf(':') >= 0 || addr.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
            throw new IllegalArgumentException("clientCidr: \"" + cidr + "\" (expected: an IP network such as 10.0.0.0/8 or fd00::/8)");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("clientCidr: \"" + cidr + "\" (expected: an IP network such as 10.0.0.0/8 or fd00::/8)");
        }
        int max = bytes.length * 8;
        int bits = max;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > max) {
                throw new IllegalArgumentException("clientCidr: \"" + cidr + "\" (expected: a prefix length 0-" + max + ")");
            }
        }
        mask(bytes, bits);
        return new Cidr(bytes, bits, s);
    }

    private static void mask(byte[] bytes, int bits) {
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            bytes[i] &= (byte) (0xff << (8 - keep));
        }
    }

    /** Returns the prefix length in bits. */
    public int prefixLength() {
        return prefixLength;
    }

    /**
     * Returns whether the address is in this network.
     *
     * @param address the address, or {@code null} (never in the network)
     * @return whether it is inside
     */
    public boolean contains(InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] a = address.getAddress();
        if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
            a = Arrays.copyOfRange(a, 12, 16);
        }
        if (a.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int m = 0xff << (8 - rest) & 0xff;
        return (a[full] & m) == (network[full] & 0xff);
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr && ((Cidr) o).prefixLength == prefixLength && Arrays.equals(((Cidr) o).network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    @Override
    public String toString() {
        return text;
    }
}
