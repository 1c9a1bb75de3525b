package io.refractium.hook;

import java.util.Objects;

/**
 * A connection refused by admission: the reason and the limit that was hit, as the setting and its value
 * ({@code maxConnectionsPerIp=4}, {@code ratePerIp=10.0/s,burst=20}, {@code deny=10.0.0.0/8}, {@code allow=[...]}).
 * Immutable.
 *
 * @param reason why
 * @param limit the setting that refused it and its value
 */
public record Refusal(RefusalReason reason, String limit) {

    /**
     * Creates a refusal.
     *
     * @param reason why
     * @param limit the setting that refused it and its value
     */
    public Refusal {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(limit, "limit");
    }
}
