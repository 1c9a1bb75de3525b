package io.refractium.examples.customprotocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.DetectionResult.Status;
import io.refractium.spi.RefractiumProtocol;
import io.refractium.spi.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class KnockDetectorTest {

    private static final DetectionContext CONTEXT = new DetectionContext() {
        @Override
        public Transport transport() {
            return Transport.TCP;
        }

        @Override
        public SocketAddress remoteAddress() {
            return new InetSocketAddress("127.0.0.1", 40000);
        }

        @Override
        public SocketAddress localAddress() {
            return new InetSocketAddress("127.0.0.1", 7000);
        }

        @Override
        public boolean isInputComplete() {
            return false;
        }
    };

    private final KnockDetector detector = new KnockDetector();

    private DetectionResult detect(String text) {
        ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
        try {
            DetectionResult r = detector.detect(buf, CONTEXT);
            assertThat(buf.readerIndex()).isZero();
            return r;
        } finally {
            buf.release();
        }
    }

    @Test
    void everyPrefixNeedsMoreAndTheLineEndMatches() {
        String line = "KNOCK alice\n";
        for (int i = 0; i < line.length(); i++) {
            assertThat(detect(line.substring(0, i)).status()).as("after %d bytes", i).isEqualTo(Status.NEED_MORE);
        }
        DetectionResult r = detect(line + "hello\n");
        assertThat(r.status()).isEqualTo(Status.MATCH);
        assertThat(r.attributes().get(KnockDetector.NAME)).isEqualTo("alice");
    }

    @Test
    void otherBytesDoNotMatch() {
        assertThat(detect("GET / HTTP/1.1\r\n").status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect("KNOCK \n").status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect("KNOCK a b\n").status()).isEqualTo(Status.NO_MATCH);
        assertThat(detect("KNOCK " + "a".repeat(33)).status()).isEqualTo(Status.NO_MATCH);
    }

    @Test
    void isFoundByServiceLoaderBesideTheBuiltInDetectors() {
        List<String> ids = new ArrayList<>();
        for (RefractiumProtocol p : ServiceLoader.load(RefractiumProtocol.class)) {
            ids.add(p.id());
        }
        assertThat(ids).contains("knock", "redis", "tls");
        assertThat(ids).filteredOn("redis"::equals).hasSize(1);
    }
}
