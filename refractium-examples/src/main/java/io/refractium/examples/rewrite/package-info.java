/**
 * A data hook that rewrites bytes both ways, tokens split across reads included.
 *
 * <p>Start with {@link io.refractium.examples.rewrite.TokenReplacer}, then
 * {@link io.refractium.examples.rewrite.RewritingDataHook} and {@link io.refractium.examples.rewrite.RewriteExample}.
 */
package io.refractium.examples.rewrite;
