package io.refractium.balance;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The 64-bit hash behind the consistent-hash strategies: a fixed function of the key's bytes, identical in every
 * JVM and every run, so that independent proxies (and one proxy across restarts) send a given client to the same
 * backend.
 *
 * <p>The function is MurmurHash3's 64-bit block mix over 8-byte big-endian words (the last word holding the
 * remaining bytes, big-endian, in its low bits), then the length, then the {@code fmix64} finalizer. Strings are
 * hashed as their UTF-16 code units, two bytes each. Changing any of this remaps every client: the unit tests pin
 * known values.
 *
 * <p>Stateless and thread-safe; nothing here allocates except {@link #hashAddress(InetAddress)} for IPv6, which
 * copies the 16 address bytes.
 */
final class Hashing {

    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;
    private static final long SEED = 0x5246_4143_5452_494dL;

    /**
     * Whether {@link Inet4Address#hashCode()} returns the address as a big-endian {@code int}, as it always has in
     * OpenJDK; checked once so that a runtime that differs falls back to {@link InetAddress#getAddress()}.
     */
    private static final boolean INET4_HASH_CODE_IS_ADDRESS = inet4HashCodeIsAddress();

    private Hashing() {
    }

    /**
     * Hashes an IP address: the 4 bytes of an IPv4 address, or the 16 bytes of an IPv6 address, except that an
     * IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) hashes as its IPv4 address, so that a client keeps its
     * backend whether a dual-stack listener reports it in one form or the other.
     */
    static long hashAddress(InetAddress address) {
        if (address instanceof Inet4Address) {
            int v4 = INET4_HASH_CODE_IS_ADDRESS ? address.hashCode() : toInt(address.getAddress(), 0);
            return hashIpv4(v4);
        }
        byte[] b = address.getAddress();
        long high = toLong(b, 0);
        long low = toLong(b, 8);
        if (high == 0 && (low >>> 32) == 0xffffL) {
            return hashIpv4((int) low);
        }
        long h = mixWord(SEED, high);
        h = mixWord(h, low);
        return finish(h, 16);
    }

    /** Hashes the client address of a socket address, or returns {@code fallback} when it is unknown. */
    static long hashClient(InetSocketAddress client, long fallback) {
        if (client == null) {
            return fallback;
        }
        InetAddress address = client.getAddress();
        return address == null ? fallback : hashAddress(address);
    }

    /** Hashes 4 bytes given as a big-endian {@code int}. */
    static long hashIpv4(int address) {
        return finish(mixWord(SEED, address & 0xffff_ffffL), 4);
    }

    /**
     * Hashes a name case-insensitively: every UTF-16 code unit through {@link Character#toLowerCase(char)}, and one
     * trailing dot ignored ({@code Example.COM.} hashes as {@code example.com}).
     *
     * @param name the name, not empty
     * @return the hash
     */
    static long hashName(CharSequence name) {
        int length = name.length();
        if (length > 1 && name.charAt(length - 1) == '.') {
            length--;
        }
        return hashChars(name, length, true);
    }

    /**
     * Hashes a value exactly as written: case-sensitive, every UTF-16 code unit, no dot dropped.
     *
     * @param value the value
     * @return the hash
     */
    static long hashValue(CharSequence value) {
        return hashChars(value, value.length(), false);
    }

    private static long hashChars(CharSequence name, int length, boolean foldCase) {
        long h = SEED;
        long word = 0;
        int inWord = 0;
        for (int i = 0; i < length; i++) {
            char c = name.charAt(i);
            if (foldCase) {
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                } else if (c >= 0x80) {
                    c = Character.toLowerCase(c);
                }
            }
            word = (word << 16) | c;
            if (++inWord == 4) {
                h = mixWord(h, word);
                word = 0;
                inWord = 0;
            }
        }
        if (inWord != 0) {
            h = mixWord(h, word);
        }
        return finish(h, 2 * length);
    }

    /**
     * Returns the {@code index}-th point of a sequence seeded by {@code seed}: SplitMix64's stream, so the points
     * of one backend are independent of each other and of every other backend's.
     */
    static long point(long seed, int index) {
        return fmix64(seed + (index + 1L) * 0x9e3779b97f4a7c15L);
    }

    private static long mixWord(long h, long word) {
        long k = word * C1;
        k = Long.rotateLeft(k, 31);
        k *= C2;
        h ^= k;
        return Long.rotateLeft(h, 27) * 5 + 0x52dce729L;
    }

    private static long finish(long h, int lengthInBytes) {
        return fmix64(h ^ lengthInBytes);
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private static int toInt(byte[] b, int offset) {
        return (b[offset] & 0xff) << 24 | (b[offset + 1] & 0xff) << 16 | (b[offset + 2] & 0xff) << 8
                | (b[offset + 3] & 0xff);
    }

    private static long toLong(byte[] b, int offset) {
        return (toInt(b, offset) & 0xffff_ffffL) << 32 | (toInt(b, offset + 4) & 0xffff_ffffL);
    }

    private static boolean inet4HashCodeIsAddress() {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 0xc0, 0x00, 0x02, (byte) 0x81}).hashCode() == 0xc0000281
                    && InetAddress.getByAddress(new byte[] {0x0a, 0x7f, (byte) 0xfe, 0x01}).hashCode() == 0x0a7ffe01;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
