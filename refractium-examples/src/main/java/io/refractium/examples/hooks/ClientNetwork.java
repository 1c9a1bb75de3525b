package io.refractium.examples.hooks;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}; a bare address is a /32 or /128),
 * as a hook tests client addresses against it. IPv4-mapped IPv6 addresses ({@code ::ffff:10.1.2.3}) match IPv4
 * networks. Immutable and thread-safe.
 */
public final class ClientNetwork {

    private final byte[] network;
    private final int prefixLength;
    private final String text;

    private ClientNetwork(byte[] network, int prefixLength, String text) {
        this.network = network;
        this.prefixLength = prefixLength;
        this.text = text;
    }

    /**
     * Parses {@code ADDRESS/BITS} or a bare address. Only IP literals are accepted; names are never resolved.
     *
     * @param cidr the network
     * @return the network
     * @throws IllegalArgumentException naming the value when it is not an IP network
     */
    public static ClientNetwork parse(String cidr) {
        Objects.requireNonNull(cidr, "cidr");
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? cidr : cidr.substring(0, slash);
        boolean v6 = address.indexOf(':') >= 0;
        boolean literal = !address.isEmpty() && address.chars().allMatch(c -> v6
                ? Character.digit(c, 16) >= 0 || c == ':' || c == '.'
                : Character.isDigit(c) || c == '.');
        if (!literal || (!v6 && address.chars().filter(c -> c == '.').count() != 3)) {
            throw new IllegalArgumentException("network: \"" + cidr
                    + "\" (expected: an IP network such as 10.0.0.0/8 or fd00::/8)");
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("network: \"" + cidr
                    + "\" (expected: an IP network such as 10.0.0.0/8 or fd00::/8)");
        }
        int max = bytes.length * 8;
        int bits = max;
        if (slash >= 0) {
            String b = cidr.substring(slash + 1);
            bits = b.isEmpty() || b.length() > 3 || !b.chars().allMatch(Character::isDigit) ? -1 : Integer.parseInt(b);
            if (bits < 0 || bits > max) {
                throw new IllegalArgumentException("network: \"" + cidr + "\" (expected: a prefix length 0-"
                        + max + ")");
            }
        }
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            bytes[i] &= (byte) (0xff << (8 - keep));
        }
        return new ClientNetwork(bytes, bits, cidr);
    }

    /**
     * Returns whether the address is in this network.
     *
     * @param address the address, or {@code null} (never inside)
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
        for (int bit = 0; bit < prefixLength; bit += 8) {
            int keep = Math.min(8, prefixLength - bit);
            int mask = (0xff << (8 - keep)) & 0xff;
            if ((a[bit / 8] & mask) != (network[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
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
        return o instanceof ClientNetwork && ((ClientNetwork) o).prefixLength == prefixLength
                && Arrays.equals(((ClientNetwork) o).network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    /** Returns the network as it was written. */
    @Override
    public String toString() {
        return text;
    }
}
