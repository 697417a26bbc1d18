/// Each declared action as an MCP tool: its name, description, annotations and
/// an `inputSchema` generated from the action's argument schema. The schema
/// helps an agent write a valid call; the engine still checks every call, so
/// nothing here is enforcement.
public enum ToolSchema {
    /// The tool name of `action`: dots become underscores. Action names never
    /// hold an underscore (docs/action-packs.md, "Names"), so the mapping is
    /// reversible.
    public static func toolName(_ action: String) -> String {
        String(action.map { $0 == "." ? "_" : $0 })
    }

    /// The action a tool name stands for, or nil when the name cannot come
    /// from `toolName` (it holds a dot).
    public static func actionName(_ tool: String) -> String? {
        guard !tool.contains(".") else { return nil }
        return String(tool.map { $0 == "_" ? "." : $0 })
    }

    /// The tool object for `action`, shaped for MCP revision `version`.
    public static func tool(_ action: Action, version: String) -> JSONValue {
        var o = JSONObject()
        o["name"] = .string(toolName(action.name))
        if MCPVersion.hasStructuredContent(version) { o["title"] = .string(action.name) }
        o["description"] = .string(action.description)
        o["inputSchema"] = inputSchema(action)
        if MCPVersion.hasAnnotations(version) {
            // Hints only: the pipeline decides what runs, whatever a client
            // makes of them (docs/mcp.md).
            o["annotations"] = [
                "title": .string(action.name), "readOnlyHint": .bool(action.readOnly),
            ]
        }
        return .object(o)
    }

    /// The JSON Schema of a call's `arguments`: the action's arguments at the
    /// top level, then `reason` (required), `options` and `dry_run`. These
    /// names are reserved in packs, so nothing collides.
    public static func inputSchema(_ action: Action) -> JSONValue {
        var properties = JSONObject()
        var required: [JSONValue] = []
        for arg in action.args {
            properties[arg.name] = argument(arg)
            if arg.required { required.append(.string(arg.name)) }
        }
        properties["reason"] = [
            "type": "string",
            "description": "Why this run is needed, in a sentence; journaled with the run.",
            "minLength": 1, "maxLength": .int(Int64(Validator.maxReasonBytes)),
        ]
        properties["options"] = options(action)
        properties["dry_run"] = [
            "type": "boolean", "default": false,
            "description": .string(
                "true: check the arguments and show the exact argv and clamped options that"
                    + " would run, without running anything."),
        ]
        required.append("reason")
        return [
            "type": "object", "properties": .object(properties), "required": .array(required),
            "additionalProperties": false,
        ]
    }

    /// The schema of one argument.
    static func argument(_ arg: ArgSpec) -> JSONValue {
        var o = JSONObject()
        switch arg.type {
        case .string(let pattern, let maxLength):
            o["type"] = "string"
            o["maxLength"] = .int(Int64(maxLength))
            // ward always matches a pattern in full; JSON Schema searches, so
            // the anchors make the two mean the same.
            if let pattern { o["pattern"] = .string("^(?:\(pattern.source))$") }
        case .enumeration(let values):
            o["type"] = "string"
            o["enum"] = .array(values.map { .string($0) })
        case .integer(let min, let max):
            o["type"] = "integer"
            if let min { o["minimum"] = .int(min) }
            if let max { o["maximum"] = .int(max) }
        case .boolean:
            o["type"] = "boolean"
        }
        var description = arg.description
        if arg.secret {
            description +=
                (description.isEmpty ? "" : " ")
                + "Secret: redacted from the output and never journaled."
        }
        if !description.isEmpty { o["description"] = .string(description) }
        // A secret argument never has a default (the loader refuses one).
        if let value = arg.defaultValue, !arg.secret { o["default"] = value.json }
        return .object(o)
    }

    /// The schema of `options`: the requestable options with their bounds
    /// and defaults; the description names the ones that are fixed.
    static func options(_ action: Action) -> JSONValue {
        var properties = JSONObject()
        var fixed: [String] = []
        for bounds in action.options {
            guard bounds.declared else {
                fixed.append("\(bounds.name.rawValue) \(bounds.defaultValue)")
                continue
            }
            properties[bounds.name.rawValue] = [
                "type": "integer", "minimum": .int(bounds.min), "maximum": .int(bounds.max),
                "default": .int(bounds.defaultValue),
                "description": .string(
                    "\(optionMeaning(bounds.name)); a value outside \(bounds.min) to"
                        + " \(bounds.max) is clamped into that range."),
            ]
        }
        var description = "Run options this action lets a call choose."
        if !fixed.isEmpty {
            description += " Fixed for this action: \(fixed.joined(separator: ", "))."
        }
        return [
            "type": "object", "description": .string(description),
            "properties": .object(properties), "additionalProperties": false,
        ]
    }

    /// What an option controls, in a phrase.
    static func optionMeaning(_ name: OptionName) -> String {
        switch name {
        case .timeoutS: "Seconds before the run is stopped"
        case .maxOutputBytes: "Output bytes returned before the rest is cut"
        case .maxOutputLines: "Output lines returned before the rest is cut"
        }
    }
}
