/**
 * Per-connection hooks from a {@link io.refractium.hook.HookFactory}: counting each connection's bytes.
 *
 * <p>Start with {@link io.refractium.examples.bytecount.ByteCountingHookFactory}, then
 * {@link io.refractium.examples.bytecount.ByteCountExample}.
 */
package io.refractium.examples.bytecount;
