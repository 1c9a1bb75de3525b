/**
 * The configuration model of a standalone Refractium, independent of any file format: a tree of
 * {@link io.refractium.config.ConfigNode}s (made by a YAML reader, or from command-line flags) is read and checked
 * by {@link io.refractium.config.RefractiumConfig#from}, which maps it onto a
 * {@link io.refractium.RefractiumBuilder} and a {@link io.refractium.RoutingTable}.
 *
 * <p>Start with {@link io.refractium.config.RefractiumConfig}; errors are
 * {@link io.refractium.config.ConfigException}s naming the source, line, key and value.
 */
package io.refractium.config;
