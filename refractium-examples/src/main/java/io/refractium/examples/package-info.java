/**
 * Runnable programs that show Refractium at work, one scenario per package, each with a {@code main} runnable from
 * the shaded jar {@code refractium-examples/target/refractium.jar}.
 *
 * <p>Start with {@link io.refractium.examples.demo.Demo} (what {@code java -jar refractium.jar} runs without
 * arguments), then {@link io.refractium.examples.launcher.Main} for the standalone multiplexer,
 * {@link io.refractium.examples.embedding.EmbeddingExample},
 * {@link io.refractium.examples.customprotocol.CustomProtocolExample},
 * {@link io.refractium.examples.hooks.LoggingHookExample},
 * {@link io.refractium.examples.asynchook.AsyncAllowListExample} and
 * {@link io.refractium.examples.bytecount.ByteCountExample}.
 */
package io.refractium.examples;
