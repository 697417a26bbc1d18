/// A typed argument value as the pipeline uses it after validation.
nonisolated public enum ArgValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)

    /// The text that lands in an argv element or environment value.
    public var text: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .boolean(let b): b ? "true" : "false"
        }
    }

    /// The value as JSON.
    public var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .integer(let i): .int(i)
        case .boolean(let b): .bool(b)
        }
    }
}

/// The declared type of an argument, with the constraints that belong to it.
public enum ArgType {
    /// Any text up to `maxLength` bytes, matching `pattern` in full when one is given.
    case string(pattern: Pattern?, maxLength: Int)
    /// One of a fixed list of strings.
    case enumeration([String])
    /// A whole number within the optional bounds.
    case integer(min: Int64?, max: Int64?)
    /// `true` or `false`.
    case boolean

    /// The schema name of the type, as packs write it.
    public var name: String {
        switch self {
        case .string: "string"
        case .enumeration: "enum"
        case .integer: "integer"
        case .boolean: "boolean"
        }
    }
}

/// One declared argument of an action.
public struct ArgSpec {
    /// The argument's name: lowercase letters, digits and underscores.
    public var name: String
    /// What the argument means, for humans and agents.
    public var description: String
    /// Type and constraints.
    public var type: ArgType
    /// Whether a request must supply it (an argument with a default never is).
    public var required: Bool
    /// Used when a request omits the argument.
    public var defaultValue: ArgValue?
    /// The value is registered with the redactor and never journaled or echoed.
    public var secret: Bool
    /// A value forming a whole argv element may start with `-` (see action-packs.md).
    public var allowLeadingDash: Bool
    /// Where the argument was declared.
    public var location: SourceLocation
}

/// The options every action has. A pack narrows their bounds; the config caps them.
nonisolated public enum OptionName: String, CaseIterable, Sendable {
    /// Seconds before the child's process group is sent SIGTERM.
    case timeoutS = "timeout_s"
    /// Output bytes (both streams) forwarded before the rest is dropped.
    case maxOutputBytes = "max_output_bytes"
    /// Output lines (both streams) forwarded before the rest is dropped.
    case maxOutputLines = "max_output_lines"
}

/// The effective default and bounds of one option on one action.
nonisolated public struct OptionBounds: Equatable, Sendable {
    /// Which option.
    public var name: OptionName
    /// Value used when a request does not ask for one.
    public var defaultValue: Int64
    /// Lowest value a request can get.
    public var min: Int64
    /// Highest value a request can get (never above the config's ceiling).
    public var max: Int64
    /// Whether the pack declared the option, which makes it requestable.
    public var declared: Bool

    /// Bounds for `name`.
    public init(name: OptionName, defaultValue: Int64, min: Int64, max: Int64, declared: Bool) {
        self.name = name
        self.defaultValue = defaultValue
        self.min = min
        self.max = max
        self.declared = declared
    }
}

/// One piece of a template string.
nonisolated public enum TemplatePart: Equatable, Sendable {
    /// Fixed text.
    case literal(String)
    /// `{{args.NAME}}`: the argument's value, never split or re-parsed.
    case arg(String)
    /// `{{opts.NAME}}`: the clamped option value.
    case option(OptionName)
}

/// A string from a pack that may hold placeholders, parsed at load time.
nonisolated public struct Template: Equatable, Sendable {
    /// The pieces in order.
    public var parts: [TemplatePart]
    /// The text as the pack wrote it.
    public var source: String

    /// A template from parsed parts and its original text.
    public init(parts: [TemplatePart], source: String) {
        self.parts = parts
        self.source = source
    }

    /// True when the template is exactly one argument placeholder, so the value
    /// forms a whole argv element (the case `allow_leading_dash` governs).
    public var wholeArgument: String? {
        if parts.count == 1, case .arg(let name) = parts[0] { return name }
        return nil
    }
}

/// How an action's child is started.
public enum Execution {
    /// Run `argv` directly; argv[0] is an absolute path with no placeholder.
    case exec(argv: [Template])
    /// Run `interpreter` (fixed argv) with the script's absolute path, then `args`.
    case script(interpreter: [String], scriptPath: String, args: [Template])

    /// The execution kind's name as packs and `state` write it.
    public var kind: String {
        switch self {
        case .exec: "exec"
        case .script: "script"
        }
    }
}

/// The child's environment: nothing is inherited unless named here.
public struct EnvironmentSpec {
    /// Variables copied from ward's own environment when set there.
    public var passthrough: [String] = []
    /// Variables set to a template's expansion.
    public var set: [(name: String, value: Template)] = []

    /// An empty specification: the child gets only the fixed safe PATH.
    public init() {}
}

/// A redaction rule written in a pack or the config.
nonisolated public struct RedactionRuleSpec {
    /// Rule id, used in the marker `[REDACTED:id]`.
    public var id: String
    /// The compiled PCRE2 pattern.
    public var pattern: Pattern
    /// Where it was declared.
    public var location: SourceLocation
}

/// One declared action, fully checked at load.
public struct Action {
    /// Dot-separated name, unique across all loaded packs.
    public var name: String
    /// Name of the pack that declares it.
    public var pack: String
    /// What the action does.
    public var description: String
    /// A hint for clients that the action changes nothing; never enforcement.
    public var readOnly: Bool
    /// Most runs of this action in flight at once on this host, across every
    /// ward process (cloud, CLI, MCP); nil for no limit beyond the runner's.
    public var concurrency: Int? = nil
    /// Resource limits put on the child before its program starts.
    public var limits: [ChildLimit: Int64] = [:]
    /// Declared arguments in declaration order.
    public var args: [ArgSpec]
    /// Every option with its effective bounds, in `OptionName.allCases` order.
    public var options: [OptionBounds]
    /// How to start it.
    public var execution: Execution
    /// The child's environment.
    public var environment: EnvironmentSpec
    /// Working directory of the child; `/` when the pack does not say.
    public var workingDirectory: String
    /// Pack-level and action-level extra redaction rules.
    public var redaction: [RedactionRuleSpec]
    /// Where the action was declared.
    public var location: SourceLocation

    /// The argument called `name`, if declared.
    public func arg(_ name: String) -> ArgSpec? { args.first { $0.name == name } }

    /// The bounds of option `name`.
    public func option(_ name: OptionName) -> OptionBounds {
        options.first { $0.name == name }!
    }
}

/// One loaded pack.
public struct Pack {
    /// The manifest's name.
    public var name: String
    /// The manifest's version string.
    public var version: String
    /// The manifest's description.
    public var description: String
    /// The pack's folder.
    public var directory: String
    /// SHA-256 over the pack's files (names and bytes), so a control plane can
    /// tell which exact pack a runner has.
    public var digest: String
    /// The pack's actions.
    public var actions: [Action]
}

/// All loaded packs and their actions, looked up by name.
public struct Registry {
    /// Packs in load order.
    public private(set) var packs: [Pack]
    /// Every action, sorted by name.
    public private(set) var actions: [Action]
    private var index: [String: Int]

    /// A registry over `packs`; names must already be unique (the loader checks).
    public init(packs: [Pack]) {
        self.packs = packs
        self.actions = packs.flatMap(\.actions).sorted { $0.name < $1.name }
        var index: [String: Int] = [:]
        for (i, a) in actions.enumerated() { index[a.name] = i }
        self.index = index
    }

    /// The action called `name`, if declared.
    public func action(_ name: String) -> Action? {
        index[name].map { actions[$0] }
    }
}
