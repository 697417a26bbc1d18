import Glibc

/// One process for good: a pid plus its start time, so a pid the kernel has
/// since given to another process is never signalled by mistake.
nonisolated public struct ProcessInstance: Hashable, Sendable {
    /// The process id.
    public var pid: pid_t
    /// Start time in clock ticks after boot, from /proc/<pid>/stat.
    public var startTime: UInt64

    /// The identity of `entry`.
    public init(_ entry: ProcessEntry) {
        pid = entry.pid
        startTime = entry.startTime
    }
}

/// Finds the processes that belong to one run, from a /proc snapshot. A run
/// is its direct child (`root`) plus everything it started, which can hide in
/// three ways, so three rules are applied and their results joined:
/// (a) parentage: descendants reached from the root through parent links;
/// (b) the root's process group and session (ward starts every child as a
///     session leader, so both ids equal the root's pid), which still finds a
///     background job after the root was reaped and the job was reparented;
/// (c) holders of the run's pipes, which finds a process that left the group
///     with setsid and whose parent already exited.
/// Everything below a found process is found too.
///
/// Known gap: a process that calls setsid, drops the run's pipes (redirects
/// to /dev/null) and whose parent exits before ward looks matches none of the
/// rules: it outlives the run as an orphan adopted by ward, is reaped when it
/// ends, but is never killed. Only a cgroup per run would catch it; ward does
/// not create cgroups yet.
nonisolated public struct RunMembers: Equatable, Sendable {
    /// Live members of the run, never the root itself and never ward.
    public var processes: [ProcessEntry]
    /// The pids among them (or beyond them) that hold one of the run's pipes.
    public var pipeHolders: Set<pid_t>

    /// Finds the run rooted at `root` in `table`. `rootReaped` says the root
    /// has been waited for: its pid may then be reused, and rule (b) is only
    /// trusted while no process holds that pid. `pipeInodes` are the run's
    /// pipes still open; empty skips rule (c), the expensive one (it reads
    /// every process's descriptor links).
    public static func find(
        root: pid_t, rootReaped: Bool, pipeInodes: Set<UInt64>, table: [ProcessEntry]
    ) -> RunMembers {
        let me = getpid()
        var byPid: [pid_t: ProcessEntry] = [:]
        var children: [pid_t: [pid_t]] = [:]
        for entry in table {
            byPid[entry.pid] = entry
            children[entry.parent, default: []].append(entry.pid)
        }

        var seeds: [pid_t] = []
        if !rootReaped {
            seeds.append(root)
        }
        let groupTrusted = !rootReaped || byPid[root] == nil
        if groupTrusted {
            seeds += table.filter { $0.group == root || $0.session == root }.map(\.pid)
        }
        var holders: Set<pid_t> = []
        if !pipeInodes.isEmpty {
            let candidates = table.filter { !$0.isZombie }.map(\.pid)
            holders = ProcessTable.holders(ofPipes: pipeInodes, among: candidates)
            seeds += holders
        }

        // Walk down from every seed; `seen` also stops a cycle that a racing
        // reparent could make in a snapshot read over time.
        var seen: Set<pid_t> = []
        var queue = seeds
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted else { continue }
            queue += children[pid] ?? []
        }

        let processes = seen.compactMap { pid -> ProcessEntry? in
            guard pid != root, pid != me, let entry = byPid[pid], !entry.isZombie else {
                return nil
            }
            return entry
        }.sorted { $0.pid < $1.pid }
        return RunMembers(processes: processes, pipeHolders: holders)
    }
}
