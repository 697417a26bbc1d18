/// One compiled regex redaction rule.
nonisolated struct RegexRedactionRule {
    /// Rule id, shown in `[REDACTED:id]`.
    var id: String
    /// The compiled pattern (search mode).
    var pattern: Pattern
}

/// The regex rules shared by every run: ward's built-ins plus the config's own
/// rules, compiled once at start-up and never changed, so that a `Redactor` per
/// run costs only its literals. Per-stream state (the PEM block) lives in the
/// stream processor, not here.
nonisolated public final class RedactionRuleSet {
    /// Ids of the built-in rules, in priority order.
    public static let builtInIDs: [String] =
        [BuiltInRules.privateKeyID] + BuiltInRules.regexRules.map(\.id)

    /// Config rules first (the operator's words name the marker), then built-ins.
    let regexRules: [RegexRedactionRule]
    /// Start and end of a PEM private key block; nil when built-ins are off.
    let privateKey: (begin: Pattern, end: Pattern)?

    /// The built-ins (unless `builtIns` is false) plus `extra` rules from the config.
    public init(extra: [RedactionRuleSpec] = [], builtIns: Bool = true) {
        var rules = extra.map { RegexRedactionRule(id: $0.id, pattern: $0.pattern) }
        if builtIns {
            rules += BuiltInRules.regexRules.map {
                RegexRedactionRule(id: $0.id, pattern: RedactionRuleSet.compile($0.source))
            }
            privateKey = (
                RedactionRuleSet.compile(BuiltInRules.privateKeyBegin),
                RedactionRuleSet.compile(BuiltInRules.privateKeyEnd)
            )
        } else {
            privateKey = nil
        }
        regexRules = rules
    }

    /// Ids of every rule in the set, PEM rule first when present.
    public var ids: [String] {
        (privateKey == nil ? [] : [BuiltInRules.privateKeyID]) + regexRules.map(\.id)
    }

    private static func compile(_ source: String) -> Pattern {
        do {
            return try Pattern(source, mode: .search)
        } catch {
            preconditionFailure("built-in redaction pattern does not compile: \(error)")
        }
    }
}
