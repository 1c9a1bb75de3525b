/**
 * Memory per concurrent connection: {@link io.refractium.bench.memory.ConcurrentConnections} runs the proxy in a child
 * JVM ({@link io.refractium.bench.memory.ProxyProcess}), holds thousands of idle relayed connections open through it,
 * and reports its RSS, heap, direct and native memory at several counts and the slope per connection.
 */
package io.refractium.bench.memory;
