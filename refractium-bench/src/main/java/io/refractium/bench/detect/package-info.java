/**
 * Detection benchmarks: {@link io.refractium.bench.detect.DetectorBenchmark} measures each built-in detector on
 * realistic first bytes built by {@link io.refractium.bench.detect.Samples}, in one call;
 * {@link io.refractium.bench.detect.ArrivalBenchmark} measures the total cost over a whole arrival, the detector called
 * after each read, for normal first bytes in one read and the worst ones a byte per read.
 */
package io.refractium.bench.detect;
