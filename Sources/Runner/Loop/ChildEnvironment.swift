import Glibc

/// Builds a child's environment from an allowlist. Nothing is copied from
/// ward's own environment unless it is named, so credentials ward holds
/// (its token, cloud keys, proxy settings) never reach a child by default.
nonisolated public enum ChildEnvironment {
    /// PATH every child gets unless the pack passes ward's own through: the
    /// standard Debian search path, with no relative or user-writable entry.
    public static let safePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Names with this prefix are ward's own settings and never passed on,
    /// whatever a pack asks for.
    public static let reservedPrefix = "WARD_"

    /// `PATH=safePath`, then each `passthrough` name that is set in `from`,
    /// then the `set` pairs; a later entry replaces an earlier one of the same
    /// name in place. Names starting with `WARD_` are dropped from both
    /// lists. Names must be non-empty and free of `=`; the pack loader
    /// checks that, so a bad name here is a broken contract.
    public static func build(
        passthrough: [String], set: [(String, String)], from environment: [String] = current()
    ) -> [String] {
        var names: [String] = []
        var values: [String: String] = [:]
        func put(_ name: String, _ value: String) {
            precondition(!name.isEmpty && !name.contains("="), "bad environment name")
            if name.hasPrefix(reservedPrefix) { return }
            if values.updateValue(value, forKey: name) == nil { names.append(name) }
        }

        put("PATH", safePath)
        let inherited = parse(environment)
        for name in passthrough {
            if let value = inherited[name] { put(name, value) }
        }
        for (name, value) in set {
            put(name, value)
        }
        return names.map { "\($0)=\(values[$0]!)" }
    }

    /// ward's own environment as `NAME=value` entries.
    public static func current() -> [String] {
        var out: [String] = []
        guard var cursor = Optional(environ) else { return out }
        while let entry = cursor.pointee {
            out.append(String(cString: entry))
            cursor += 1
        }
        return out
    }

    /// ward's own environment by name (the first of duplicates wins).
    public static func currentDictionary() -> [String: String] {
        parse(current())
    }

    /// `NAME=value` entries as a dictionary; the first of duplicates wins,
    /// as getenv(3) would see it. Entries without `=` are skipped.
    static func parse(_ entries: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                continue
            }
            let name = String(entry[..<equals])
            if out[name] == nil {
                out[name] = String(entry[entry.index(after: equals)...])
            }
        }
        return out
    }
}
