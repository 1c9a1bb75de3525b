package io.refractium.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The configuration examples shipped with the project, in {@code config/} and in the README, are valid. */
class ConfigExamplesTest {

    static Path root() {
        return Path.of(System.getProperty("refractium.root", "..")).toAbsolutePath().normalize();
    }

    @Test
    void everyFileInTheConfigFolderIsValid() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(root().resolve("config"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString())
                .contains("minimal.yaml", "refractium.yaml", "behind-proxy.yaml");
        for (Path file : files) {
            ServerConfig c = ServerConfig.read(file);
            assertThat(c.engine().listenAddresses()).as(file.toString()).isNotEmpty();
            assertThat(c.engine().routingTable().routes()).as(file.toString()).isNotEmpty();
        }
    }

    @Test
    void theFullExampleSaysWhatItShould() throws IOException {
        ServerConfig c = ServerConfig.read(root().resolve("config/refractium.yaml"));
        assertThat(c.engine().listenAddresses()).hasSize(3);
        assertThat(c.engine().targets()).containsKeys("web", "app-h2", "app", "db", "ssh", "other");
        assertThat(c.engine().targets().get("web").backends()).hasSize(3);
        assertThat(c.engine().targets().get("web").loadBalancer().name()).isEqualTo("weighted");
        assertThat(c.engine().routingTable().fallback().name()).isEqualTo("other");
        assertThat(c.engine().routingTable().listenerSilenceRoutes()).hasSize(1);
        assertThat(c.accessLog()).isEqualTo(AccessLog.Settings.DEFAULT);
        ServerConfig proxied = ServerConfig.read(root().resolve("config/behind-proxy.yaml"));
        assertThat(proxied.engine().proxyProtocol(443)).startsWith("required");
        assertThat(proxied.accessLog().format()).isEqualTo(AccessLog.Format.JSON);
    }

    @Test
    void everyYamlBlockInTheReadmeIsValid() throws IOException {
        String readme = Files.readString(root().resolve("README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertThat(blocks).isNotEmpty();
        for (int i = 0; i < blocks.size(); i++) {
            ServerConfig c = ServerConfig.from(YamlConfig.parse(blocks.get(i), "README.md yaml block " + (i + 1)));
            assertThat(c.engine().listenAddresses()).isNotEmpty();
        }
    }
}
