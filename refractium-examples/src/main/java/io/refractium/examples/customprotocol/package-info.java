/**
 * A protocol detector written outside Refractium and found through {@link java.util.ServiceLoader}: a made-up
 * "knock" protocol whose clients start with {@code KNOCK <name>\n}.
 *
 * <p>Start with {@link io.refractium.examples.customprotocol.KnockDetector}, then
 * {@link io.refractium.examples.customprotocol.CustomProtocolExample}, which routes {@code "knock"}.
 */
package io.refractium.examples.customprotocol;
