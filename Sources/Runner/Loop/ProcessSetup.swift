import CUV
import Glibc

/// Process-wide settings ward applies once at start, before any loop runs.
public enum ProcessSetup {
    /// The first signal libuv does not reset in a child (it resets 1-31).
    static let firstRealtimeSignal: Int32 = 32
    /// The kernel's highest signal number on Linux (_NSIG - 1 on x86-64 and
    /// arm64); glibc's SIGRTMAX is a function call Swift cannot import.
    static let lastSignal: Int32 = 64

    /// Ignores SIGPIPE, so a reader that goes away (a closed socket, a closed
    /// stdout) turns into an EPIPE error instead of killing ward; marks ward
    /// non-dumpable, so another process of the same user cannot read its
    /// memory or environment through /proc; makes ward the child subreaper
    /// of its descendants; marks every descriptor ward inherited above
    /// stderr close-on-exec, so a leak from whoever started ward does not
    /// pass on to the children it runs; and fixes the heap's thresholds
    /// (`fixHeapThresholds`). Children get default signal
    /// dispositions back at spawn: libuv resets signals 1-31 in the child,
    /// and this resets any real-time signal (32-64) ward inherited as ignored,
    /// which libuv leaves alone (`swift test` itself starts its test binary
    /// with signal 32 ignored). Safe to call again.
    public static func apply() throws(UVError) {
        // Whoever started ward may have blocked signals (a thread of a test
        // runner, a careless supervisor); a blocked SIGCHLD would leave the loop
        // waiting forever for children that already exited.
        var empty = sigset_t()
        sigemptyset(&empty)
        if pthread_sigmask(SIG_SETMASK, &empty, nil) != 0 {
            throw UVError(errno: errno, call: "pthread_sigmask")
        }
        signal(SIGPIPE, SIG_IGN)
        for number in firstRealtimeSignal...lastSignal where cuv_reset_ignored_signal(number) < 0 {
            throw UVError(errno: errno, call: "rt_sigaction(\(number))")
        }
        if cuv_set_not_dumpable() != 0 {
            throw UVError(errno: errno, call: "prctl(PR_SET_DUMPABLE)")
        }
        try ProcessReaper.becomeSubreaper()
        markInheritedCloseOnExec()
        fixHeapThresholds(environment: ChildEnvironment.currentDictionary())
    }

    /// Blocks under this size come from the heap, not from a mapping of
    /// their own: every buffer a stream frees and allocates again (a
    /// websocket frame, a 128 KiB write, ciphertext) is under it.
    static let mmapThreshold: Int32 = 256 * 1024
    /// Free space kept at the top of the heap before it goes back to the
    /// kernel: one megabyte, a few writes' worth of a stream.
    static let trimThreshold: Int32 = 1024 * 1024

    /// Fixes the allocator's thresholds (`cuv_fix_malloc_thresholds`) unless
    /// `GLIBC_TUNABLES` already sets either: the operator's word wins. With
    /// glibc's moving thresholds a 256 MiB stream to the control plane took
    /// 35,000-47,000 page faults, with these under 1,000, and about 10 % less
    /// CPU (docs/benchmarks.md).
    static func fixHeapThresholds(environment: [String: String]) {
        let tunables = environment["GLIBC_TUNABLES"] ?? ""
        guard !tunables.contains("glibc.malloc.mmap_threshold"),
            !tunables.contains("glibc.malloc.trim_threshold")
        else { return }
        // Only an out-of-range value fails, and these are in range.
        _ = cuv_fix_malloc_thresholds(mmapThreshold, trimThreshold)
    }

    /// Sets FD_CLOEXEC on every open descriptor above 2.
    static func markInheritedCloseOnExec() {
        for name in ProcessTable.listDirectory("/proc/self/fd") {
            guard let fd = Int32(name), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            // The directory's own descriptor is listed too and is gone by now.
            if flags >= 0 && flags & FD_CLOEXEC == 0 {
                _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
            }
        }
    }
}
