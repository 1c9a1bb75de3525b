/**
 * Refractium's metrics in Micrometer: {@link io.refractium.micrometer.MicrometerMetrics} is a
 * {@link io.refractium.metrics.MetricsRecorder} that records into any {@code MeterRegistry} (Prometheus, OTLP,
 * JMX, ...). Give it to {@code RefractiumBuilder.metrics}.
 */
package io.refractium.micrometer;
