/**
 * Connect: picks a backend of the target, connects it on the client's event loop, retries the next one within the
 * target's attempts and deadline, reports passive health, then replays the peeked bytes and hands over to the
 * relay. A PROXY protocol header, when a target asks for one, is written here. Internal, may change.
 */
package io.refractium.internal.connect;
