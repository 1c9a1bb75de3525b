/**
 * Detection benchmarks: {@link io.refractium.bench.detect.DetectorBenchmark} measures each built-in detector on
 * realistic first bytes built by {@link io.refractium.bench.detect.Samples}.
 */
package io.refractium.bench.detect;
