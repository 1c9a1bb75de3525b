/**
 * HTTP/1 detection: {@link io.refractium.protocols.http.HttpDetector} recognizes HTTP/1.0 and HTTP/1.1 requests and
 * reports the method, target, version and host. Cleartext HTTP/2 is in {@link io.refractium.protocols.http2}.
 */
package io.refractium.protocols.http;
