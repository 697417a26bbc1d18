import Glibc

/// What every action of one pack shares while it is read.
struct PackContext {
    /// The pack's name.
    var packName: String
    /// The pack folder's real path; script files must resolve inside it.
    var directory: String
    /// The pack's own `redact:` rules, applied to each of its actions.
    var rules: [RedactionRuleSpec]
    /// The config's option ceilings.
    var ceilings: [OptionName: Int64]
    /// The config's ceilings on child resource limits.
    var limitCeilings: [ChildLimit: Int64] = [:]
}

/// Reads one entry of an `actions:` mapping into an `Action`.
enum ActionParser {
    /// Most argv elements an action may template. Real commands use a dozen; the cap
    /// keeps a typo (a pasted file) from becoming a huge argv.
    static let maxArgv = 256
    /// Highest per-action concurrency: the runner-wide limit's own maximum.
    static let maxConcurrency: Int64 = 1024

    private static let keys = [
        "description", "read_only", "concurrency", "limits", "exec", "script", "args", "options",
        "env", "workdir", "redact",
    ]

    /// The action `name` declared by `node`, or nil when anything in it is wrong
    /// (every problem is recorded). Lint findings are recorded as warnings.
    static func parse(
        name: String, keyLocation: SourceLocation, _ node: YAMLNode, path: String,
        context: PackContext, into d: inout Diagnostics
    ) -> Action? {
        let before = d.errorCount
        if let problem = NameRule.action.problem(name) {
            d.error(keyLocation, "\(path): \(problem)")
        }
        guard let fields = Fields(node, path: path, allowed: keys, into: &d) else { return nil }
        let description = fields.string("description", required: true, into: &d)
        let readOnly = fields.boolean("read_only", into: &d) ?? false
        let concurrency = fields.integer("concurrency", into: &d)
        if let c = concurrency, !(1...Self.maxConcurrency).contains(c) {
            d.error(
                fields["concurrency"]!.location,
                "\(fields.path("concurrency")): \(c) is outside 1 to \(Self.maxConcurrency)")
        }
        let args =
            fields["args"].map { ArgParser.parse($0, path: fields.path("args"), into: &d) }
            ?? []
        // Every name the pack declares, also those whose declaration failed
        // (a bad pattern): its placeholders are not a second mistake.
        var argNames = Set(args.map(\.name))
        if let declared = fields["args"]?.entries {
            argNames.formUnion(declared.map(\.key))
        }
        let execution = ExecutionParser.parse(fields, arguments: argNames, context: context, &d)
        let options = OptionParser.parse(
            fields["options"], path: fields.path("options"), ceilings: context.ceilings,
            fallback: keyLocation, into: &d)
        let environment = fields["env"].map {
            EnvironmentParser.parse($0, path: fields.path("env"), arguments: argNames, into: &d)
        }
        let workdir = workingDirectory(fields, &d)
        let limits = fields["limits"].map {
            ChildLimitParser.parse(
                $0, path: fields.path("limits"), ceilings: context.limitCeilings, into: &d)
        }
        let taken = Set(context.rules.map(\.id))
        let actionRules = fields["redact"].map {
            RedactionRuleParser.parse($0, path: fields.path("redact"), taken: taken, into: &d)
        }

        guard d.errorCount == before, let description, let execution else { return nil }
        lintLeadingDash(execution, args: args, path: path, &d)
        var action = Action(
            name: name, pack: context.packName, description: description, readOnly: readOnly,
            args: args, options: options, execution: execution.execution,
            environment: environment ?? EnvironmentSpec(), workingDirectory: workdir,
            redaction: context.rules + (actionRules ?? []), location: keyLocation)
        action.concurrency = concurrency.map { Int($0) }
        action.limits = limits ?? [:]
        return action
    }

    private static func workingDirectory(_ fields: Fields, _ d: inout Diagnostics) -> String {
        guard let dir = fields.string("workdir", into: &d) else { return "/" }
        if !dir.hasPrefix("/") || TemplateParser.containsPlaceholder(dir) {
            d.error(
                fields["workdir"]!.location,
                "\(fields.path("workdir")): \(quote(dir)) must be a fixed absolute path")
        }
        return dir
    }

    /// Case 25: a value that forms a whole argv element and may start with `-` can be
    /// read by the program as an option, unless a literal `--` came before it.
    private static func lintLeadingDash(
        _ parsed: ParsedExecution, args: [ArgSpec], path: String, _ d: inout Diagnostics
    ) {
        let dashArgs = Set(args.filter(\.allowLeadingDash).map(\.name))
        guard !dashArgs.isEmpty else { return }
        var afterSeparator = false
        for element in parsed.templated {
            if element.startsList { afterSeparator = false }
            if element.template.parts == [.literal("--")] { afterSeparator = true }
            guard let arg = element.template.wholeArgument, dashArgs.contains(arg),
                !afterSeparator
            else { continue }
            d.warning(
                element.location,
                "\(element.path): argument \"\(arg)\" allows a leading \"-\" and forms a whole"
                    + " argv element with no \"--\" before it, so the program may read the value"
                    + " as an option")
        }
    }

    static func quote(_ s: String) -> String {
        YAMLScalar(text: s, style: .plain).quotedForMessage
    }
}
