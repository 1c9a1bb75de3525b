package io.refractium.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.refractium.server.ServerDemo;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** With this module on the class path, {@code refractium demo} finds the demo. */
class DemoProgramTest {

    @Test
    void theServersDemoCommandFindsTheDemo() {
        assertThat(ServiceLoader.load(ServerDemo.class).stream().map(ServiceLoader.Provider::type))
                .containsExactly(DemoProgram.class);
    }
}
