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
                            + " would run or load code from what the request names")
                    continue
                }
                spec.set.append((entry.key, template))
            case .failure(let error):
                d.error(entry.value.location, "\(entryPath): \(error.message)")
            }
        }
        return spec
    }

    /// Variables that make the dynamic loader, a shell, an interpreter or a
    /// common tool run or load code from the path or text they hold, with who
    /// does it; nil for others. A pack may set them to fixed values, never to
    /// a request's argument. This is a list of the known ones, not a proof:
    /// what a program does with its environment is the pack author's to know.
    static func loadsCode(_ name: String) -> String? {
        for (prefix, who) in [
            ("LD_", "the dynamic loader"), ("GIT_CONFIG", "git"), ("LUA_INIT", "Lua"),
            ("LUA_PATH", "Lua"), ("LUA_CPATH", "Lua"),
        ] where name.hasPrefix(prefix) {
            return who
        }
        // `SYSTEMD_EDITOR`, `SUDO_EDITOR`, `GIT_SEQUENCE_EDITOR`, `SYSTEMD_PAGER`...:
        // each names a program to start.
        if name.hasSuffix("EDITOR") || name.hasSuffix("PAGER") {
            return "the programs that start them"
        }
        switch name {
        case "GCONV_PATH": return "glibc"
        case "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND", "PS4", "IFS",
            "ZDOTDIR", "HOME", "XDG_CONFIG_HOME":
            return "the shell"
        case "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONWARNINGS",
            "PYTHONBREAKPOINT":
            return "Python"
        case "PERL5LIB", "PERL5OPT", "PERLLIB", "PERL5DB": return "Perl"
        case "RUBYLIB", "RUBYOPT": return "Ruby"
        case "NODE_OPTIONS", "NODE_PATH": return "Node.js"
        case "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH": return "the JVM"
        case "PHPRC", "PHP_INI_SCAN_DIR": return "PHP"
        case "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_ASKPASS", "GIT_EXTERNAL_DIFF",
            "GIT_PROXY_COMMAND", "GIT_TEMPLATE_DIR", "GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE":
            return "git"
        case "KUBECONFIG": return "kubectl (a kubeconfig's exec plugins)"
        case "DOCKER_CONFIG", "DOCKER_HOST": return "docker"
        case "CURL_HOME", "WGETRC": return "curl or wget"
        case "XDG_CONFIG_DIRS", "XDG_DATA_DIRS", "BASH_LOADABLES_PATH":
            return "the shell and its tools"
        case "GEM_PATH", "GEM_HOME": return "Ruby"
        case "PYTHONPYCACHEPREFIX": return "Python"
        case "SSH_ASKPASS", "SUDO_ASKPASS": return "ssh or sudo"
        case "OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES": return "OpenSSL"
        case "VISUAL", "BROWSER", "LESSOPEN", "LESSCLOSE":
            return "the programs that start them"
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
