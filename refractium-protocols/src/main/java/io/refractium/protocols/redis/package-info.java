/**
 * Redis detection: {@link io.refractium.protocols.redis.RedisDetector} recognizes the first command of a Redis
 * client, a RESP array or an inline command, and reports the command name.
 */
package io.refractium.protocols.redis;
