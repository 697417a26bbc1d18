/// Built-in option bounds, the config's default ceilings, and the hard limits on
/// ceilings themselves.
nonisolated public enum OptionDefaults {
    /// Default, lowest and highest value of `name` when a pack writes nothing.
    /// 30 s covers any read-only look at a host; 1 MiB and 10,000 lines are more
    /// than a person or an agent reads from one run. The minimums are floors no pack
    /// can go below: a zero timeout or a cap smaller than one line is a mistake.
    public static func builtIn(_ name: OptionName) -> (defaultValue: Int64, min: Int64, max: Int64)
    {
        switch name {
        case .timeoutS: (30, 1, 300)
        case .maxOutputBytes: (1_048_576, 1024, 16_777_216)
        case .maxOutputLines: (10_000, 1, 100_000)
        }
    }

    /// The config's ceiling for `name` when it does not set one: an hour, 64 MiB and
    /// a million lines, so packs may raise their maximums well past the built-in ones
    /// for long maintenance actions while a runaway child is still stopped.
    public static func defaultCeiling(_ name: OptionName) -> Int64 {
        switch name {
        case .timeoutS: 3600
        case .maxOutputBytes: 67_108_864
        case .maxOutputLines: 1_000_000
        }
    }

    /// The highest ceiling a config may set: a week, 1 GiB and 100 million lines.
    /// Beyond these a run is not an operational action any more.
    public static func ceilingLimit(_ name: OptionName) -> Int64 {
        switch name {
        case .timeoutS: 604_800
        case .maxOutputBytes: 1_073_741_824
        case .maxOutputLines: 100_000_000
        }
    }
}

/// Reads an action's `options:` mapping and computes every option's effective bounds.
enum OptionParser {
    /// The keys a pack may write: `NAME`, `NAME_min`, `NAME_max` for each option.
    static let keys: [String] = OptionName.allCases.flatMap {
        [$0.rawValue, $0.rawValue + "_min", $0.rawValue + "_max"]
    }

    /// What a pack wrote for one option.
    struct Written: Equatable {
        var defaultValue: Int64?
        var min: Int64?
        var max: Int64?
        var isEmpty: Bool { defaultValue == nil && min == nil && max == nil }
    }

    /// Effective bounds of every option, in `OptionName.allCases` order. `node` is the
    /// `options:` mapping, or nil when the action has none; problems that no key
    /// explains are reported at `fallback` (the action).
    static func parse(
        _ node: YAMLNode?, path: String, ceilings: [OptionName: Int64],
        fallback: SourceLocation, into d: inout Diagnostics
    ) -> [OptionBounds] {
        var fields: Fields?
        if let node { fields = Fields(node, path: path, allowed: keys, into: &d) }
        return OptionName.allCases.map { name in
            let key = name.rawValue
            var written = Written()
            var locations: [String: SourceLocation] = [:]
            for (suffix, slot) in [("", \Written.defaultValue), ("_min", \.min), ("_max", \.max)] {
                guard let fields, let value = fields.integer(key + suffix, into: &d) else {
                    continue
                }
                written[keyPath: slot] = value
                locations[suffix] = fields[key + suffix]!.location
            }
            let ceiling = ceilings[name] ?? OptionDefaults.defaultCeiling(name)
            let at = { (suffix: String) in locations[suffix] ?? fields?.location ?? fallback }
            switch effective(name, written, ceiling: ceiling) {
            case .success(let (bounds, warning)):
                if let warning { d.warning(at("_max"), "\(path).\(key)_max: \(warning)") }
                return bounds
            case .failure(let problem):
                d.error(at(problem.suffix), "\(path).\(key)\(problem.suffix): \(problem.message)")
                let builtIn = OptionDefaults.builtIn(name)
                return OptionBounds(
                    name: name, defaultValue: builtIn.defaultValue, min: builtIn.min,
                    max: builtIn.max, declared: false)
            }
        }
    }

    /// Why one option's bounds do not hold; `suffix` says which key is at fault.
    struct Problem: Error {
        var suffix: String
        var message: String
    }

    /// The effective bounds of `name` from what the pack wrote and the config's
    /// ceiling, plus a warning when the ceiling lowered the pack's maximum. A
    /// built-in default is moved into the effective range; a written one must fit.
    static func effective(_ name: OptionName, _ written: Written, ceiling: Int64) -> Result<
        (OptionBounds, String?), Problem
    > {
        let builtIn = OptionDefaults.builtIn(name)
        for (suffix, value) in [
            ("", written.defaultValue), ("_min", written.min),
            ("_max", written.max),
        ] {
            if let value, value < builtIn.min {
                return .failure(
                    Problem(
                        suffix: suffix,
                        message: "\(value) is below the lowest allowed \(builtIn.min)"))
            }
        }
        let min = written.min ?? builtIn.min
        let packMax = written.max ?? builtIn.max
        let max = Swift.min(packMax, ceiling)
        var warning: String?
        if let writtenMax = written.max, writtenMax > ceiling {
            warning = "\(writtenMax) is above the runner's ceiling \(ceiling); using \(ceiling)"
        }
        if min > max {
            let which = written.max == max ? "max" : "the effective max"
            return .failure(Problem(suffix: "_min", message: "min \(min) is above \(which) \(max)"))
        }
        let defaultValue =
            written.defaultValue ?? Swift.min(Swift.max(builtIn.defaultValue, min), max)
        if defaultValue < min || defaultValue > max {
            return .failure(
                Problem(
                    suffix: "",
                    message:
                        "default \(defaultValue) is outside the effective range \(min)...\(max)"))
        }
        let bounds = OptionBounds(
            name: name, defaultValue: defaultValue, min: min, max: max,
            declared: !written.isEmpty)
        return .success((bounds, warning))
    }
}
