/**
 * Benchmarks of load balancing: {@link io.refractium.bench.balance.SelectionBenchmark} measures one backend
 * selection for each built-in strategy.
 */
package io.refractium.bench.balance;
