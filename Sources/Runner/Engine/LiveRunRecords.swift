import CUV
import Glibc

/// One small file per running child under `<journal folder>/live/`, naming the
/// child's process (the leader of its own session) and the ward process that owns
/// it. A ward killed with SIGKILL cannot stop its children; the next ward to start
/// finds the files of dead owners and kills what is left of those sessions.
///
/// The files are written without fsync: after a machine crash there is nothing
/// left to kill, and after a ward crash the page cache still holds them.
public struct LiveRunRecords {
    /// The folder holding the records.
    let directory: String

    /// Records beside the journal at `journalPath`.
    public init(journalPath: String) {
        let parent = journalPath.split(separator: "/", omittingEmptySubsequences: false)
            .dropLast().joined(separator: "/")
        directory = (parent.isEmpty ? "." : parent) + "/live"
    }

    /// Notes that `runID`'s child `child` runs under this ward process.
    func record(runID: String, child: pid_t, owner: ProcessIdentity) {
        _ = mkdir(directory, 0o700)
        let start = ProcessTable.info(child)?.startTime ?? 0
        let text = "\(owner.pid) \(owner.start) \(child) \(start)\n"
        let fd = cuv_open(path(runID), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Forgets `runID`'s record once its run has ended.
    func remove(runID: String) {
        _ = unlink(path(runID))
    }

    /// Kills the sessions of children whose ward died, removes their records and
    /// returns the run ids with the number of processes killed.
    public func killLeftovers() -> [(run: String, killed: Int)] {
        var out: [(run: String, killed: Int)] = []
        var table: [ProcessEntry]?
        for name in ProcessTable.listDirectory(directory) where name.hasPrefix("run-") {
            let file = directory + "/" + name
            guard let fields = LiveRunRecords.read(file), fields.count == 4,
                let ownerPid = Int32(fields[0]), let ownerStart = Int64(fields[1]),
                let child = Int32(fields[2]), let childStart = UInt64(fields[3])
            else {
                _ = unlink(file)
                continue
            }
            if ProcessIdentity.isAlive(pid: ownerPid, start: ownerStart) { continue }
            let processes = table ?? ProcessTable.all()
            table = processes
            // A live process holding the child's pid with another start time means
            // the pid was reused: that session belongs to someone else.
            let reused = processes.contains { $0.pid == child && $0.startTime != childStart }
            var killed = 0
            if !reused {
                for p in processes where p.session == child || p.group == child {
                    if kill(p.pid, SIGKILL) == 0 { killed += 1 }
                }
            }
            _ = unlink(file)
            out.append((String(name.dropFirst(4)), killed))
        }
        return out
    }

    private func path(_ runID: String) -> String {
        // Run ids are validated to [A-Za-z0-9._:-]; the prefix keeps "." and ".."
        // from naming directories.
        directory + "/run-" + runID
    }

    private static func read(_ file: String) -> [Substring]? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" })
    }
}
