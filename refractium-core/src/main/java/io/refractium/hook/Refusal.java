package io.refractium.hook;

import java.util.Objects;

/**
 * A connection refused by admission: the reason and the limit that was hit, as the setting and its value
 * ({@code maxConnectionsPerIp=4}, {@code ratePerIp=10.0/s,burst=20}, {@code deny=10.0.0.0/8}, {@code allow=[...]};
 * at the PROXY header stage {@code acceptProxyProtocol trusted=[10.0.0.0/8]}, {@code acceptProxyProtocol=REQUIRED},
 * {@code peekTimeout=PT5S}, or {@code malformed PROXY header: } and what the decoder found wrong). Immutable.
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
