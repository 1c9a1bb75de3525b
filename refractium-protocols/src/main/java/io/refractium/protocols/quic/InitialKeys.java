package io.refractium.protocols.quic;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys that protect a client's Initial packets, derived from the Destination Connection ID the client chose
 * (RFC 9001 §5.2 for QUIC version 1, RFC 9369 §3.3 for version 2): anyone who sees the packet can derive them, which
 * is what lets a proxy read the ClientHello without terminating the connection.
 *
 * <p>{@code initial_secret = HKDF-Extract(salt, DCID)}, {@code client_initial_secret = HKDF-Expand-Label(
 * initial_secret, "client in", "", 32)}, then the AEAD key (16 bytes), IV (12 bytes) and header protection key (16
 * bytes) by HKDF-Expand-Label with the labels {@code "quic key"}, {@code "quic iv"}, {@code "quic hp"} (version 2:
 * {@code "quicv2 key"}, {@code "quicv2 iv"}, {@code "quicv2 hp"}). HKDF (RFC 5869) with HMAC-SHA256, and
 * HKDF-Expand-Label as TLS 1.3 defines it (RFC 8446 §7.1). Immutable.
 */
final class InitialKeys {

    /** QUIC version 1 (RFC 9000). */
    static final int VERSION_1 = 0x00000001;
    /** QUIC version 2 (RFC 9369 §3.1). */
    static final int VERSION_2 = 0x6b3343cf;

    /** RFC 9001 §5.2. */
    private static final byte[] SALT_V1 = hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
    /** RFC 9369 §3.3.1. */
    private static final byte[] SALT_V2 = hex("0dede3def700a6db819381be6e269dcbf9bd2ed9");
    private static final byte[] CLIENT_IN = label("client in", 32);
    private static final byte[] KEY_V1 = label("quic key", 16);
    private static final byte[] IV_V1 = label("quic iv", 12);
    private static final byte[] HP_V1 = label("quic hp", 16);
    private static final byte[] KEY_V2 = label("quicv2 key", 16);
    private static final byte[] IV_V2 = label("quicv2 iv", 12);
    private static final byte[] HP_V2 = label("quicv2 hp", 16);

    /** The AEAD_AES_128_GCM key. */
    final SecretKeySpec key;
    /** The 12-byte IV, XORed with the packet number to give the nonce (RFC 9001 §5.3). */
    final byte[] iv;
    /** The AES-128 header protection key (RFC 9001 §5.4.3). */
    final SecretKeySpec hp;

    private InitialKeys(byte[] key, byte[] iv, byte[] hp) {
        this.key = new SecretKeySpec(key, "AES");
        this.iv = iv;
        this.hp = new SecretKeySpec(hp, "AES");
    }

    /**
     * Derives the client's Initial keys.
     *
     * @param version {@link #VERSION_1} or {@link #VERSION_2}
     * @param dcid the bytes holding the Destination Connection ID of the client's first Initial packet
     * @param offset where it starts
     * @param length its length
     * @param mac an HmacSHA256 instance, used and left in an unspecified state
     */
    static InitialKeys client(int version, byte[] dcid, int offset, int length, Mac mac) {
        boolean v2 = version == VERSION_2;
        byte[] secret = clientSecret(v2 ? SALT_V2 : SALT_V1, dcid, offset, length, mac);
        return new InitialKeys(expand(mac, secret, v2 ? KEY_V2 : KEY_V1), expand(mac, secret, v2 ? IV_V2 : IV_V1),
                expand(mac, secret, v2 ? HP_V2 : HP_V1));
    }

    /** Returns {@code client_initial_secret} for the salt of a version and a DCID. */
    static byte[] clientSecret(byte[] salt, byte[] dcid, int offset, int length, Mac mac) {
        try {
            mac.init(new SecretKeySpec(salt, "HmacSHA256"));
            mac.update(dcid, offset, length);
            byte[] initialSecret = mac.doFinal();
            return expand(mac, initialSecret, CLIENT_IN);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256", e);
        }
    }

    /**
     * HKDF-Expand (RFC 5869 §2.3) of at most one HMAC block, 32 bytes: {@code T(1) = HMAC(secret, info | 0x01)}.
     *
     * @param info the HkdfLabel, as {@link #label} builds it; its first two bytes give the length wanted
     */
    static byte[] expand(Mac mac, byte[] secret, byte[] info) {
        try {
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(info);
            mac.update((byte) 1);
            byte[] t = mac.doFinal();
            int length = (info[0] & 0xff) << 8 | info[1] & 0xff;
            if (length == t.length) {
                return t;
            }
            byte[] out = new byte[length];
            System.arraycopy(t, 0, out, 0, length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256", e);
        }
    }

    /**
     * Returns the {@code HkdfLabel} of TLS 1.3 (RFC 8446 §7.1) for an empty context: the length wanted, the label
     * behind {@code "tls13 "}, an empty context.
     */
    static byte[] label(String label, int length) {
        byte[] full = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        byte[] info = new byte[2 + 1 + full.length + 1];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) full.length;
        System.arraycopy(full, 0, info, 3, full.length);
        return info;
    }

    /** Returns a new HmacSHA256 instance; every JDK has one (Java SE standard algorithm names). */
    static Mac newMac() {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256", e);
        }
    }

    private static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }
}
