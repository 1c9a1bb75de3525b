/**
 * An asynchronous tap that counts bytes off the event loop.
 *
 * <p>Start with {@link io.refractium.examples.tap.ByteCountingTap}, then
 * {@link io.refractium.examples.tap.TapExample}.
 */
package io.refractium.examples.tap;
