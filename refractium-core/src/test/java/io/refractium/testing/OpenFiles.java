package io.refractium.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The file descriptors of the test process, for leak checks. */
public final class OpenFiles {

    private static final Path FDS = Path.of("/proc/self/fd");

    private OpenFiles() {
    }

    /**
     * Returns how many sockets, pipes and other descriptors that are not files on disk (epoll and event descriptors)
     * this process has open (Linux), or -1 where that cannot be read. Files on disk are left out: the class loader
     * opens each jar the first time it loads a class from it and keeps it open, which is not a leak.
     */
    public static int count() {
        try (Stream<Path> fds = Files.list(FDS)) {
            return (int) fds.filter(fd -> !isFileOnDisk(fd)).count();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    private static boolean isFileOnDisk(Path fd) {
        try {
            return Files.readSymbolicLink(fd).isAbsolute();
        } catch (IOException e) {
            return false; // closed while listing
        }
    }
}
