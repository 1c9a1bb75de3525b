/**
 * Peek and detect: a transport-neutral {@link io.refractium.internal.detect.DetectionSession} (the candidates
 * narrowing on each read, the priority wait, the cap and the deadline), the TCP stage that feeds it
 * ({@link io.refractium.internal.detect.DetectHandler}), and the peek buffer whose memory is proportional to the
 * bytes received and bounded for the whole instance. Internal, may change.
 */
package io.refractium.internal.detect;
