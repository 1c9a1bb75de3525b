package io.refractium;

import java.util.List;

/**
 * A snapshot of one target of the routing table in use, as {@link Refractium#targets()} reports it.
 *
 * @param target the target
 * @param backends the state of each backend, in the target's order
 */
public record TargetStatus(ForwardTarget target, List<BackendStatus> backends) {

    /** Returns the target's name. */
    public String name() {
        return target.name();
    }

    /**
     * Returns the status of the backend with the given {@code HOST:PORT}, or {@code null}.
     *
     * @param hostAndPort as {@link Backend#hostAndPort()} spells it
     * @return the status or {@code null}
     */
    public BackendStatus backend(String hostAndPort) {
        for (BackendStatus b : backends) {
            if (b.backend().hostAndPort().equals(hostAndPort)) {
                return b;
            }
        }
        return null;
    }
}
