/// Every check `ward doctor` made, in order, and how they add up.
nonisolated public struct DoctorReport: Equatable, Sendable {
    /// The checks in the order they ran.
    public var checks: [DoctorCheck]

    /// A report over `checks`.
    public init(checks: [DoctorCheck]) {
        self.checks = checks
    }

    /// Whether nothing failed (warnings and skips allowed): exit 0.
    public var ok: Bool { !checks.contains { $0.status == .fail } }

    /// How many checks ended with `status`.
    public func count(_ status: DoctorStatus) -> Int {
        checks.filter { $0.status == status }.count
    }

    /// The check called `name`, if it ran.
    public func check(_ name: String) -> DoctorCheck? {
        checks.first { $0.name == name }
    }

    /// `{"checks": [{name, status, detail, fix?, items?}], "summary": {...}}`.
    public var json: JSONValue {
        let list: [JSONValue] = checks.map { c in
            var o = JSONObject()
            o["name"] = .string(c.name)
            o["status"] = .string(c.status.rawValue)
            o["detail"] = .string(c.detail)
            if let fix = c.fix { o["fix"] = .string(fix) }
            if !c.items.isEmpty { o["items"] = .array(c.items.map { .string($0) }) }
            return .object(o)
        }
        var summary = JSONObject()
        for status in DoctorStatus.allCases {
            summary[status.rawValue] = .int(Int64(count(status)))
        }
        summary["ok"] = .bool(ok)
        return .object(JSONObject([("checks", .array(list)), ("summary", .object(summary))]))
    }

    /// A checklist for a terminal: one line a check, its supporting lines and
    /// fix indented under it, then the summary.
    public var text: String {
        let width = checks.map(\.name.count).max() ?? 0
        var out = ""
        for c in checks {
            let pad = String(repeating: " ", count: width - c.name.count)
            out += "\(c.status.rawValue)  \(c.name)\(pad)  \(c.detail)\n"
            let indent = String(repeating: " ", count: 6)
            for item in c.items { out += "\(indent)- \(item)\n" }
            if let fix = c.fix { out += "\(indent)fix: \(fix)\n" }
        }
        out +=
            "\(count(.pass)) passed, \(count(.warn)) warned, \(count(.fail)) failed,"
            + " \(count(.skip)) skipped: \(ok ? "ok" : "FAILED")\n"
        return out
    }
}
