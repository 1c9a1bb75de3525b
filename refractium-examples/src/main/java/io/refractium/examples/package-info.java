/**
 * Runnable programs that show Refractium at work, one scenario per package, each with a {@code main} runnable from
 * the shaded jar {@code refractium-examples/target/refractium-examples.jar}.
 *
 * <p>Start with {@link io.refractium.examples.demo.Demo} (what
 * {@code java -jar refractium-examples/target/refractium-examples.jar demo} runs; the jar's main class is the server's
 * {@code refractium} command, {@code io.refractium.server.Main}), then
 * {@link io.refractium.examples.embedding.EmbeddingExample},
 * {@link io.refractium.examples.customprotocol.CustomProtocolExample},
 * {@link io.refractium.examples.hooks.LoggingHookExample},
 * {@link io.refractium.examples.asynchook.AsyncAllowListExample} and
 * {@link io.refractium.examples.bytecount.ByteCountExample}.
 */
package io.refractium.examples;
