package io.refractium;

import java.util.List;

/**
 * A snapshot of one target of the routing table in use, as {@link Refractium#targets()} reports it.
 *
 * @param target the target
 * @param backends the state of each backend, in the target's order: one per address of a backend named by host name
 *        (a name without any address yet is listed {@code DOWN} with the reason), then addresses that left their
 *        name's DNS answer and still have open connections
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
