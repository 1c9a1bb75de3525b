/**
 * Minecraft: Java Edition detection: {@link io.refractium.protocols.minecraft.MinecraftDetector} recognizes a client's
 * Handshake packet and reports the server address, protocol version, port and next state.
 */
package io.refractium.protocols.minecraft;
