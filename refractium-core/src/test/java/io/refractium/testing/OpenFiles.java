package io.refractium.testing;

import java.io.File;

/** The file descriptors of the test process, for leak checks. */
public final class OpenFiles {

    private OpenFiles() {
    }

    /** Returns how many file descriptors this process has open (Linux), or -1 where that cannot be read. */
    public static int count() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }
}
