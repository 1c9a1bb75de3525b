package io.refractium.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConfigTextTest {

    @Test
    void valuesOfSecretLookingKeysAreHidden() {
        String yaml = "listeners:\n  - 127.0.0.1:443\ndns:\n  password: hunter2\n  api-token: \"abc\"\n"
                + "  - client-secret: s3cr3t\nprivate_key: xyz\ntargets: {}\n";
        assertThat(ConfigText.redact(yaml)).isEqualTo("listeners:\n  - 127.0.0.1:443\ndns:\n  password: <hidden>\n"
                + "  api-token: <hidden>\n  - client-secret: <hidden>\nprivate_key: <hidden>\ntargets: {}\n");
    }

    @Test
    void withoutAFileItSaysSo() {
        assertThat(ConfigText.of(null)).contains("command-line flags");
    }
}
