package io.refractium.metrics;

/** The recorder that records nothing: {@link MetricsRecorder#none()}. */
final class NoopMetricsRecorder implements MetricsRecorder {

    static final NoopMetricsRecorder INSTANCE = new NoopMetricsRecorder();

    private NoopMetricsRecorder() {
    }

    @Override
    public String toString() {
        return "MetricsRecorder.none()";
    }
}
