/**
 * Small loopback servers the examples forward to: echo, an HTTP/1.1 hello server, TLS hello servers with
 * certificates from a self-signed demo authority, and an SSH-style banner server.
 *
 * <p>Start with {@link io.refractium.examples.backends.DemoBackends}.
 */
package io.refractium.examples.backends;
