/**
 * Accepting and dialing: the event loop groups and socket channel classes of a transport (epoll or NIO), the
 * listeners (one per event loop with {@code SO_REUSEPORT}, accepted channels kept on their listener's loop) and
 * the bootstraps that open backend channels. The first stage of the path; internal, may change.
 */
package io.refractium.internal.transport;
