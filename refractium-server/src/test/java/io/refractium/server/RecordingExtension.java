package io.refractium.server;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link ServerExtension} for tests: records what it saw, found through {@code META-INF/services}. */
public final class RecordingExtension implements ServerExtension {

    static final List<String> EVENTS = new CopyOnWriteArrayList<>();

    /** Made by {@link java.util.ServiceLoader}. */
    public RecordingExtension() {
    }

    @Override
    public AutoCloseable start(Server server) {
        EVENTS.add("started " + server.refractium().isRunning());
        return () -> EVENTS.add("closed " + server.refractium().isRunning());
    }
}
