/**
 * The run-time state of targets and backends: load-balancer selection, connection counts and caps, active health
 * checks and passive ejection. Shared by all connections; kept across routing-table swaps. Internal, may change.
 */
package io.refractium.internal.health;
