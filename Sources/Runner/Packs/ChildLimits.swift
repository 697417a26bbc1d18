/// A resource limit an action may put on its child before the program starts
/// (`limits:` in a pack). Each is applied with setrlimit(2) or setpriority(2)
/// by ward's pre-exec step, so it also binds everything the child starts.
nonisolated public enum ChildLimit: String, CaseIterable, Sendable {
    /// CPU seconds (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL two seconds later.
    case cpuSeconds = "cpu_s"
    /// Address space in MiB (RLIMIT_AS): allocations past it fail.
    case memoryMB = "memory_mb"
    /// Open file descriptors (RLIMIT_NOFILE): opening more fails with EMFILE.
    case openFiles = "open_files"
    /// Processes of the service user (RLIMIT_NPROC): forking past it fails.
    /// The kernel counts every process of the user, and does not apply it to
    /// root.
    case processes
    /// Niceness, 0 (normal) to 19 (lowest priority); never raised above normal.
    case nice

    /// What a pack may declare: wide enough for any real job, narrow enough
    /// that a typo (a byte count in `memory_mb`) is caught.
    public var bounds: ClosedRange<Int64> {
        switch self {
        case .cpuSeconds: 1...604_800
        case .memoryMB: 16...1_048_576
        case .openFiles: 16...1_048_576
        case .processes: 1...1_000_000
        case .nice: 0...19
        }
    }

    /// The highest value a pack gets when the config sets no ceiling: the
    /// bounds themselves. `nice` has no ceiling (a higher value is always
    /// allowed: it only lowers the child's priority).
    public static func defaultCeiling(_ limit: ChildLimit) -> Int64 {
        limit.bounds.upperBound
    }
}

extension Action {
    /// The declared limits with their values, in `ChildLimit.allCases` order.
    public var orderedLimits: [(limit: ChildLimit, value: Int64)] {
        ChildLimit.allCases.compactMap { limit in limits[limit].map { (limit, $0) } }
    }
}

/// Reads an action's `limits:` mapping.
enum ChildLimitParser {
    /// The limits in `node`, each within its bounds and the config's ceiling
    /// (a value above the ceiling loads with a warning and gets the ceiling).
    static func parse(
        _ node: YAMLNode, path: String, ceilings: [ChildLimit: Int64], into d: inout Diagnostics
    ) -> [ChildLimit: Int64] {
        guard
            let fields = Fields(
                node, path: path, allowed: ChildLimit.allCases.map(\.rawValue), into: &d)
        else { return [:] }
        var out: [ChildLimit: Int64] = [:]
        for limit in ChildLimit.allCases {
            guard let value = fields.integer(limit.rawValue, into: &d) else { continue }
            let location = fields[limit.rawValue]!.location
            let key = fields.path(limit.rawValue)
            guard limit.bounds.contains(value) else {
                d.error(
                    location,
                    "\(key): \(value) is outside \(limit.bounds.lowerBound) to"
                        + " \(limit.bounds.upperBound)")
                continue
            }
            let ceiling = limit == .nice ? value : (ceilings[limit] ?? limit.bounds.upperBound)
            if value > ceiling {
                d.warning(
                    location,
                    "\(key): \(value) is above the config's ceiling \(ceiling); \(ceiling) is used")
                out[limit] = ceiling
            } else {
                out[limit] = value
            }
        }
        return out
    }
}
