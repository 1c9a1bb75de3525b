/**
 * A protocol detector written outside Refractium and found through {@link java.util.ServiceLoader}: Redis, by the
 * RESP array a client sends first.
 *
 * <p>Start with {@link io.refractium.examples.customprotocol.RedisDetector}, then
 * {@link io.refractium.examples.customprotocol.CustomProtocolExample}, which routes {@code "redis"}.
 */
package io.refractium.examples.customprotocol;
