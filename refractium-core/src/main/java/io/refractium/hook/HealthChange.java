package io.refractium.hook;

import io.refractium.Backend;
import io.refractium.BackendStatus;
import io.refractium.ForwardTarget;

/**
 * A backend's health changed.
 *
 * @param target the target the backend belongs to
 * @param backend the backend
 * @param previous the health before
 * @param current the health now
 * @param reason why, e.g. {@code "check failed 3 times: connection refused"}
 */
public record HealthChange(ForwardTarget target, Backend backend, BackendStatus.Health previous,
                           BackendStatus.Health current, String reason) {
}
