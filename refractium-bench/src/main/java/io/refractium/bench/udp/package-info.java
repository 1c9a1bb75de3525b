/**
 * Benchmarks of UDP forwarding: {@link io.refractium.bench.udp.UdpForwardingBenchmark} compares datagrams per second
 * through Refractium's UDP listener with the direct path to the same backend.
 */
package io.refractium.bench.udp;
