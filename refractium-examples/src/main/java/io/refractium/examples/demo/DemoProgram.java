package io.refractium.examples.demo;

import io.refractium.server.ServerDemo;

/**
 * Makes the {@link Demo} what {@code refractium demo} runs when this module is on the class path (the examples
 * jar); registered in {@code META-INF/services/io.refractium.server.ServerDemo}.
 */
public final class DemoProgram implements ServerDemo {

    /** Creates the program; {@link java.util.ServiceLoader} calls it. */
    public DemoProgram() {
    }

    @Override
    public void run() {
        Demo.main(new String[0]);
    }
}
