/**
 * Metrics: the {@link io.refractium.metrics.MetricsRecorder} the engine reports each event of a connection's path
 * to, with a no-op default. Set one with {@link io.refractium.RefractiumBuilder#metrics}; the
 * {@code refractium-micrometer} module binds it to a Micrometer {@code MeterRegistry}.
 */
package io.refractium.metrics;
