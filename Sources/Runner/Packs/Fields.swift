/// A mapping read against a fixed set of keys: every key it holds must be one the
/// schema knows, and each accessor types its value from the raw scalar.
nonisolated struct Fields {
    /// Dotted path of the mapping itself ("" at the root of a file).
    let path: String
    /// Where the mapping starts; missing-key errors point here.
    let location: SourceLocation
    private let entries: [YAMLEntry]

    /// Reads `node` as a mapping allowing only `allowed` keys; nil (with an error)
    /// when it is not a mapping. Unknown keys are reported, then ignored.
    init?(
        _ node: YAMLNode, path: String, allowed: [String], into diagnostics: inout Diagnostics
    ) {
        guard let entries = node.mapping(at: path, into: &diagnostics) else { return nil }
        self.path = path
        self.location = node.location
        self.entries = entries
        for entry in entries where !allowed.contains(entry.key) {
            let scalar = YAMLScalar(text: entry.key, style: .plain)
            diagnostics.error(
                entry.keyLocation,
                Self.prefix(path) + "unknown key \(scalar.quotedForMessage); expected one of "
                    + allowed.joined(separator: ", "))
        }
    }

    /// `path: ` for messages, or nothing at the top of a file.
    static func prefix(_ path: String) -> String {
        path.isEmpty ? "" : "\(path): "
    }

    /// The value of `key`, if written.
    subscript(key: String) -> YAMLNode? {
        entries.first { $0.key == key }?.value
    }

    /// True when `key` was written.
    func has(_ key: String) -> Bool { self[key] != nil }

    /// The value of `key`, with a key left empty (YAML null: `ceilings:` with
    /// nothing after it) taken as not written, as an empty section is.
    func unlessEmpty(_ key: String) -> YAMLNode? {
        guard let node = self[key], node.scalar?.isNull != true else { return nil }
        return node
    }

    /// Where `key` was written, falling back to the mapping.
    func keyLocation(_ key: String) -> SourceLocation {
        entries.first { $0.key == key }?.keyLocation ?? location
    }

    /// The dotted path of `key` in this mapping.
    func path(_ key: String) -> String { KeyPath.join(path, key) }

    /// The value of `key`; when absent and `required`, an error at the mapping.
    func node(_ key: String, required: Bool, into diagnostics: inout Diagnostics) -> YAMLNode? {
        if let value = self[key] { return value }
        if required {
            diagnostics.error(location, Self.prefix(path) + "missing required key \"\(key)\"")
        }
        return nil
    }

    /// A string field.
    func string(_ key: String, required: Bool = false, into diagnostics: inout Diagnostics)
        -> String?
    {
        node(key, required: required, into: &diagnostics)?
            .string(at: path(key), into: &diagnostics)
    }

    /// An integer field.
    func integer(_ key: String, required: Bool = false, into diagnostics: inout Diagnostics)
        -> Int64?
    {
        node(key, required: required, into: &diagnostics)?
            .integer(at: path(key), into: &diagnostics)
    }

    /// A boolean field.
    func boolean(_ key: String, required: Bool = false, into diagnostics: inout Diagnostics)
        -> Bool?
    {
        node(key, required: required, into: &diagnostics)?
            .boolean(at: path(key), into: &diagnostics)
    }

    /// A list-of-strings field.
    func strings(_ key: String, required: Bool = false, into diagnostics: inout Diagnostics)
        -> [(text: String, location: SourceLocation)]?
    {
        node(key, required: required, into: &diagnostics)?
            .strings(at: path(key), into: &diagnostics)
    }

    /// A string field that must follow the spelling `rule`.
    func name(
        _ key: String, rule: NameRule, required: Bool = false,
        into diagnostics: inout Diagnostics
    ) -> String? {
        guard let value = string(key, required: required, into: &diagnostics) else { return nil }
        if let problem = rule.problem(value) {
            diagnostics.error(self[key]!.location, "\(path(key)): \(problem)")
            return nil
        }
        return value
    }
}
