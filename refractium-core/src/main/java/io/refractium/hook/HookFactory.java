package io.refractium.hook;

/**
 * Creates a {@link Hook} for each connection, so that the hook can keep per-connection state in plain fields (in
 * the manner of OkHttp's {@code EventListener.Factory}). Register with {@code RefractiumBuilder.hookFactory(...)}.
 *
 * <p>{@link #create} is called once per accepted connection, on its event loop, just before the hooks hear of the
 * connection ({@link Hook#onAccepted}); it must not block. The hook it returns gets the connection's events and
 * nothing else: {@link Hook#onHealthChanged} goes only to the hooks added with {@code RefractiumBuilder.hook(...)}.
 * A factory that throws or returns {@code null} is a hook failure at admission, handled by the hook failure policy
 * ({@link HookFailurePolicy}).
 */
@FunctionalInterface
public interface HookFactory {

    /**
     * Returns the hook for one connection.
     *
     * @param connection the connection, just accepted (no protocol yet)
     * @return the hook, never {@code null}
     */
    Hook create(ConnectionInfo connection);
}
