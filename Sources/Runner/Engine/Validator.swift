/// One option after clamping, with how it got its value.
nonisolated public struct ClampedOption: Equatable, Sendable {
    /// Which option.
    public var name: OptionName
    /// What the request asked for, if it asked.
    public var requested: Int64?
    /// The value the run uses.
    public var value: Int64
    /// The bound that changed the requested value (`timeout_s_max`), if any.
    public var clampedBy: String?

    /// The option as journaled and reported:
    /// `{"value":…,"requested":…,"clamped_by":…}` with absent parts omitted.
    public var json: JSONValue {
        var o = JSONObject()
        o["value"] = .int(value)
        if let requested { o["requested"] = .int(requested) }
        if let clampedBy { o["clamped_by"] = .string(clampedBy) }
        return .object(o)
    }
}

/// A request that passed validation: typed arguments, clamped options and the
/// exact argv, ready to be journaled and executed.
public struct ValidatedRun {
    /// The declared action.
    public var action: Action
    /// Every argument the run has (given or defaulted), in declaration order.
    public var args: [(name: String, value: ArgValue)]
    /// Every option with the value used.
    public var options: [ClampedOption]
    /// The argv: argv[0] is the executable's absolute path.
    public var argv: [String]
    /// Variables the action sets from templates (passthrough is added at spawn).
    public var setEnvironment: [(name: String, value: String)]
    /// Values of secret arguments, by argument name, to register with the redactor.
    public var secrets: [(name: String, value: String)]

    /// The clamped value of `name`.
    public func option(_ name: OptionName) -> Int64 {
        options.first { $0.name == name }!.value
    }

    /// The arguments as a JSON object with secret values replaced by their marker,
    /// as they may be journaled or echoed.
    public var maskedArgsJSON: JSONValue {
        var o = JSONObject()
        for (name, value) in args {
            let secret = action.arg(name)?.secret ?? false
            o[name] = secret ? .string("[REDACTED:arg.\(name)]") : value.json
        }
        return .object(o)
    }
}

/// Checks a request against its action's declared schema. Nothing is coerced:
/// a value of the wrong type is refused with the argument's name.
public struct Validator {
    /// Longest reason accepted, in bytes: enough for a ticket reference and a
    /// sentence, small enough that a journal line stays bounded.
    public static let maxReasonBytes = 1024
    /// Secrets shorter than this cannot be redacted without masking ordinary text.
    public var minSecretLength: Int

    /// A validator refusing secret arguments shorter than `minSecretLength` bytes.
    public init(minSecretLength: Int) {
        self.minSecretLength = minSecretLength
    }

    /// Validates `request` against `registry`, returning the run or every problem.
    public func validate(_ request: RunRequest, in registry: Registry) -> Result<
        ValidatedRun, Refusal
    > {
        guard let action = registry.action(request.action) else {
            var message =
                "action \"\(Engine.cut(request.action, to: 128))\" is not declared by any loaded pack"
            let near = Validator.similarNames(to: request.action, in: registry)
            if !near.isEmpty { message += " (did you mean \(near.joined(separator: ", "))?)" }
            return .failure(Refusal(.unknownAction, message))
        }
        var errors: [FieldError] = []
        if !Validator.isValidRunID(request.id) {
            errors.append(
                FieldError(
                    "run", "a run id is 1 to \(Validator.maxRunIDLength) of [A-Za-z0-9._:-]"))
        }

        let reason = request.reason.trimmingSpaces
        if reason.isEmpty {
            errors.append(FieldError("reason", "required: say why the action is run"))
        } else if reason.utf8.count > Validator.maxReasonBytes {
            errors.append(FieldError("reason", "longer than \(Validator.maxReasonBytes) bytes"))
        } else if Validator.hasControl(reason, allowingLineBreaks: true) {
            // Line breaks and tabs are prose; other controls (escape sequences,
            // carriage returns) only serve to confuse whoever reads it later.
            errors.append(
                FieldError("reason", "holds a control character (only line breaks and tabs may)"))
        } else if Validator.hasBidiControl(reason) {
            // The reason is what an approver reads: it must read as it is.
            errors.append(
                FieldError(
                    "reason",
                    "holds a bidirectional control character (U+202E and the like), which would"
                        + " make it read differently from what it says"))
        }

        var given: [String: RequestValue] = [:]
        for (name, value) in request.args {
            if given[name] != nil {
                errors.append(
                    FieldError("args.\(Validator.shownName(name))", "given more than once"))
            } else if action.arg(name) == nil {
                errors.append(
                    FieldError(
                        "args.\(Validator.shownName(name))", "not declared by action \(action.name)"
                    ))
            }
            given[name] = value
        }

        var args: [(name: String, value: ArgValue)] = []
        var defaulted: Set<String> = []
        var secrets: [(name: String, value: String)] = []
        for spec in action.args {
            guard let raw = given[spec.name] else {
                if let d = spec.defaultValue {
                    args.append((spec.name, d))
                    defaulted.insert(spec.name)
                } else if spec.required {
                    errors.append(FieldError("args.\(spec.name)", "required"))
                }
                continue
            }
            switch check(raw, against: spec) {
            case .success(let value):
                if spec.secret, let problem = secretProblem(value.text) {
                    errors.append(FieldError("args.\(spec.name)", problem))
                }
                args.append((spec.name, value))
                if spec.secret { secrets.append((spec.name, value.text)) }
            case .failure(let e): errors.append(e)
            }
        }

        let options = clamp(request.options, for: action, errors: &errors)
        var argv: [String] = []
        var setEnvironment: [(name: String, value: String)] = []
        if errors.isEmpty {
            let expander = TemplateExpander(
                action: action, args: args, options: options, defaulted: defaulted)
            switch expander.argv() {
            case .success(let v): argv = v
            case .failure(let e): errors.append(contentsOf: e.errors)
            }
            setEnvironment = expander.environment()
        }

        guard errors.isEmpty else {
            return .failure(
                Refusal(
                    .invalidRequest, "request for \(action.name) is not valid",
                    errors: Validator.listed(errors)))
        }
        return .success(
            ValidatedRun(
                action: action, args: args, options: options, argv: argv,
                setEnvironment: setEnvironment, secrets: secrets))
    }

