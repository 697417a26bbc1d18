import Glibc
import Runner

/// `ward version`.
enum VersionCommand {
    static func run(_ words: [String]) throws(CommandFailure) -> ExitCode {
        let o = try ArgumentParser.parse(
            words, specs: [OptionSpec(name: "json", takesValue: false)], command: "version")
        if o.flag("help") {
            Terminal.out(Help.version)
            return .ok
        }
        try o.requireNoPositionals("version")
        if o.flag("json") {
            Terminal.out(JSONWriter.string(["version": .string(WardVersion.current)]))
        } else {
            Terminal.out("ward \(WardVersion.current)")
        }
        return .ok
    }
}

/// `ward help [COMMAND...]`.
enum HelpCommand {
    static func run(_ words: [String]) -> ExitCode {
        // `ward help pack --help` asks for the same page as `ward help pack`.
        let words = words.filter { $0 != "--help" && $0 != "-h" }
        switch words.joined(separator: " ") {
        case "", "--help", "-h", "help": Terminal.out(Help.main)
        case "pack validate", "pack": Terminal.out(Help.packValidate)
        case "state": Terminal.out(Help.state)
        case "connect": Terminal.out(Help.connect)
        case "mcp": Terminal.out(Help.mcp)
        case "doctor": Terminal.out(Help.doctor)
        case "redact": Terminal.out(Help.redact)
        case "action run": Terminal.out(Help.actionRun)
        case "action plan": Terminal.out(Help.actionPlan)
        case "action list": Terminal.out(Help.actionList)
        case "action":
            Terminal.out(Help.actionRun + "\n\n" + Help.actionPlan + "\n\n" + Help.actionList)
        case "events tail": Terminal.out(Help.eventsTail)
        case "events verify": Terminal.out(Help.eventsVerify)
        case "events": Terminal.out(Help.eventsTail + "\n\n" + Help.eventsVerify)
        case "version": Terminal.out(Help.version)
        default:
            Terminal.err("ward help: no command \"\(words.joined(separator: " "))\"")
            return .usage
        }
        return .ok
    }
}

/// `ward state`: what would be advertised to a control plane.
enum StateCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words, specs: [OptionSpec(name: "compact", takesValue: false)], command: "state")
        if o.flag("help") {
            Terminal.out(Help.state)
            return .ok
        }
        guard o.positionals.isEmpty else {
            throw ArgumentParser.usage("state", "takes no arguments")
        }
        let (config, registry) = try globals.loadRegistry()
        let doc = StateDocument.build(
            config: config, registry: registry, version: WardVersion.current,
            hostname: Host.name())
        Terminal.out(o.flag("compact") ? JSONWriter.string(doc) : JSONWriter.pretty(doc))
        return .ok
    }
}

/// `ward action list`.
enum ActionListCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(words, specs: [], command: "action list")
        if o.flag("help") {
            Terminal.out(Help.actionList)
            return .ok
        }
        try o.requireNoPositionals("action list")
        let (_, registry) = try globals.loadRegistry()
        let width = registry.actions.map(\.name.count).max() ?? 0
        for a in registry.actions {
            let pad = String(repeating: " ", count: width - a.name.count)
            Terminal.out("\(a.name)\(pad)  \(TerminalSink.visible(a.description))")
        }
        return .ok
    }
}

/// `ward pack validate DIR...`.
enum PackValidateCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words, specs: [OptionSpec(name: "json", takesValue: false)], command: "pack validate")
        if o.flag("help") {
            Terminal.out(Help.packValidate)
            return .ok
        }
        guard !o.positionals.isEmpty else {
            throw ArgumentParser.usage("pack validate", "name at least one pack folder")
        }
        // Ceilings come from the config when one was named; otherwise the defaults.
        var config = RunnerConfig.defaults(baseDirectory: "/")
        if globals.configPath != nil || getenv("WARD_CONFIG") != nil {
            config = try globals.loadConfig()
        }
        let loader = PackLoader(config: config, allowWritable: globals.allowWritable)
        let (registry, diagnostics) = loader.load(directories: o.positionals)
        let errors = diagnostics.filter { $0.severity == .error }.count
        if o.flag("json") {
            let doc: JSONValue = [
                "valid": .bool(registry != nil),
                "packs": .array(
                    (registry?.packs ?? []).map { p in
                        [
                            "name": .string(p.name), "version": .string(p.version),
                            "actions": .int(Int64(p.actions.count)),
                        ]
                    }),
                "diagnostics": .array(
                    diagnostics.map { d in
                        var obj = JSONObject()
                        obj["severity"] = .string(d.severity.rawValue)
                        if let l = d.location {
                            obj["file"] = .string(l.file)
                            obj["line"] = .int(Int64(l.line))
                            obj["column"] = .int(Int64(l.column))
                        } else if let p = d.path {
                            obj["file"] = .string(p)
                        }
                        obj["message"] = .string(d.message)
                        return .object(obj)
                    }),
            ]
            Terminal.out(JSONWriter.pretty(doc))
        } else {
            for d in diagnostics { Terminal.err(d.description) }
            if let registry {
                for p in registry.packs {
                    Terminal.out(
                        "ok: \(p.name) \(p.version) (\(p.actions.count) action\(p.actions.count == 1 ? "" : "s"))"
                            + " \(p.directory)")
                }
            } else {
                Terminal.out("invalid: \(errors) error(s); nothing would be loaded")
            }
        }
        return registry == nil ? .failed : .ok
    }
}
