package io.refractium.protocols.http2;

import static io.refractium.protocols.http2.H2.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.AsciiString;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Huffman decoder against the RFC 7541 examples and Netty's encoder, for every symbol. */
class HuffmanTest {

    /** Encodes with Netty's (package-private) HPACK Huffman encoder. */
    private static byte[] nettyEncode(byte[] data) throws Exception {
        Class<?> type = Class.forName("io.netty.handler.codec.http2.HpackHuffmanEncoder");
        Constructor<?> constructor = type.getDeclaredConstructor();
        constructor.setAccessible(true);
        Object encoder = constructor.newInstance();
        Method encode = type.getDeclaredMethod("encode", ByteBuf.class, CharSequence.class);
        encode.setAccessible(true);
        ByteBuf out = Unpooled.buffer();
        try {
            encode.invoke(encoder, out, new AsciiString(data));
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    private static byte[] decode(byte[] coded) {
        byte[] out = new byte[coded.length * 8 / 5 + 1];
        int n = Huffman.decode(coded, 0, coded.length, out, 0);
        return n < 0 ? null : Arrays.copyOf(out, n);
    }

    private static String decodeAscii(String hex) {
        byte[] b = decode(hex(hex));
        return b == null ? null : new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void rfc7541Examples() {
        assertThat(decodeAscii("f1e3c2e5f23a6ba0ab90f4ff")).isEqualTo("www.example.com");
        assertThat(decodeAscii("a8eb10649cbf")).isEqualTo("no-cache");
        assertThat(decodeAscii("25a849e95ba97d7f")).isEqualTo("custom-key");
        assertThat(decodeAscii("25a849e95bb8e8b4bf")).isEqualTo("custom-value");
        assertThat(decodeAscii("6402")).isEqualTo("302");
        assertThat(decodeAscii("aec3771a4b")).isEqualTo("private");
        assertThat(decodeAscii("d07abe941054d444a8200595040b8166e082a62d1bff"))
                .isEqualTo("Mon, 21 Oct 2013 20:13:21 GMT");
        assertThat(decodeAscii("9d29ad171863c78f0b97c8e9ae82ae43d3")).isEqualTo("https://www.example.com");
        assertThat(decodeAscii("")).isEmpty();
    }

    @Test
    void everySymbolAsNettyEncodesIt() throws Exception {
        for (int symbol = 0; symbol < 256; symbol++) {
            byte[] one = {(byte) symbol};
            assertThat(decode(nettyEncode(one))).as("symbol %d", symbol).isEqualTo(one);
            byte[] three = {'a', (byte) symbol, (byte) (255 - symbol)};
            assertThat(decode(nettyEncode(three))).as("symbols around %d", symbol).isEqualTo(three);
        }
        Random random = new Random(7541);
        for (int i = 0; i < 2000; i++) {
            byte[] data = new byte[random.nextInt(80)];
            for (int j = 0; j < data.length; j++) {
                // mostly printable, sometimes any octet
                data[j] = (byte) (random.nextInt(8) == 0 ? random.nextInt(256) : 0x20 + random.nextInt(95));
            }
            assertThat(decode(nettyEncode(data))).isEqualTo(data);
        }
    }

    @Test
    void codeLengthsFormACompleteCode() {
        // Kraft's equality: a complete prefix code, which the decoder's tables rely on
        double sum = 0;
        for (int symbol = 0; symbol <= Huffman.EOS; symbol++) {
            sum += Math.pow(2, -Huffman.codeLength(symbol));
        }
        assertThat(sum).isEqualTo(1.0);
    }

    @Test
    void malformedPaddingAndEos() {
        assertThat(decodeAscii("f1e3c2e5f23a6ba0ab90f4fe")).as("padding with a zero").isNull();
        assertThat(decodeAscii("f1e3c2e5f23a6ba0ab90f4ffff")).as("8 bits of padding and more").isNull();
        assertThat(decodeAscii("ff")).as("8 bits of padding").isNull();
        assertThat(decodeAscii("fffffffc")).as("EOS, 30 ones").isNull();
        assertThat(decodeAscii("fe")).as("7 ones and a zero: the start of a longer code").isNull();
        assertThat(decodeAscii("07")).as("'0' (00000) then 3 bits of padding").isEqualTo("0");
        assertThat(decodeAscii("1f")).as("'a' (00011) then 3 bits of padding").isEqualTo("a");
        assertThat(decodeAscii("06")).as("'0' then a zero in the padding").isNull();
    }
}
