/**
 * The standalone multiplexer: {@code java -jar refractium.jar --listen HOST:PORT --route ...}.
 *
 * <p>Start with {@link io.refractium.examples.launcher.Main}; the command-line grammar and its checks are in
 * {@link io.refractium.examples.launcher.LauncherOptions}.
 */
package io.refractium.examples.launcher;
