/**
 * SSH detection: {@link io.refractium.protocols.ssh.SshDetector} recognizes the client's identification string and
 * reports the protocol and software versions.
 */
package io.refractium.protocols.ssh;
