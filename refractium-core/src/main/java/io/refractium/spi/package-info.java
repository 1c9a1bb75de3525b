/**
 * The protocol detector SPI: implement {@link io.refractium.spi.RefractiumProtocol} to teach Refractium a protocol.
 *
 * <p>Start with {@link io.refractium.spi.RefractiumProtocol}; a detector answers with a
 * {@link io.refractium.spi.DetectionResult}, and a match carries {@link io.refractium.spi.ProtocolAttributes} keyed
 * by {@link io.refractium.spi.AttributeKey}s that routes can test.
 */
package io.refractium.spi;
