/// Reads an action's `env:` mapping. Nothing reaches a child's environment unless
/// named here, and two kinds of name never do.
enum EnvironmentParser {
    /// ward's own settings (a control-plane token, for one) live in `WARD_*`.
    static let reservedPrefix = "WARD_"

    /// The environment declared by `node` at `path`.
    static func parse(
        _ node: YAMLNode, path: String, arguments: Set<String>, into d: inout Diagnostics
    ) -> EnvironmentSpec {
        var spec = EnvironmentSpec()
        guard let fields = Fields(node, path: path, allowed: ["pass", "set"], into: &d) else {
            return spec
        }
        var seen: [String: SourceLocation] = [:]
        func admit(_ name: String, at location: SourceLocation, path: String) -> Bool {
            if let problem = refusal(name) {
                d.error(location, "\(path): \(problem)")
                return false
            }
            if let first = seen[name] {
                d.error(location, "\(path): \"\(name)\" is already named at line \(first.line)")
                return false
            }
            seen[name] = location
            return true
        }

        for (i, item) in (fields.strings("pass", into: &d) ?? []).enumerated()
        where admit(item.text, at: item.location, path: KeyPath.index(fields.path("pass"), i)) {
            spec.passthrough.append(item.text)
        }
        guard let setNode = fields["set"],
            let entries = setNode.mapping(at: fields.path("set"), into: &d)
        else { return spec }
        for entry in entries {
            let entryPath = KeyPath.join(fields.path("set"), entry.key)
            guard admit(entry.key, at: entry.keyLocation, path: entryPath),
                let text = entry.value.string(at: entryPath, into: &d)
            else { continue }
            switch TemplateParser.parse(text, arguments: arguments) {
            case .success(let template): spec.set.append((entry.key, template))
            case .failure(let error):
                d.error(entry.value.location, "\(entryPath): \(error.message)")
            }
        }
        return spec
    }

    /// Why `name` may not be passed or set, or nil when it may.
    static func refusal(_ name: String) -> String? {
        if let problem = NameRule.environment.problem(name) { return problem }
        if name.hasPrefix(reservedPrefix) {
            return "\"\(name)\": ward's own variables are never passed to actions"
        }
        if name == "PATH" {
            return "\"PATH\" cannot be passed or set: the child always gets a fixed safe PATH"
        }
        return nil
    }
}
