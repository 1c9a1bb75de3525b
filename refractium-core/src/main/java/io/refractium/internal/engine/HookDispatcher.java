package io.refractium.internal.engine;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.refractium.ForwardTarget;
import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.HealthChange;
import io.refractium.hook.Hook;
import io.refractium.hook.HookFactory;
import io.refractium.hook.HookFailurePolicy;
import io.refractium.hook.RouteDecision;
import io.refractium.internal.relay.Inspection;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls the hooks of each connection in order: the shared hooks, then those its {@link HookFactory factories} make
 * (created on admission and kept on the {@link ConnectionState}).
 *
 * <p>Pairing: {@link ConnectionState#startedHooks()} counts the hooks, from the first, that were asked
 * {@code onAccepted}; every later event, {@code onClosed} included, goes to those hooks only.
 *
 * <p>The two verdict points ({@link #accepted}, {@link #routeChosen}) answer through a {@link Verdicts}
 * callback, at once when every hook answers synchronously (no allocation: a hook that does not override the
 * asynchronous method is called through the synchronous one), or later, on the connection's event loop, when a
 * hook's stage is still pending; a pending stage is bounded by the decision timeout. A failure (throw, {@code null}
 * admission, exceptional stage, timeout) refuses the connection under {@link HookFailurePolicy#FAIL_CLOSED} and is
 * skipped under {@link HookFailurePolicy#FAIL_OPEN}. A hook that throws elsewhere is logged and ignored.
 */
public final class HookDispatcher {

    private static final Logger log = LoggerFactory.getLogger(HookDispatcher.class);

    private static final Hook[] NONE = new Hook[0];

    /** Per hook class: whether it overrides {@code onAcceptedAsync} and {@code onRouteChosenAsync}. */
    private static final ClassValue<boolean[]> ASYNC = new ClassValue<>() {
        @Override
        protected boolean[] computeValue(Class<?> type) {
            return new boolean[] {
                overrides(type, "onAcceptedAsync", ConnectionInfo.class),
                overrides(type, "onRouteChosenAsync", ConnectionInfo.class, ForwardTarget.class)
            };
        }
    };

    /** Told the outcome of a verdict point; called on the connection's event loop. */
    public interface Verdicts {
        /**
         * The hooks answered about admission.
         *
         * @param refusal {@code null} to go on, else why the connection is refused
         */
        void admitted(String refusal);

        /**
         * The hooks answered about the chosen target.
         *
         * @param decision the first decision that was not proceed, or proceed
         */
        void routeDecided(RouteDecision decision);
    }

    private final Hook[] hooks;
    private final HookFactory[] factories;
    private final boolean failClosed;
    private final long timeoutNanos;
    private final Inspection inspection;

    /** Calls the given shared hooks, with the default settings (no factories, fail closed). */
    public HookDispatcher(List<Hook> hooks) {
        this(hooks, HookSettings.DEFAULT);
    }

    /** Calls the given shared hooks and the hooks the settings' factories make. */
    public HookDispatcher(List<Hook> hooks, HookSettings settings) {
        this.hooks = hooks.toArray(NONE);
        this.factories = settings.factories().toArray(new HookFactory[0]);
        this.failClosed = settings.failurePolicy() == HookFailurePolicy.FAIL_CLOSED;
        this.timeoutNanos = settings.decisionTimeout().toNanos();
        this.inspection = settings.dataHooks().isEmpty() && settings.taps().isEmpty()
                ? Inspection.NONE : new Inspection(settings.dataHooks(), settings.taps());
    }

    /** Returns the data hooks and taps. */
    public Inspection inspection() {
        return inspection;
    }

    /** Returns whether there are neither shared hooks nor factories. */
    public boolean isEmpty() {
        return hooks.length == 0 && factories.length == 0;
    }

    // ---------------------------------------------------------------- admission

    /**
     * Creates the connection's hooks and asks each whether to accept it, in order, until one refuses; answers
     * through {@link Verdicts#admitted}, at once or later on the connection's event loop (never when the connection
     * closed meanwhile).
     */
    public void accepted(ConnectionState c, Verdicts k) {
        if (c.hooks() == null) {
            String failure = createHooks(c);
            if (failure != null) {
                k.admitted(failure);
                return;
            }
        }
        acceptFrom(c, k, 0);
    }

    private String createHooks(ConnectionState c) {
        if (factories.length == 0) {
            c.hooks(hooks);
            return null;
        }
        Hook[] all = new Hook[hooks.length + factories.length];
        System.arraycopy(hooks, 0, all, 0, hooks.length);
        int n = hooks.length;
        String failure = null;
        for (HookFactory f : factories) {
            Hook h;
            try {
                h = f.create(c);
                if (h == null) {
                    throw new NullPointerException("HookFactory.create returned null");
                }
            } catch (Throwable t) {
                String why = failure(f.getClass().getName() + ".create", c, t);
                if (failClosed) {
                    failure = why;
                    break;
                }
                continue;
            }
            all[n++] = h;
        }
        c.hooks(n == all.length ? all : java.util.Arrays.copyOf(all, n));
        return failure;
    }

    private void acceptFrom(ConnectionState c, Verdicts k, int from) {
        Hook[] hs = c.hooks();
        for (int i = from; i < hs.length; i++) {
            Hook h = hs[i];
            c.startedHooks(i + 1);
            Admission a;
            if (!ASYNC.get(h.getClass())[0]) {
                try {
                    a = h.onAccepted(c);
                } catch (Throwable t) {
                    a = null;
                    String why = failure(name(h) + ".onAccepted", c, t);
                    if (failClosed) {
                        k.admitted(why);
                        return;
                    }
                    continue;
                }
            } else {
                CompletionStage<Admission> stage;
                try {
                    stage = h.onAcceptedAsync(c);
                    if (stage == null) {
                        throw new NullPointerException("onAcceptedAsync returned null");
                    }
                } catch (Throwable t) {
                    String why = failure(name(h) + ".onAcceptedAsync", c, t);
                    if (failClosed) {
                        k.admitted(why);
                        return;
                    }
                    continue;
                }
                if (!isDone(stage)) {
                    new Pending<Admission>(c, k, h, i, null).await(stage);
                    return;
                }
                Object r = joinNow(stage);
                if (r instanceof Failure) {
                    String why = failure(name(h) + ".onAcceptedAsync", c, ((Failure) r).cause);
                    if (failClosed) {
                        k.admitted(why);
                        return;
                    }
                    continue;
                }
                a = (Admission) r;
            }
            String refusal = admission(c, h, a);
            if (refusal != null) {
                k.admitted(refusal);
                return;
            }
        }
        k.admitted(null);
    }

    /** Returns the refusal for a hook's admission, or {@code null} to go on with the next hook. */
    private String admission(ConnectionState c, Hook h, Admission a) {
        if (a == Admission.REFUSE) {
            return "refused by hook " + name(h) + " on accept";
        }
        if (a == null) {
            String why = failure(name(h) + ".onAccepted", c, new NullPointerException("returned null"));
            return failClosed ? why : null;
        }
        return null;
    }

    // ---------------------------------------------------------------- route decision

    /**
     * Asks the connection's started hooks about the chosen target, in order, until one does not proceed; answers
     * through {@link Verdicts#routeDecided}, at once or later on the connection's event loop (never when the
     * connection closed meanwhile).
     */
    public void routeChosen(ConnectionState c, ForwardTarget target, Verdicts k) {
        routeFrom(c, target, k, 0);
    }

    private void routeFrom(ConnectionState c, ForwardTarget target, Verdicts k, int from) {
        Hook[] hs = c.hooks() == null ? NONE : c.hooks();
        int n = c.startedHooks();
        for (int i = from; i < n; i++) {
            Hook h = hs[i];
            RouteDecision d;
            if (!ASYNC.get(h.getClass())[1]) {
                try {
                    d = h.onRouteChosen(c, target);
                } catch (Throwable t) {
                    String why = failure(name(h) + ".onRouteChosen", c, t);
                    if (failClosed) {
                        k.routeDecided(RouteDecision.refuse(why));
                        return;
                    }
                    continue;
                }
            } else {
                CompletionStage<RouteDecision> stage;
                try {
                    stage = h.onRouteChosenAsync(c, target);
                    if (stage == null) {
                        throw new NullPointerException("onRouteChosenAsync returned null");
                    }
                } catch (Throwable t) {
                    String why = failure(name(h) + ".onRouteChosenAsync", c, t);
                    if (failClosed) {
                        k.routeDecided(RouteDecision.refuse(why));
                        return;
                    }
                    continue;
                }
                if (!isDone(stage)) {
                    new Pending<RouteDecision>(c, k, h, i, target).await(stage);
                    return;
                }
                Object r = joinNow(stage);
                if (r instanceof Failure) {
                    String why = failure(name(h) + ".onRouteChosenAsync", c, ((Failure) r).cause);
                    if (failClosed) {
                        k.routeDecided(RouteDecision.refuse(why));
                        return;
                    }
                    continue;
                }
                d = (RouteDecision) r;
            }
            if (d != null && d != RouteDecision.proceed()) {
                k.routeDecided(d);
                return;
            }
        }
        k.routeDecided(RouteDecision.proceed());
    }

    // ---------------------------------------------------------------- waiting

    /** A failed stage's cause, told apart from a value by its type. */
    private static final class Failure {
        final Throwable cause;

        Failure(Throwable cause) {
            this.cause = cause;
        }
    }

    private static boolean isDone(CompletionStage<?> stage) {
        return stage instanceof CompletableFuture && ((CompletableFuture<?>) stage).isDone();
    }

    private static Object joinNow(CompletionStage<?> stage) {
        try {
            return ((CompletableFuture<?>) stage).join();
        } catch (Throwable t) {
            return new Failure(unwrap(t));
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /**
     * One hook's pending asynchronous verdict: completes once, on the connection's event loop, with the stage's
     * outcome or the timeout, whichever comes first, then goes on with the next hook.
     */
    private final class Pending<T> implements BiConsumer<T, Throwable>, Runnable {
        private final ConnectionState c;
        private final Verdicts k;
        private final Hook hook;
        private final int index;
        /** The chosen target of a route decision, {@code null} for admission. */
        private final ForwardTarget target;
        private final EventLoop loop;
        private ScheduledFuture<?> timer;
        private boolean settled;

        Pending(ConnectionState c, Verdicts k, Hook hook, int index, ForwardTarget target) {
            this.c = c;
            this.k = k;
            this.hook = hook;
            this.index = index;
            this.target = target;
            this.loop = c.eventLoop();
        }

        void await(CompletionStage<T> stage) {
            timer = loop.schedule(this, timeoutNanos, TimeUnit.NANOSECONDS);
            // A client that leaves stops the wait at once: no timer outlives the connection.
            c.onClientClosed(() -> timer.cancel(false));
            stage.whenComplete(this);
        }

        /** The timeout, on the event loop. */
        @Override
        public void run() {
            settle(null, new TimeoutException("no answer within " + java.time.Duration.ofNanos(timeoutNanos)));
        }

        /** The stage completed, on any thread. */
        @Override
        public void accept(T value, Throwable error) {
            if (loop.inEventLoop()) {
                settle(value, error);
            } else {
                loop.execute(() -> settle(value, error));
            }
        }

        private void settle(T value, Throwable error) {
            if (settled) {
                return;
            }
            settled = true;
            timer.cancel(false);
            if (!c.isClientActive()) {
                log.debug("[{}] hook {} answered after the connection closed", c.id(), name(hook));
                return;
            }
            boolean admission = target == null;
            String method = name(hook) + (admission ? ".onAcceptedAsync" : ".onRouteChosenAsync");
            if (error != null) {
                String why = failure(method, c, unwrap(error));
                if (failClosed) {
                    if (admission) {
                        k.admitted(why);
                    } else {
                        k.routeDecided(RouteDecision.refuse(why));
                    }
                    return;
                }
            } else if (admission) {
                String refusal = admission(c, hook, (Admission) value);
                if (refusal != null) {
                    k.admitted(refusal);
                    return;
                }
            } else {
                RouteDecision d = (RouteDecision) value;
                if (d != null && d != RouteDecision.proceed()) {
                    k.routeDecided(d);
                    return;
                }
            }
            if (admission) {
                acceptFrom(c, k, index + 1);
            } else {
                routeFrom(c, target, k, index + 1);
            }
        }
    }

    // ---------------------------------------------------------------- events

    public void detected(ConnectionState c, Detection d) {
        Hook[] hs = c.hooks();
        for (int i = 0, n = c.startedHooks(); i < n; i++) {
            try {
                hs[i].onDetected(c, d);
            } catch (Throwable t) {
                failed(hs[i], "onDetected", c, t);
            }
        }
    }

    public void detectionFailed(ConnectionState c, DetectionFailure reason, int peekedBytes) {
        Hook[] hs = c.hooks();
        for (int i = 0, n = c.startedHooks(); i < n; i++) {
            try {
                hs[i].onDetectionFailed(c, reason, peekedBytes);
            } catch (Throwable t) {
                failed(hs[i], "onDetectionFailed", c, t);
            }
        }
    }

    public void backendConnected(ConnectionState c, InetSocketAddress backend) {
        Hook[] hs = c.hooks();
        for (int i = 0, n = c.startedHooks(); i < n; i++) {
            try {
                hs[i].onBackendConnected(c, backend);
            } catch (Throwable t) {
                failed(hs[i], "onBackendConnected", c, t);
            }
        }
    }

    public void backendFailed(ConnectionState c, InetSocketAddress backend, Throwable cause) {
        Hook[] hs = c.hooks();
        for (int i = 0, n = c.startedHooks(); i < n; i++) {
            try {
                hs[i].onBackendFailed(c, backend, cause);
            } catch (Throwable t) {
                failed(hs[i], "onBackendFailed", c, t);
            }
        }
    }

    /** Tells the shared hooks (not the per-connection ones) about a health change. */
    public void healthChanged(HealthChange change) {
        for (Hook h : hooks) {
            try {
                h.onHealthChanged(change);
            } catch (Throwable t) {
                log.warn("hook {}.onHealthChanged threw; ignoring it: {}", h.getClass().getName(), t.toString(), t);
            }
        }
    }

    /** Tells the hooks that were asked {@code onAccepted} that the connection ended. */
    public void closed(ConnectionState c, ConnectionSummary s) {
        Hook[] hs = c.hooks();
        for (int i = 0, n = c.startedHooks(); i < n; i++) {
            try {
                hs[i].onClosed(c, s);
            } catch (Throwable t) {
                failed(hs[i], "onClosed", c, t);
            }
        }
    }

    // ---------------------------------------------------------------- failures

    private static String name(Hook h) {
        return h.getClass().getName();
    }

    /** Logs a failure at a verdict point and returns it in words, for the refusal's detail. */
    private String failure(String where, ConnectionState c, Throwable t) {
        String why = "hook " + where + " failed: " + t;
        log.warn("[{}] {}; {}", c.id(), why, failClosed ? "refusing the connection (FAIL_CLOSED)"
                : "ignoring it (FAIL_OPEN)", t instanceof TimeoutException ? null : t);
        return why;
    }

    private static void failed(Hook h, String method, ConnectionState c, Throwable t) {
        log.warn("[{}] hook {}.{} threw; ignoring it: {}", c.id(), h.getClass().getName(), method, t.toString(), t);
    }

    private static boolean overrides(Class<?> type, String method, Class<?>... params) {
        try {
            return type.getMethod(method, params).getDeclaringClass() != Hook.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
