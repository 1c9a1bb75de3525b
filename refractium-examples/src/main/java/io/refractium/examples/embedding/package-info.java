/**
 * Refractium inside an application: the builder, the bound port, and an atomic route swap at run time.
 *
 * <p>Start with {@link io.refractium.examples.embedding.EmbeddingExample}.
 */
package io.refractium.examples.embedding;
