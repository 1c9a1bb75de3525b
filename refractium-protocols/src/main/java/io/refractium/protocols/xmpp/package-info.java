/**
 * XMPP detection: {@link io.refractium.protocols.xmpp.XmppDetector} recognizes an opening stream header and reports
 * its {@code to} domain and content namespace.
 */
package io.refractium.protocols.xmpp;
