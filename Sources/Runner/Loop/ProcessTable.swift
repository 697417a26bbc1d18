import Glibc

/// What /proc/<pid>/stat says about one process.
nonisolated public struct ProcessEntry: Equatable, Sendable {
    /// The process id.
    public var pid: pid_t
    /// The parent's id (ward, as subreaper, for an adopted orphan).
    public var parent: pid_t
    /// The process group id.
    public var group: pid_t
    /// The session id.
    public var session: pid_t
    /// Start time in clock ticks after boot: with `pid`, names one process
    /// for good, so a recycled pid is never mistaken for the old process.
    public var startTime: UInt64
    /// The state letter (`R`, `S`, `Z`...).
    public var state: UInt8

    /// Whether the process has exited and waits to be reaped.
    public var isZombie: Bool { state == UInt8(ascii: "Z") }
}

/// Reads the kernel's process table from /proc, without Foundation. Nothing
/// here is cached: every call reads the current state.
nonisolated public enum ProcessTable {
    /// Largest /proc file read here. A stat line is a few hundred bytes; a
    /// children list of thousands of pids still fits.
    static let readLimit = 64 * 1024

    /// The process `pid`, or nil when it does not exist (or is unreadable).
    public static func info(_ pid: pid_t) -> ProcessEntry? {
        guard let bytes = readFile("/proc/\(pid)/stat") else { return nil }
        return parseStat(bytes)
    }

    /// Every process visible in /proc.
    public static func all() -> [ProcessEntry] {
        listDirectory("/proc").compactMap { name in
            guard let pid = pid_t(name) else { return nil }
            return info(pid)
        }
    }

    /// Children of this process, from /proc/self/task/*/children (each
    /// thread has its own list; an adopted orphan may land on any of them).
    public static func childrenOfSelf() -> [pid_t] {
        var out: [pid_t] = []
        for task in listDirectory("/proc/self/task") {
            guard let bytes = readFile("/proc/self/task/\(task)/children") else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            out += text.split(separator: " ").compactMap { pid_t($0) }
        }
        return out
    }

    /// Pids (other than ward) with a descriptor open on one of the pipes
    /// whose inodes are given, found by reading /proc/<pid>/fd links.
    public static func holders(ofPipes inodes: Set<UInt64>, among pids: [pid_t]) -> Set<pid_t> {
        if inodes.isEmpty { return [] }
        let wanted = Set(inodes.map { "pipe:[\($0)]" })
        let me = getpid()
        var found: Set<pid_t> = []
        for pid in pids where pid != me {
            let dir = "/proc/\(pid)/fd"
            for fd in listDirectory(dir) {
                if let target = readLink("\(dir)/\(fd)"), wanted.contains(target) {
                    found.insert(pid)
                    break
                }
            }
        }
        return found
    }

    /// Parses one /proc/<pid>/stat line. The command name sits in parentheses
    /// and may itself contain spaces and parentheses, so fields are counted
    /// from the last `)`.
    static func parseStat(_ bytes: [UInt8]) -> ProcessEntry? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")),
            let pid = pid_t(String(decoding: bytes.prefix { $0 != 0x20 }, as: UTF8.self))
        else { return nil }
        let rest = bytes[(close + 1)...].split(separator: 0x20)
        // rest[0] is field 3 (state); starttime is field 22.
        guard rest.count >= 20, let state = rest[0].first else { return nil }
        func field(_ number: Int) -> Int64? {
            Int64(String(decoding: rest[number - 3], as: UTF8.self))
        }
        guard let parent = field(4), let group = field(5), let session = field(6),
            let start = field(22)
        else { return nil }
        return ProcessEntry(
            pid: pid, parent: pid_t(parent), group: pid_t(group), session: pid_t(session),
            startTime: UInt64(start), state: state)
    }

    /// The whole file, or nil when it cannot be opened.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < readLimit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// Entry names in a directory, without `.` and `..`; empty when unreadable.
    static func listDirectory(_ path: String) -> [String] {
        // opendir opens its descriptor with O_CLOEXEC.
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The target of a symbolic link, or nil.
    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buf, buf.count - 1)
        if n < 0 { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
