/// The JSON description of a runner that `ward state` prints and a control plane is
/// sent: who the runner is, its limits, its packs and every action's schema. Keys
/// come in a fixed order and actions are sorted by name, so two runners with the same
/// packs and config produce the same bytes (docs/action-packs.md, "State document").
public enum StateDocument {
    /// Version of this document's shape; bumped when a field changes meaning.
    public static let schemaVersion: Int64 = 1

    /// The state of a runner with `config` and `registry`, running ward `version`
    /// on `hostname`.
    public static func build(
        config: RunnerConfig, registry: Registry, version: String, hostname: String
    ) -> JSONValue {
        let labels = JSONObject(config.labels.map { ($0.key, JSONValue.string($0.value)) })
        let runner: JSONValue = [
            "id": .string(config.runnerID), "version": .string(version),
            "hostname": .string(hostname), "labels": .object(labels),
        ]
        let ceilings = JSONObject(
            OptionName.allCases.map {
                (
                    $0.rawValue,
                    JSONValue.int(config.ceilings[$0] ?? OptionDefaults.defaultCeiling($0))
                )
            })
        let limits: JSONValue = [
            "max_concurrent_runs": .int(Int64(config.maxConcurrentRuns)),
            "kill_grace_ms": .int(config.killGraceMilliseconds),
            "min_secret_length": .int(Int64(config.minSecretLength)),
            "ceilings": .object(ceilings),
        ]
        let packs = registry.packs.map { pack -> JSONValue in
            [
                "name": .string(pack.name), "version": .string(pack.version),
                "description": .string(pack.description), "digest": .string(pack.digest),
                "actions": .array(pack.actions.map(\.name).sorted().map { .string($0) }),
            ]
        }
        let directories = Dictionary(
            registry.packs.map { ($0.name, $0.directory) }, uniquingKeysWith: { a, _ in a })
        let actions = registry.actions.map { action(in: $0, packDirectory: directories[$0.pack]) }
        return [
            "schema": .int(schemaVersion), "runner": runner, "limits": limits,
            "packs": .array(packs), "actions": .array(actions),
        ]
    }

    private static func action(in action: Action, packDirectory: String?) -> JSONValue {
        var out = JSONObject()
        out["name"] = .string(action.name)
        out["pack"] = .string(action.pack)
        out["description"] = .string(action.description)
        out["read_only"] = .bool(action.readOnly)
        if let concurrency = action.concurrency { out["concurrency"] = .int(Int64(concurrency)) }
        if !action.limits.isEmpty {
            out["limits"] = .object(
                JSONObject(action.orderedLimits.map { ($0.limit.rawValue, .int($0.value)) }))
        }
        out["kind"] = .string(action.execution.kind)
        switch action.execution {
        case .exec(let argv):
            out["exec"] = .array(argv.map { .string($0.source) })
        case .script(let interpreter, let scriptPath, let args):
            let prefix = (packDirectory ?? "") + "/"
            let file =
                scriptPath.hasPrefix(prefix)
                ? String(scriptPath.dropFirst(prefix.count))
                : scriptPath
            out["script"] = [
                "interpreter": .array(interpreter.map { .string($0) }), "file": .string(file),
                "args": .array(args.map { .string($0.source) }),
            ]
        }
        out["args"] = .array(action.args.map(argument))
        out["options"] = .object(
            JSONObject(
                action.options.map { bounds in
                    (
                        bounds.name.rawValue,
                        [
                            "default": .int(bounds.defaultValue), "min": .int(bounds.min),
                            "max": .int(bounds.max), "requestable": .bool(bounds.declared),
                        ] as JSONValue
                    )
                }))
        out["env"] = [
            "pass": .array(action.environment.passthrough.map { .string($0) }),
            "set": .array(action.environment.set.map { .string($0.name) }),
        ]
        out["workdir"] = .string(action.workingDirectory)
        out["redact"] = .array(action.redaction.map { .string($0.id) })
        return .object(out)
    }

    private static func argument(_ arg: ArgSpec) -> JSONValue {
        var out = JSONObject()
        out["name"] = .string(arg.name)
        out["type"] = .string(arg.type.name)
        out["description"] = .string(arg.description)
        out["required"] = .bool(arg.required)
        // A secret argument never has a default (the loader refuses one), so nothing
        // secret can appear here.
        if let value = arg.defaultValue, !arg.secret { out["default"] = value.json }
        switch arg.type {
        case .string(let pattern, let maxLength):
            if let pattern { out["pattern"] = .string(pattern.source) }
            out["max_length"] = .int(Int64(maxLength))
        case .enumeration(let values):
            out["values"] = .array(values.map { .string($0) })
        case .integer(let min, let max):
            if let min { out["min"] = .int(min) }
            if let max { out["max"] = .int(max) }
        case .boolean:
            break
        }
        out["secret"] = .bool(arg.secret)
        out["allow_leading_dash"] = .bool(arg.allowLeadingDash)
        return .object(out)
    }
}
