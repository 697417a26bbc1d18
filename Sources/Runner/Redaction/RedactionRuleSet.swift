/// One compiled regex redaction rule.
nonisolated struct RegexRedactionRule {
    /// Rule id, shown in `[REDACTED:id]`.
    var id: String
    /// The compiled pattern (search mode).
    var pattern: Pattern
    /// The rule's bit in the rule set's prefilter; 0 when the rule has no
    /// triggers and runs on every line (the config's and packs' own rules).
    var prefilterBit: UInt64 = 0
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
    /// Tells which built-in rules can match a line; nil when built-ins are off.
    let prefilter: LiteralPrefilter?
    /// The BEGIN marker's bit in `prefilter`.
    let privateKeyBit: UInt64
    /// The built-in rules' triggers by prefilter bit, for a run's own prefilter
    /// (which adds its secrets' spellings after them).
    let triggers: [[RuleTrigger]]
    /// The last prefilter built for a run's literal secrets, with those
    /// literals. Under `ward connect` every run registers the runner key, so
    /// nearly every run asks for the same one: building it was about 5 % of
    /// ward's CPU per dispatched run.
    private var lastRunPrefilter: (literals: [[UInt8]], filter: LiteralPrefilter)?

    /// A prefilter of the built-in triggers followed by `literals` (each an
    /// exact trigger with a bit of its own), shared by runs that ask for the
    /// same literals.
    func prefilter(adding literals: [[UInt8]]) -> LiteralPrefilter {
        if let last = lastRunPrefilter, last.literals == literals { return last.filter }
        let filter = LiteralPrefilter(
            rules: triggers + literals.map { [RuleTrigger(bytes: $0, caseless: false)] })
        lastRunPrefilter = (literals, filter)
        return filter
    }

    /// The built-ins (unless `builtIns` is false) plus `extra` rules from the config.
    public init(extra: [RedactionRuleSpec] = [], builtIns: Bool = true) {
        var rules = extra.map { RegexRedactionRule(id: $0.id, pattern: $0.pattern) }
        if builtIns {
            rules += BuiltInRules.regexRules.enumerated().map { bit, rule in
                RegexRedactionRule(
                    id: rule.id, pattern: RedactionRuleSet.compile(rule.source),
                    prefilterBit: 1 << UInt64(bit))
            }
            privateKey = (
                RedactionRuleSet.compile(BuiltInRules.privateKeyBegin),
                RedactionRuleSet.compile(BuiltInRules.privateKeyEnd)
            )
            let lists =
                BuiltInRules.regexRules.map(\.triggers) + [BuiltInRules.privateKeyTriggers]
            prefilter = LiteralPrefilter(rules: lists)
            privateKeyBit = 1 << UInt64(lists.count - 1)
            triggers = lists
        } else {
            privateKey = nil
            prefilter = nil
            privateKeyBit = 0
            triggers = []
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
