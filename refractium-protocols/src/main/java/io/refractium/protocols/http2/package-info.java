/**
 * HTTP/2 with prior knowledge (h2c, gRPC without TLS): {@link io.refractium.protocols.http2.Http2Detector} recognizes
 * the client connection preface and reads the host, method and path of the first request from its HPACK header
 * block, with the same attribute keys as the HTTP/1 detector. Start there; the HPACK decoding and the Huffman code
 * are package-private helpers.
 */
package io.refractium.protocols.http2;
