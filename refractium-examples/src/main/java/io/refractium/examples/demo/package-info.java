/**
 * The quick start: HTTP, TLS by SNI, SSH, silent clients and a fallback on one port, against backends started on
 * loopback.
 *
 * <p>Start with {@link io.refractium.examples.demo.Demo}.
 */
package io.refractium.examples.demo;
