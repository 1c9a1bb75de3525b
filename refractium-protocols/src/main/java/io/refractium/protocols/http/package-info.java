/**
 * HTTP/1 detection: {@link io.refractium.protocols.http.HttpDetector} recognizes HTTP/1.0 and HTTP/1.1 requests and
 * reports the method, the target as sent and its normalised path, the version and the host (left out when it is
 * ambiguous or invalid). Cleartext HTTP/2 is in {@link io.refractium.protocols.http2}.
 */
package io.refractium.protocols.http;
