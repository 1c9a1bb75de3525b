package io.refractium.hook;

import io.refractium.spi.ProtocolAttributes;
import java.time.Duration;

/**
 * A successful detection: which protocol, what its detector found, how many bytes it took and how long.
 *
 * @param protocol the protocol id
 * @param attributes what the detector found (SNI, ALPN, Host, ...)
 * @param peekedBytes the bytes read before the decision, all of which are replayed to the backend
 * @param elapsed the time from accept to decision
 */
public record Detection(String protocol, ProtocolAttributes attributes, int peekedBytes, Duration elapsed) {
}
