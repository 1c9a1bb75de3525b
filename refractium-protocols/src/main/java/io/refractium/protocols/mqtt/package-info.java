/**
 * MQTT detection: {@link io.refractium.protocols.mqtt.MqttDetector} recognizes a client's CONNECT packet and reports
 * the protocol version and client identifier.
 */
package io.refractium.protocols.mqtt;
