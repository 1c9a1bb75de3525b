package io.refractium.internal.engine;

import io.refractium.ForwardTarget;
import io.refractium.hook.Admission;
import io.refractium.hook.ConnectionInfo;
import io.refractium.hook.ConnectionSummary;
import io.refractium.hook.Detection;
import io.refractium.hook.DetectionFailure;
import io.refractium.hook.HealthChange;
import io.refractium.hook.Hook;
import io.refractium.hook.RouteDecision;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Calls the registered hooks in order; a hook that throws is logged and treated as returning the default. */
public final class HookDispatcher {

    private static final Logger log = LoggerFactory.getLogger(HookDispatcher.class);

    private final Hook[] hooks;

    public HookDispatcher(List<Hook> hooks) {
        this.hooks = hooks.toArray(new Hook[0]);
    }

    public boolean isEmpty() {
        return hooks.length == 0;
    }

    public Admission accepted(ConnectionInfo c) {
        for (Hook h : hooks) {
            try {
                if (h.onAccepted(c) == Admission.REFUSE) {
                    return Admission.REFUSE;
                }
            } catch (Throwable t) {
                failed(h, "onAccepted", c, t);
            }
        }
        return Admission.ACCEPT;
    }

    public void detected(ConnectionInfo c, Detection d) {
        for (Hook h : hooks) {
            try {
                h.onDetected(c, d);
            } catch (Throwable t) {
                failed(h, "onDetected", c, t);
            }
        }
    }

    public void detectionFailed(ConnectionInfo c, DetectionFailure reason, int peekedBytes) {
        for (Hook h : hooks) {
            try {
                h.onDetectionFailed(c, reason, peekedBytes);
            } catch (Throwable t) {
                failed(h, "onDetectionFailed", c, t);
            }
        }
    }

    /** Returns the decision of the first hook that does not proceed, or proceed. */
    public RouteDecision routeChosen(ConnectionInfo c, ForwardTarget target) {
        for (Hook h : hooks) {
            try {
                RouteDecision d = h.onRouteChosen(c, target);
                if (d != null && d != RouteDecision.proceed()) {
                    return d;
                }
            } catch (Throwable t) {
                failed(h, "onRouteChosen", c, t);
            }
        }
        return RouteDecision.proceed();
    }

    public void backendConnected(ConnectionInfo c, InetSocketAddress backend) {
        for (Hook h : hooks) {
            try {
                h.onBackendConnected(c, backend);
            } catch (Throwable t) {
                failed(h, "onBackendConnected", c, t);
            }
        }
    }

    public void backendFailed(ConnectionInfo c, InetSocketAddress backend, Throwable cause) {
        for (Hook h : hooks) {
            try {
                h.onBackendFailed(c, backend, cause);
            } catch (Throwable t) {
                failed(h, "onBackendFailed", c, t);
            }
        }
    }

    public void healthChanged(HealthChange change) {
        for (Hook h : hooks) {
            try {
                h.onHealthChanged(change);
            } catch (Throwable t) {
                log.warn("hook {}.onHealthChanged threw; ignoring it: {}", h.getClass().getName(), t.toString(), t);
            }
        }
    }

    public void closed(ConnectionInfo c, ConnectionSummary s) {
        for (Hook h : hooks) {
            try {
                h.onClosed(c, s);
            } catch (Throwable t) {
                failed(h, "onClosed", c, t);
            }
        }
    }

    private static void failed(Hook h, String method, ConnectionInfo c, Throwable t) {
        log.warn("[{}] hook {}.{} threw; ignoring it: {}", c.id(), h.getClass().getName(), method, t.toString(), t);
    }
}
