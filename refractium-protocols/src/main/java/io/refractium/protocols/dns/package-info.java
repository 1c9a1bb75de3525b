/**
 * DNS detection: {@link io.refractium.protocols.dns.DnsDetector} recognizes DNS requests over TCP and UDP and
 * reports the question name as {@link io.refractium.protocols.dns.DnsDetector#QNAME}.
 */
package io.refractium.protocols.dns;
