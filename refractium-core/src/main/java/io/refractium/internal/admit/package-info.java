/**
 * Admission: the checks an accepted connection passes before its pipeline is built (allow and deny lists, per-address
 * rate, caps on detecting, open, per-listener and per-address connections), and, for a connection from a trusted
 * PROXY protocol source, the per-address checks against the real client once the header is read. Start at
 * {@link io.refractium.internal.admit.AdmissionControl}. Internal, may change.
 */
package io.refractium.internal.admit;
