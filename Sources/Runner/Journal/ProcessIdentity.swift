import CUV
import Glibc

/// A process named so that a reused pid is not mistaken for it: the pid plus
/// the start time the kernel recorded (field 22 of `/proc/<pid>/stat`, in
/// clock ticks since boot).
nonisolated public struct ProcessIdentity: Equatable, Hashable, Sendable {
    /// The process id.
    public var pid: Int32
    /// Start time in clock ticks since boot; 0 when /proc could not tell.
    public var start: Int64

    /// An identity from its parts.
    public init(pid: Int32, start: Int64) {
        self.pid = pid
        self.start = start
    }

    /// This process's identity.
    public static func current() -> ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, start: Int64(ProcessTable.info(pid)?.startTime ?? 0))
    }

    /// Whether the process `pid` that started at `start` (clock ticks after boot)
    /// still runs: a gone pid, a zombie, or a pid reused by a later process is not.
    /// A `start` of 0 (unknown) accepts any live process with that pid.
    public static func isAlive(pid: Int32, start: Int64) -> Bool {
        guard pid > 0 else { return false }
        guard let info = ProcessTable.info(pid) else {
            // No readable /proc entry: the pid is gone, or /proc is absent or
            // hidden. kill(0) tells which without touching the process; when it
            // exists its start cannot be checked, and calling a live run
            // abandoned would be the worse mistake.
            return kill(pid, 0) == 0 || errno == EPERM
        }
        if info.state == UInt8(ascii: "Z") || info.state == UInt8(ascii: "X") { return false }
        return start == 0 || Int64(info.startTime) == start
    }

    /// Whether this identity's process still runs.
    public var isAlive: Bool { ProcessIdentity.isAlive(pid: pid, start: start) }

    /// State and start time from the text of a `/proc/<pid>/stat` file.
    static func parse(_ bytes: [UInt8]) -> (state: UInt8, start: Int64)? {
        ProcessTable.parseStat(bytes).map { ($0.state, Int64($0.startTime)) }
    }
}
