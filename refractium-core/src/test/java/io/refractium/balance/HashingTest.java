package io.refractium.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashingTest {

    @Test
    void knownInputsHashToKnownValues() throws Exception {
        // pinned: changing the function remaps every client of every deployed proxy
        assertThat(Hashing.hashIpv4(0xc0000201)).isEqualTo(GOLDEN_IPV4);
        assertThat(Hashing.hashAddress(InetAddress.getByName("2001:db8::1"))).isEqualTo(GOLDEN_IPV6);
        assertThat(Hashing.hashName("example.com")).isEqualTo(GOLDEN_NAME);
        assertThat(Hashing.point(GOLDEN_NAME, 0)).isEqualTo(GOLDEN_POINT);
    }

    // computed by an independent implementation of the function as the class javadoc describes it
    private static final long GOLDEN_IPV4 = 5019052873539892487L;
    private static final long GOLDEN_IPV6 = -3818438586861492906L;
    private static final long GOLDEN_NAME = 2179196345760558746L;
    private static final long GOLDEN_POINT = -6256505889073733247L;

    @Test
    void anIpv4AddressHashesItsFourBytesInOrder() throws Exception {
        Random random = new Random(1);
        for (int i = 0; i < 1000; i++) {
            byte[] b = new byte[4];
            random.nextBytes(b);
            int bigEndian = (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);

            assertThat(Hashing.hashAddress(InetAddress.getByAddress(b))).isEqualTo(Hashing.hashIpv4(bigEndian));
        }
    }

    @Test
    void anIpv4MappedAddressHashesAsIpv4() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 192;
        mapped[15] = 1;
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, -1);

        assertThat(Hashing.hashAddress(v6)).isEqualTo(Hashing.hashIpv4(0xc0000001));
    }

    @Test
    void namesHashWithoutRegardToCaseOrOneTrailingDot() {
        long h = Hashing.hashName("www.example.com");

        assertThat(Hashing.hashName("WWW.Example.COM")).isEqualTo(h);
        assertThat(Hashing.hashName("www.example.com.")).isEqualTo(h);
        assertThat(Hashing.hashName("Bücher.Example")).isEqualTo(Hashing.hashName("bücher.example"));
        assertThat(Hashing.hashName("ÄRZTE.example")).isEqualTo(Hashing.hashName("ärzte.example"));
        assertThat(Hashing.hashName("www.example.co")).isNotEqualTo(h);
        assertThat(Hashing.hashName("www.example.com..")).isNotEqualTo(h);
    }

    @Test
    void namesOfEveryLengthDiffer() {
        // one to nine characters cover partial and whole 4-character words
        long previous = 0;
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            name.append('a');
            long h = Hashing.hashName(name);
            assertThat(h).as("length %d", i + 1).isNotEqualTo(previous);
            previous = h;
        }
    }

    @Test
    void flippingOneInputBitFlipsHalfTheOutputBits() {
        Random random = new Random(3);
        long flipped = 0;
        int samples = 0;
        for (int i = 0; i < 1000; i++) {
            int address = random.nextInt();
            long h = Hashing.hashIpv4(address);
            for (int bit = 0; bit < 32; bit++) {
                flipped += Long.bitCount(h ^ Hashing.hashIpv4(address ^ (1 << bit)));
                samples++;
            }
        }
        double mean = (double) flipped / samples;

        // an ideal mix flips 32 of 64 bits on average; 32 000 samples put the mean within 0.1 of that
        assertThat(mean).isBetween(31.5, 32.5);
    }

    @Test
    void theRingPointsOfOneSeedAreSpreadOverTheWholeRange() {
        long seed = Hashing.hashName("10.0.0.1:443");
        int[] quarters = new int[4];
        for (int j = 0; j < 4000; j++) {
            quarters[(int) (Hashing.point(seed, j) >>> 62)]++;
        }

        for (int q : quarters) {
            assertThat(q).isBetween(1000 - 150, 1000 + 150);
        }
    }
}
