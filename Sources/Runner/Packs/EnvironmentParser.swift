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
            case .success(let template):
                let fromRequest = template.parts.contains {
                    if case .arg = $0 { return true } else { return false }
                }
                if fromRequest, let what = loadsCode(entry.key) {
                    d.error(
                        entry.value.location,
                        "\(entryPath): \"\(entry.key)\" cannot take an argument's value: \(what)"
                            + " would load code from what the request names")
                    continue
                }
                spec.set.append((entry.key, template))
            case .failure(let error):
                d.error(entry.value.location, "\(entryPath): \(error.message)")
            }
        }
        return spec
    }

    /// Variables that make the dynamic loader, a shell or an interpreter load
    /// code from the path or text they hold, with who does it; nil for others.
    /// A pack may set them to fixed values, never to a request's argument.
    static func loadsCode(_ name: String) -> String? {
        if name.hasPrefix("LD_") { return "the dynamic loader" }
        switch name {
        case "GCONV_PATH": return "glibc"
        case "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND": return "the shell"
        case "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME": return "Python"
        case "PERL5LIB", "PERL5OPT", "PERLLIB": return "Perl"
        case "RUBYLIB", "RUBYOPT": return "Ruby"
        case "NODE_OPTIONS", "NODE_PATH": return "Node.js"
        case "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS": return "the JVM"
        default: return nil
        }
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