    /// Most field errors a refusal lists; the rest are counted in one more
    /// entry. A request of 100,000 undeclared arguments would otherwise be
    /// answered by a refusal larger than a message may be, which could then
    /// be neither sent nor journaled.
    nonisolated public static let maxListedErrors = 32
    /// Longest argument name an error shows (the name is the request's, not
    /// the pack's: it may be anything); longer ones are cut, marked `…`.
    static let maxShownNameBytes = 64

    /// `errors`, at most `maxListedErrors` of them, then `…: N more problems`.
    static func listed(_ errors: [FieldError]) -> [FieldError] {
        guard errors.count > maxListedErrors else { return errors }
        let rest = errors.count - maxListedErrors
        return Array(errors.prefix(maxListedErrors))
            + [FieldError("…", "\(rest) more problem\(rest == 1 ? "" : "s") not listed")]
    }

    /// A request's argument name as an error shows it: cut on a character
    /// boundary past `maxShownNameBytes`, marked `…`.
    static func shownName(_ name: String) -> String {
        // By bytes and scalars, not characters: one character may be a
        // letter and 65,000 combining marks.
        Engine.cut(name, to: maxShownNameBytes)
    }

    /// Whether `s` holds a character that reorders how text around it is
    /// shown (the embeddings, overrides and isolates of Unicode's bidi
    /// algorithm, and its three marks): `a\u{202E}fdp.exe` shows as
    /// `aexe.pdf`, in a terminal, an approval screen or the journal.
    static func hasBidiControl(_ s: String) -> Bool {
        s.unicodeScalars.contains {
            switch $0.value {
            case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }
    }

    /// Types one argument value by its schema.
    func check(_ raw: RequestValue, against spec: ArgSpec) -> Result<ArgValue, FieldError> {
        let field = "args.\(spec.name)"
        func fail(_ m: String) -> Result<ArgValue, FieldError> { .failure(FieldError(field, m)) }
        func shown(_ s: String) -> String {
            spec.secret ? "the value" : "\"\(Engine.cut(s, to: 64))\""
        }

        switch spec.type {
        case .string(let pattern, let maxLength):
            guard let s = raw.asString else {
                return fail("expected a string, got \(raw.typeName)")
            }
            if s.utf8.contains(0) { return fail("contains a NUL byte, which no argv can carry") }
            if Validator.hasControl(s, allowingLineBreaks: false) {
                return fail(
                    "contains a control character (line break, escape, ...); ward refuses them"
                        + " so a value cannot forge log lines or terminal output")
            }
            if Validator.hasBidiControl(s) {
                return fail(
                    "contains a bidirectional control character (U+202E and the like); ward"
                        + " refuses them so a value cannot read differently from what runs")
            }
            if s.utf8.count > maxLength {
                return fail("longer than max_length \(maxLength) bytes (\(s.utf8.count))")
            }
            if let pattern, !pattern.matches(s) {
                return fail("\(shown(s)) does not match the declared pattern '\(pattern.source)'")
            }
            return .success(.string(s))
        case .enumeration(let values):
            guard let s = raw.asString else {
                return fail("expected a string, got \(raw.typeName)")
            }
            guard values.contains(s) else {
                return fail("\(shown(s)) is not one of: \(values.joined(separator: ", "))")
            }
            return .success(.string(s))
        case .integer(let min, let max):
            let n: Int64
            switch raw {
            case .json(.int(let i)): n = i
            case .text(let t):
                guard let i = Validator.parseInteger(t) else {
                    return fail("expected an integer within 64 bits, got \(shown(t))")
                }
                n = i
            default: return fail("expected an integer, got \(raw.typeName)")
            }
            if let min, n < min { return fail("\(n) is below the minimum \(min)") }
            if let max, n > max { return fail("\(n) is above the maximum \(max)") }
            return .success(.integer(n))
        case .boolean:
            switch raw {
            case .json(.bool(let b)): return .success(.boolean(b))
            case .text("true"): return .success(.boolean(true))
            case .text("false"): return .success(.boolean(false))
            case .text(let t): return fail("expected true or false, got \(shown(t))")
            default: return fail("expected true or false, got \(raw.typeName)")
            }
        }
    }

    /// Clamps each requested option into its action's bounds.
    func clamp(
        _ requested: [(name: String, value: RequestValue)], for action: Action,
        errors: inout [FieldError]
    ) -> [ClampedOption] {
        var asked: [OptionName: Int64] = [:]
        var seen: Set<String> = []
        for (name, raw) in requested {
            let field = "options.\(Validator.shownName(name))"
            // A repeat is one error, whatever else is wrong with the option.
            guard seen.insert(name).inserted else {
                errors.append(FieldError(field, "given more than once"))
                continue
            }
            guard let option = OptionName(rawValue: name) else {
                let known = OptionName.allCases.map(\.rawValue).joined(separator: ", ")
                errors.append(FieldError(field, "unknown option (known: \(known))"))
                continue
            }
            guard action.option(option).declared else {
                errors.append(
                    FieldError(
                        field,
                        "not requestable: the pack of \(action.name) does not declare this option"
                            + " (it stays at \(action.option(option).defaultValue))"))
                continue
            }
            let value: Int64?
            switch raw {
            case .json(.int(let i)): value = i
            case .text(let t): value = Validator.parseInteger(t)
            default: value = nil
            }
            guard let value else {
                let got: String
                if case .text(let t) = raw {
                    got = "\"\(t.utf8.count > 64 ? String(t.prefix(64)) + "…" : t)\""
                } else {
                    got = raw.typeName
                }
                errors.append(
                    FieldError(field, "expected an integer within 64 bits, got \(got)"))
                continue
            }
            asked[option] = value
        }
        return action.options.map { bounds in
            guard let want = asked[bounds.name] else {
                return ClampedOption(name: bounds.name, requested: nil, value: bounds.defaultValue)
            }
            if want < bounds.min {
                return ClampedOption(
                    name: bounds.name, requested: want, value: bounds.min,
                    clampedBy: "\(bounds.name.rawValue)_min")
            }
            if want > bounds.max {
                return ClampedOption(
                    name: bounds.name, requested: want, value: bounds.max,
                    clampedBy: "\(bounds.name.rawValue)_max")
            }
            return ClampedOption(name: bounds.name, requested: want, value: want)
        }
    }

    /// Why a secret value cannot be protected, or nil when it can.
    func secretProblem(_ value: String) -> String? {
        if Redactor.secretIsTooShort(value, minimum: minSecretLength) {
            return "secret is shorter than \(minSecretLength) bytes, too short to redact safely"
        }
        return nil
    }

    /// Longest run id, as on the wire: ids stay readable and journal lines bounded.
    public static let maxRunIDLength = 128

    /// Whether `id` is 1 to 128 of `[A-Za-z0-9._:-]`, the form every face uses.
    public static func isValidRunID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxRunIDLength
            && id.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
                    || b == UInt8(ascii: "-")
            }
    }

    /// C0 controls other than tab, and DEL: the bytes refused in values and
    /// escaped on terminals.
    public static func isControl(_ b: UInt8) -> Bool {
        (b < 0x20 && b != 0x09) || b == 0x7F
    }

    /// True when `text` holds a C0 control but tab (and line feed when
    /// `allowingLineBreaks`), DEL, or a C1 control U+0080-U+009F: terminals act on
    /// U+009B (CSI) as on ESC [.
    static func hasControl(_ text: String, allowingLineBreaks: Bool) -> Bool {
        text.unicodeScalars.contains { c in
            let v = c.value
            if v < 0x80 {
                return isControl(UInt8(v)) && !(allowingLineBreaks && v == 0x0A)
            }
            return v <= 0x9F
        }
    }

    /// Declared names that share the request's first segment or contain it, for a
    /// helpful refusal; at most three.
    static func similarNames(to name: String, in registry: Registry) -> [String] {
        guard !name.isEmpty else { return [] }
        let head = name.split(separator: ".").first.map(String.init) ?? name
        return registry.actions.map(\.name).filter { candidate in
            candidate.hasPrefix(name) || name.hasPrefix(candidate)
                || (candidate.hasPrefix(head + ".")
                    && candidate.split(separator: ".").last?.hasPrefix(
                        String(name.split(separator: ".").last ?? "")) == true)
        }.prefix(3).map { $0 }
    }

    /// Parses `-?(0|[1-9][0-9]*)` within Int64 (no `-0`); anything else is nil.
    public static func parseInteger(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "0") && (b.count != i + 1 || i == 1) { return nil }
        guard b[i...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}

extension RequestValue {
    /// The string payload of a JSON string or command-line text.
    var asString: String? {
        switch self {
        case .json(.string(let s)), .text(let s): s
        default: nil
        }
    }

    /// The value's type name for error messages.
    var typeName: String {
        switch self {
        case .json(let v): v.typeName
        case .text: "text"
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
