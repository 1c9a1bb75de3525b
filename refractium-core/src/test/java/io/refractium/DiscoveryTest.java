package io.refractium;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.refractium.spi.DetectionContext;
import io.refractium.spi.DetectionResult;
import io.refractium.spi.RefractiumProtocol;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ServiceLoader discovery: a provider that fails to load is skipped and the others still load. */
class DiscoveryTest {

    /** A provider with the public no-argument constructor ServiceLoader needs. */
    public static final class Discovered implements RefractiumProtocol {
        @Override
        public String id() {
            return "discovered";
        }

        @Override
        public int maxBytes() {
            return 1;
        }

        @Override
        public DetectionResult detect(ByteBuf buf, DetectionContext context) {
            return DetectionResult.noMatch();
        }
    }

    @Test
    void aProviderThatFailsToLoadIsSkipped(@TempDir Path dir) throws Exception {
        Path services = dir.resolve("META-INF/services");
        Files.createDirectories(services);
        Files.writeString(services.resolve(RefractiumProtocol.class.getName()),
                "io.refractium.DoesNotExist\n" + Discovered.class.getName() + "\n", StandardCharsets.UTF_8);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Refractium r = Refractium.builder().listen("127.0.0.1", 0).discoverProtocols(loader).build();
            assertThat(r.protocols()).contains("discovered").doesNotContain("DoesNotExist");
            r.close();
        }
    }
}
