package io.refractium.protocols.quic;

import io.refractium.protocols.Samples;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Builds protected client Initial packets as RFC 9001 §5 says (payload protection with AES-128-GCM, then header
 * protection with AES-ECB over a sample of the ciphertext), for ClientHellos of any size cut into CRYPTO frames,
 * packets and datagrams in any way. The keys come from {@link InitialKeys}, which the RFC test vectors check.
 */
final class QuicInitials {

    static final byte[] DCID = Samples.hex("0011223344556677");
    static final byte[] SCID = Samples.hex("a1a2a3a4");

    private QuicInitials() {
    }

    /** Returns a CRYPTO frame (RFC 9000 §19.6) carrying {@code length} bytes of the stream from {@code offset}. */
    static byte[] crypto(byte[] stream, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x06);
        varint(out, offset);
        varint(out, length);
        out.write(stream, offset, length);
        return out.toByteArray();
    }

    /** Writes a variable-length integer (RFC 9000 §16) in the shortest encoding. */
    static void varint(ByteArrayOutputStream out, long v) {
        if (v < 64) {
            out.write((int) v);
        } else if (v < 16384) {
            out.write((int) (v >>> 8 | 0x40));
            out.write((int) v);
        } else {
            out.write((int) (v >>> 24 | 0x80));
            out.write((int) (v >>> 16));
            out.write((int) (v >>> 8));
            out.write((int) v);
        }
    }

    /**
     * Returns a protected client Initial packet holding the frames, followed by PADDING frames up to
     * {@code minLength} bytes in all (0: none beyond what header protection needs).
     */
    static byte[] initial(int version, byte[] dcid, byte[] scid, byte[] token, int packetNumber, byte[] frames,
                          int minLength) {
        int pnLength = 2;
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        int type = version == InitialKeys.VERSION_2 ? 1 : 0;
        header.write(0xc0 | type << 4 | (pnLength - 1));
        header.write(version >>> 24);
        header.write(version >>> 16);
        header.write(version >>> 8);
        header.write(version);
        header.write(dcid.length);
        header.writeBytes(dcid);
        header.write(scid.length);
        header.writeBytes(scid);
        varint(header, token.length);
        header.writeBytes(token);
        int fixed = header.size() + 2 + pnLength; // a 2-byte length field
        // at least 4 bytes of packet number and payload before the 16-byte sample
        int payloadLength = Math.max(frames.length, 4 - pnLength);
        payloadLength = Math.max(payloadLength, minLength - fixed - 16);
        byte[] payload = new byte[payloadLength];
        System.arraycopy(frames, 0, payload, 0, frames.length);
        varint2(header, pnLength + payloadLength + 16);
        header.write(packetNumber >>> 8);
        header.write(packetNumber);
        byte[] h = header.toByteArray();
        InitialKeys keys = InitialKeys.client(version, dcid, 0, dcid.length, InitialKeys.newMac());
        try {
            byte[] nonce = keys.iv.clone();
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] ^= (byte) ((long) packetNumber >>> 8 * (7 - i));
            }
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, keys.key, new GCMParameterSpec(128, nonce));
            gcm.updateAAD(h);
            byte[] sealed = gcm.doFinal(payload);
            int pnOffset = h.length - pnLength;
            Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
            ecb.init(Cipher.ENCRYPT_MODE, keys.hp);
            byte[] mask = ecb.doFinal(sealed, 4 - pnLength, 16);
            h[0] ^= (byte) (mask[0] & 0x0f);
            for (int i = 0; i < pnLength; i++) {
                h[pnOffset + i] ^= mask[1 + i];
            }
            return Samples.concat(h, sealed);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void varint2(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8 | 0x40);
        out.write(v);
    }

    /**
     * Cuts a ClientHello into CRYPTO frames of at most {@code frameSize} bytes, puts {@code framesPerPacket} of them
     * in each Initial packet and {@code packetsPerDatagram} packets in each datagram, padded to 1200 bytes; when
     * {@code random} is given, the frames are shuffled first, so the stream arrives out of order.
     *
     * @return the datagrams
     */
    static List<byte[]> flight(int version, byte[] hello, int frameSize, int framesPerPacket, int packetsPerDatagram,
                               Random random) {
        List<byte[]> frames = new ArrayList<>();
        for (int offset = 0; offset < hello.length; offset += frameSize) {
            frames.add(crypto(hello, offset, Math.min(frameSize, hello.length - offset)));
        }
        if (random != null) {
            Collections.shuffle(frames, random);
        }
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < frames.size(); i += framesPerPacket) {
            packets.add(Samples.concat(frames.subList(i, Math.min(i + framesPerPacket, frames.size()))
                    .toArray(new byte[0][])));
        }
        List<byte[]> datagrams = new ArrayList<>();
        int pn = 0;
        for (int i = 0; i < packets.size(); i += packetsPerDatagram) {
            ByteArrayOutputStream d = new ByteArrayOutputStream();
            int last = Math.min(i + packetsPerDatagram, packets.size()) - 1;
            for (int k = i; k <= last; k++) {
                d.writeBytes(initial(version, DCID, SCID, new byte[0], pn++, packets.get(k),
                        k == last ? 1200 - d.size() : 0));
            }
            datagrams.add(d.toByteArray());
        }
        return datagrams;
    }

    /** Returns a ClientHello as a QUIC client sends it: TLS 1.3 only, transport parameters, no session id. */
    static Samples.ClientHello quicHello(String sni, String... alpn) {
        return Samples.clientHello()
                .sessionId(new byte[0])
                .cipherSuites(0x1301, 0x1302, 0x1303)
                .sni(sni)
                .alpn(alpn)
                .extension(0x000a, new byte[] {0, 4, 0, 0x1d, 0, 0x17})
                .extension(0x000d, new byte[] {0, 4, 4, 3, 8, 4})
                .keyShare(new int[] {0x001d}, new byte[][] {new byte[32]})
                .supportedVersions(0x0304)
                .extension(0x0039, Samples.hex("0104800075300304800005dc0f04a1a2a3a4"));
    }

    /**
     * Returns a post-quantum ClientHello (an X25519MLKEM768 key share of 1216 bytes, and a GREASE ECH extension),
     * larger than one Initial packet.
     */
    static byte[] postQuantumHello(String sni, String... alpn) {
        Random random = new Random(11);
        byte[] mlkem = new byte[Samples.X25519_MLKEM768_SHARE_LENGTH];
        random.nextBytes(mlkem);
        byte[] x25519 = new byte[32];
        random.nextBytes(x25519);
        byte[] ech = new byte[218];
        random.nextBytes(ech);
        ech[0] = 0;
        return Samples.clientHello()
                .sessionId(new byte[0])
                .cipherSuites(0x1301, 0x1302, 0x1303)
                .sni(sni)
                .alpn(alpn)
                .extension(0x000a, new byte[] {0, 4, 0x11, (byte) 0xec, 0, 0x1d})
                .extension(0x000d, new byte[] {0, 4, 4, 3, 8, 4})
                .keyShare(new int[] {Samples.X25519_MLKEM768, 0x001d}, new byte[][] {mlkem, x25519})
                .supportedVersions(0x0304)
                .extension(0x0039, Samples.hex("0104800075300304800005dc0f04a1a2a3a4"))
                .extension(0xfe0d, ech)
                .handshake();
    }

    /** Returns where each datagram ends in their concatenation. */
    static int[] ends(List<byte[]> datagrams) {
        int[] ends = new int[datagrams.size()];
        int n = 0;
        for (int i = 0; i < ends.length; i++) {
            n += datagrams.get(i).length;
            ends[i] = n;
        }
        return ends;
    }
}
