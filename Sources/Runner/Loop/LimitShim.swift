import CUV
import Glibc

/// ward's pre-exec step for actions with `limits:`. libuv forks and execs in
/// one call, leaving no place to run code in between, so the engine starts
/// ward itself (`/proc/self/exe`, the same binary even if it was replaced on
/// disk) with `__apply-limits NAME=VALUE... -- ARGV...`: this applies the
/// limits to its own process and then execs the action's program, which
/// inherits them, as does everything it starts. It runs before anything else
/// in ward's `main`.
nonisolated public enum LimitShim {
    /// The first argument that selects the shim.
    public static let marker = "__apply-limits"
    /// The path the engine executes.
    public static let selfPath = "/proc/self/exe"
    /// Seconds between the CPU soft limit (SIGXCPU) and the hard one (SIGKILL).
    public static let cpuKillMargin: Int64 = 2

    /// The shim's argv for `limits` around the program's `argv`.
    public static func argv(limits: [(limit: ChildLimit, value: Int64)], program: [String])
        -> [String]
    {
        ["ward", marker] + limits.map { "\($0.limit.rawValue)=\($0.value)" } + ["--"] + program
    }

    /// Applies the limits and execs the program, when `arguments` ask for the
    /// shim; returns (doing nothing) otherwise. On failure it prints one line to
    /// stderr and exits 126 (a limit could not be applied) or 127 (no program).
    public static func runIfRequested(_ arguments: [String]) {
        guard arguments.count > 1, arguments[1] == marker else { return }
        var i = 2
        while i < arguments.count, arguments[i] != "--" {
            let pair = arguments[i].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, let limit = ChildLimit(rawValue: pair[0]),
                let value = Int64(pair[1])
            else { fail(126, "bad limit \(arguments[i])") }
            if let problem = apply(limit, value) { fail(126, problem) }
            i += 1
        }
        let program = Array(arguments.dropFirst(i + 1))
        guard let path = program.first else { fail(127, "no program after --") }
        var cArgs = program.map { strdup($0) } + [nil]
        execv(path, &cArgs)
        fail(127, "cannot execute \(path): \(String(cString: strerror(errno)))")
    }

    /// Applies one limit to this process; a sentence when it failed.
    static func apply(_ limit: ChildLimit, _ value: Int64) -> String? {
        let resource: Int32
        var soft = rlim_t(value)
        var hard = rlim_t(value)
        switch limit {
        case .nice:
            // Only ever lower the priority: a ward already running niced keeps
            // its children at least as nice (and an unprivileged ward could
            // not go back up anyway).
            errno = 0
            let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            let target = errno == 0 ? max(Int32(value), current) : Int32(value)
            if errno == 0 && target == current { return nil }
            return setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, target) == 0
                ? nil : "setpriority(\(target)): \(String(cString: strerror(errno)))"
        case .cpuSeconds:
            resource = Int32(RLIMIT_CPU.rawValue)
            hard = rlim_t(value + cpuKillMargin)
        case .memoryMB:
            resource = Int32(RLIMIT_AS.rawValue)
            soft = rlim_t(value) * 1024 * 1024
            hard = soft
        case .openFiles: resource = Int32(RLIMIT_NOFILE.rawValue)
        case .processes: resource = Int32(__RLIMIT_NPROC.rawValue)
        }
        var current = rlimit()
        if getrlimit(__rlimit_resource_t(UInt32(resource)), &current) == 0 {
            // Never raise a limit the service manager (or ward's own
            // starter) already set lower, soft or hard.
            soft = min(soft, current.rlim_cur)
            hard = min(hard, current.rlim_max)
            soft = min(soft, hard)
        }
        var wanted = rlimit(rlim_cur: soft, rlim_max: hard)
        return setrlimit(__rlimit_resource_t(UInt32(resource)), &wanted) == 0
            ? nil : "setrlimit(\(limit.rawValue)=\(value)): \(String(cString: strerror(errno)))"
    }

    static func fail(_ code: Int32, _ message: String) -> Never {
        let line = Array("ward: \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        _exit(code)
    }
}
