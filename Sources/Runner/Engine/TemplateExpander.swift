/// Turns an action's templates into the exact argv and environment of one run.
/// One argument value always becomes exactly one argv element or a fixed part
/// of one: it is never split, globbed or re-parsed, and no shell is involved.
public struct TemplateExpander {
    /// The action whose templates are expanded.
    public var action: Action
    /// The run's typed arguments.
    public var args: [(name: String, value: ArgValue)]
    /// The run's clamped options.
    public var options: [ClampedOption]
    /// Arguments the request left out, whose value is the pack's default:
    /// the pack's own words, not checked for a leading dash.
    public var defaulted: Set<String>

    /// An expander for one validated run.
    public init(
        action: Action, args: [(name: String, value: ArgValue)], options: [ClampedOption],
        defaulted: Set<String> = []
    ) {
        self.action = action
        self.args = args
        self.options = options
        self.defaulted = defaulted
    }

    /// The argv, or the arguments whose values would be read as options.
    ///
    /// An element whose template names an argument the run does not have (an
    /// optional argument without a default) is left out entirely, so optional
    /// flags such as `--since={{args.since}}` vanish when not given.
    public func argv() -> Result<[String], FieldErrors> {
        let templates: [Template]
        var fixed: [String]
        switch action.execution {
        case .exec(let argv):
            fixed = []
            templates = argv
        case .script(let interpreter, let scriptPath, let scriptArgs):
            fixed = interpreter + [scriptPath]
            templates = scriptArgs
        }

        var errors: [FieldError] = []
        // Only a `--` of the list the values are in counts: an interpreter's
        // `--` (`["/bin/bash", "--"]`) ends the interpreter's options, and the
        // script reads its own arguments afresh.
        var afterDoubleDash = false
        for template in templates {
            guard let text = expand(template) else { continue }
            if !afterDoubleDash, text.utf8.first == UInt8(ascii: "-"),
                let name = leadingArgument(template), let spec = action.arg(name),
                !spec.allowLeadingDash
            {
                errors.append(
                    FieldError(
                        "args.\(name)",
                        "starts with '-' and would be read as an option; the action does not allow"
                            + " a leading dash here"))
            }
            if template.parts == [.literal("--")] { afterDoubleDash = true }
            fixed.append(text)
        }
        return errors.isEmpty ? .success(fixed) : .failure(FieldErrors(errors: errors))
    }

    /// The variables the action sets, expanded; a variable whose template names
    /// a missing argument is left out.
    public func environment() -> [(name: String, value: String)] {
        action.environment.set.compactMap { entry in
            expand(entry.value).map { (entry.name, $0) }
        }
    }

    /// The argument whose value begins `template`'s text: the first part that
    /// expands to anything, when it is a placeholder of a string or integer
    /// argument. A value at the front of an element is read by the program
    /// the same way whether or not text follows it (`{{args.name}}.txt` with
    /// `-o/tmp/x` is sort's `-o` option), and an empty value before it hands
    /// the front to the next one. Enumerations and defaults are left alone:
    /// their values are the pack's, not the request's.
    func leadingArgument(_ template: Template) -> String? {
        for part in template.parts {
            switch part {
            case .literal(let s):
                if !s.isEmpty { return nil }
            case .option:
                return nil
            case .arg(let name):
                guard let value = value(of: name) else { return nil }
                if value.text.isEmpty { continue }
                if defaulted.contains(name) { return nil }
                switch action.arg(name)?.type {
                case .string?, .integer?: return name
                default: return nil
                }
            }
        }
        return nil
    }

    /// The run's value of argument `name`, if it has one.
    func value(of name: String) -> ArgValue? {
        args.first(where: { $0.name == name })?.value
    }

    /// One template's text, or nil when it names an argument the run lacks.
    func expand(_ template: Template) -> String? {
        var out = ""
        for part in template.parts {
            switch part {
            case .literal(let s): out += s
            case .arg(let name):
                guard let value = value(of: name) else { return nil }
                out += value.text
            case .option(let name):
                guard let o = options.first(where: { $0.name == name }) else { return nil }
                out += String(o.value)
            }
        }
        return out
    }
}

/// Several field errors carried as one thrown value.
nonisolated public struct FieldErrors: Error, Sendable {
    /// The errors in the order found.
    public var errors: [FieldError]
}
