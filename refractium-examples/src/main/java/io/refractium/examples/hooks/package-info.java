/**
 * Hooks that observe and filter connections: a per-connection log line on close and refusal of client networks.
 *
 * <p>Start with {@link io.refractium.examples.hooks.LoggingHook}, then
 * {@link io.refractium.examples.hooks.LoggingHookExample}.
 */
package io.refractium.examples.hooks;
