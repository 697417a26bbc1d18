/// Reads a `redact:` list (in a pack, an action or the config) into compiled rules.
/// A rule that could never work line by line, or could not be compiled, fails the
/// load: redaction must fail closed, never silently do nothing.
enum RedactionRuleParser {
    /// Most rules one list may hold. Every rule is tried on every output line, so the
    /// cost grows with the count; a few dozen covers any real pack.
    static let maxRules = 64

    /// The rules of the list at `path`, in the order written; `taken` holds ids
    /// already used where these rules apply (the pack's own, for an action's list).
    static func parse(
        _ node: YAMLNode, path: String, taken: Set<String> = [], into d: inout Diagnostics
    ) -> [RedactionRuleSpec] {
        guard let items = node.sequence(at: path, into: &d) else { return [] }
        guard items.count <= maxRules else {
            d.error(node.location, "\(path): at most \(maxRules) rules, got \(items.count)")
            return []
        }
        var ids = taken
        var rules: [RedactionRuleSpec] = []
        for (i, item) in items.enumerated() {
            let rulePath = KeyPath.index(path, i)
            guard let fields = Fields(item, path: rulePath, allowed: ["id", "pattern"], into: &d)
            else { continue }
            let id = fields.name("id", rule: .ruleID, required: true, into: &d)
            let source = fields.string("pattern", required: true, into: &d)
            guard let id, let source else { continue }
            guard ids.insert(id).inserted else {
                d.error(fields["id"]!.location, "\(rulePath).id: rule id \"\(id)\" is used twice")
                continue
            }
            if let rule = compile(id: id, source: source, at: fields["pattern"]!.location, &d) {
                rules.append(rule)
            }
        }
        return rules
    }

    /// One rule compiled for searching, or nil with an error naming the rule.
    static func compile(
        id: String, source: String, at location: SourceLocation, _ d: inout Diagnostics
    ) -> RedactionRuleSpec? {
        if Pattern.needsMultilineInput(source) {
            d.error(
                location,
                "redact rule \"\(id)\": pattern needs multi-line input; rules are applied per line"
            )
            return nil
        }
        let pattern: Pattern
        do {
            pattern = try Pattern(source, mode: .search)
        } catch {
            d.error(
                location,
                "redact rule \"\(id)\": pattern does not compile: \(error.message)"
                    + " at offset \(error.offset)")
            return nil
        }
        // A rule that matches nothing at all would mark every position of every line.
        if pattern.matches("") {
            d.error(location, "redact rule \"\(id)\": pattern matches the empty string")
            return nil
        }
        return RedactionRuleSpec(id: id, pattern: pattern, location: location)
    }
}
