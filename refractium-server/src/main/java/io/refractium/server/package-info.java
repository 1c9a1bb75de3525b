/**
 * The standalone Refractium server: the {@code refractium} command ({@link io.refractium.server.Main}), the YAML
 * configuration ({@link io.refractium.server.YamlConfig}, {@link io.refractium.server.ServerConfig}) with hot reload,
 * the running {@link io.refractium.server.Server} that owns the lifecycle, and the
 * {@link io.refractium.server.AccessLog}.
 *
 * <p>Start with {@link io.refractium.server.Server}: build one from a {@link io.refractium.server.ServerConfig},
 * {@link io.refractium.server.Server#start()} it, and reach the running instance through
 * {@link io.refractium.server.Server#refractium()}.
 */
package io.refractium.server;
