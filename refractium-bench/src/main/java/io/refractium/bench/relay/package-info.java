/**
 * Benchmarks of the proxy path end to end on loopback: {@link io.refractium.bench.relay.ProxyPathBenchmark} measures
 * new connections, keep-alive requests and bulk transfers through Refractium (with and without {@code splice(2)})
 * against the direct connection to the same in-process backends ({@link io.refractium.bench.relay.LoopbackBackends}).
 */
package io.refractium.bench.relay;
