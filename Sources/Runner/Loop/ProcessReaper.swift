import CUV
import Glibc

/// Reaps orphans that ward adopts as a child subreaper. A process that leaves
/// its run's group (setsid) and outlives its parent is reparented to ward, not
/// to init, so ward can still find and kill it; once dead it must be waited
/// for, or it stays a zombie. libuv only waits for the pids it spawned, so
/// this watcher waits, on SIGCHLD, for every other child of ward.
///
/// It never calls `waitpid(-1)`: that would steal the exit status of a child
/// libuv is about to reap. Any code in ward that forks without libuv would
/// lose its child's status to this reaper; ward has none, and must keep it so.
public final class ProcessReaper {
    /// Pids of live libuv process handles: their status belongs to libuv.
    /// All loops run on the one loop thread, so one set serves the process.
    static var libuvChildren: Set<pid_t> = []
    /// Whether this process already asked to be a child subreaper.
    static var isSubreaper = false

    /// The SIGCHLD watcher; unreferenced, so it never keeps a loop running.
    let watcher: SignalWatcher
    /// Orphans reaped so far by this reaper (for tests and logs).
    public private(set) var reapedCount = 0
    /// Sessions of the adopted orphans still alive at the last scan. Every
    /// run leads its own session, so a run whose id is here left a process
    /// behind in another group of its session (job control's `set -m`).
    public private(set) var liveOrphanSessions: Set<pid_t> = []

    /// The reaper of `loop`, created on first use: makes ward a child
    /// subreaper and starts the SIGCHLD watcher. Calling it again returns the
    /// same reaper.
    @discardableResult
    public static func install(loop: EventLoop) throws(UVError) -> ProcessReaper {
        if let existing = loop.reaper { return existing }
        try becomeSubreaper()
        let reaper = try ProcessReaper(loop: loop)
        loop.reaper = reaper
        // An orphan may have died before the watcher existed.
        reaper.reapOrphans()
        return reaper
    }

    /// Asks the kernel to reparent ward's orphaned descendants to ward.
    /// Process-wide and idempotent.
    public static func becomeSubreaper() throws(UVError) {
        if isSubreaper { return }
        if cuv_set_child_subreaper() != 0 {
            throw UVError(errno: errno, call: "prctl(PR_SET_CHILD_SUBREAPER)")
        }
        isSubreaper = true
    }

    /// Records a pid that a libuv process handle will reap.
    static func track(_ pid: pid_t) {
        libuvChildren.insert(pid)
    }

    /// Forgets a pid once libuv has reaped it.
    static func untrack(_ pid: pid_t) {
        libuvChildren.remove(pid)
    }

    private init(loop: EventLoop) throws(UVError) {
        watcher = SignalWatcher(loop: loop)
        do {
            try watcher.start(.childExit) { [weak self] _ in self?.reapOrphans() }
        } catch {
            watcher.close()
            throw error
        }
        watcher.unref()
    }

    /// Whether the watcher is still open.
    var isOpen: Bool { watcher.isOpen }

    /// Waits, without blocking, for every child of ward that libuv does not
    /// own. Returns the pids reaped.
    @discardableResult
    public func reapOrphans() -> [pid_t] {
        var reaped: [pid_t] = []
        var alive: Set<pid_t> = []
        let ownSession = getsid(0)
        for pid in ProcessTable.childrenOfSelf() where !ProcessReaper.libuvChildren.contains(pid) {
            // Every run leads its own session, so an adopted orphan is never in
            // ward's. A child in ward's own session was started some other way
            // (a test harness's helper, say) and its status is its starter's.
            let entry = ProcessTable.info(pid)
            if let entry, entry.session == ownSession { continue }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.append(pid)
            } else if let entry {
                alive.insert(entry.session)
            }
        }
        reapedCount += reaped.count
        liveOrphanSessions = alive
        return reaped
    }

    /// Stops watching; called by `EventLoop.close()`.
    func close() {
        watcher.close()
    }
}
