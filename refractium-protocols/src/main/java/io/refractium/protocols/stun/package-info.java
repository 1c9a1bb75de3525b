/**
 * STUN and TURN over TCP: {@link io.refractium.protocols.stun.StunDetector} recognizes a client's first message by its
 * header and magic cookie and reports the method and class.
 */
package io.refractium.protocols.stun;
