/**
 * An asynchronous hook: an allow-list lookup answered on another executor, which the connection waits for without
 * blocking the event loop.
 *
 * <p>Start with {@link io.refractium.examples.asynchook.AllowListHook}, then
 * {@link io.refractium.examples.asynchook.AsyncAllowListExample}.
 */
package io.refractium.examples.asynchook;
