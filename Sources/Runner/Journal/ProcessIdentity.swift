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

    /// Bytes read from a stat file: the fields up to starttime fit in a few
    /// hundred bytes even with a 16-byte command name.
    private static let statReadLimit = 4096

    /// This process. Without a readable /proc the start is 0, and liveness
    /// checks fall back to the pid alone.
    public static func current() -> ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, start: stat(path: "/proc/self/stat")?.start ?? 0)
    }

    /// Whether the process `pid` that started at `start` still runs: false when
    /// the pid is gone, has exited (a zombie), or now belongs to a process that
    /// started at another time. A `start` of 0 checks the pid only.
    public static func isAlive(pid: Int32, start: Int64) -> Bool {
        guard pid > 0 else { return false }
        guard let info = stat(path: "/proc/\(pid)/stat") else {
            // No readable /proc entry: the pid is gone, or /proc is absent or
            // hidden. kill(0) tells which without touching the process; when it
            // exists its start cannot be checked, and calling a live run
            // abandoned would be the worse mistake.
            return kill(pid, 0) == 0 || errno == EPERM
        }
        if info.state == UInt8(ascii: "Z") || info.state == UInt8(ascii: "X") { return false }
        return start == 0 || info.start == start
    }

    /// Whether this identity's process still runs.
    public var isAlive: Bool { ProcessIdentity.isAlive(pid: pid, start: start) }

    /// State letter and start time from a `/proc/<pid>/stat` file.
    private static func stat(path: String) -> (state: UInt8, start: Int64)? {
        let fd = cuv_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: statReadLimit)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return parse(Array(buffer.prefix(n)))
    }

    /// Parses a stat line. The command name (field 2) is in parentheses and may
    /// itself hold spaces and parentheses, so fields are counted after the last `)`.
    static func parse(_ bytes: [UInt8]) -> (state: UInt8, start: Int64)? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
        guard fields.count > 19, let state = fields[0].first,
            let start = Int64(String(decoding: fields[19], as: UTF8.self))
        else { return nil }
        return (state, start)
    }
}
