/// Why a node does not have the type its field wants. The message never names the
/// field; callers prefix the key path.
nonisolated public struct TypingError: Error, Sendable, Equatable {
    /// A phrase such as `expected true or false, got "off"`.
    public var message: String
}

/// Types YAML nodes by the schema from their raw text, never by YAML 1.1 implicit
/// rules: `no` stays the string "no", `3.10` stays "3.10", `0750` is not 488.
nonisolated public enum ScalarTyping {
    /// A string field: any non-null scalar's text exactly as written.
    public static func string(_ node: YAMLNode) -> Result<String, TypingError> {
        guard let scalar = node.scalar else { return got("a string", node) }
        if scalar.isNull { return got("a string", node) }
        return .success(scalar.text)
    }

    /// An integer field: only plain `-?(0|[1-9][0-9]*)` that fits in 64 bits, so that
    /// octal-looking `010`, `1e3`, `0x3`, `12.5` and quoted `"12"` are all refused.
    public static func integer(_ node: YAMLNode) -> Result<Int64, TypingError> {
        guard let scalar = node.scalar, !scalar.isNull else { return got("an integer", node) }
        guard scalar.isPlain else {
            return .failure(
                TypingError(
                    message: "expected an integer, got the quoted string \(scalar.quotedForMessage)"
                ))
        }
        guard isDecimalInteger(scalar.text) else {
            return .failure(
                TypingError(
                    message: "expected an integer (decimal digits, no leading zeros), "
                        + "got \(scalar.quotedForMessage)"))
        }
        guard let value = Int64(scalar.text) else {
            return .failure(
                TypingError(message: "integer \(scalar.text) does not fit in 64 bits"))
        }
        return .success(value)
    }

    /// A boolean field: only plain `true` or `false`; `yes`, `off` and quoted
    /// `"true"` are refused.
    public static func boolean(_ node: YAMLNode) -> Result<Bool, TypingError> {
        guard let scalar = node.scalar, !scalar.isNull else { return got("true or false", node) }
        guard scalar.isPlain else {
            return .failure(
                TypingError(
                    message: "expected true or false, got the quoted string "
                        + scalar.quotedForMessage))
        }
        switch scalar.text {
        case "true": return .success(true)
        case "false": return .success(false)
        default:
            return .failure(
                TypingError(message: "expected true or false, got \(scalar.quotedForMessage)"))
        }
    }

    /// True for `-?(0|[1-9][0-9]*)`.
    static func isDecimalInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        guard let first = digits.first, first.isASCII, first.isNumber else { return false }
        if first == "0" { return digits.count == 1 }
        return digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func got<T>(_ expected: String, _ node: YAMLNode) -> Result<T, TypingError> {
        .failure(TypingError(message: "expected \(expected), got \(node.summary)"))
    }
}

extension YAMLNode {
    /// The node as a string field at `path`, recording an error when it is not one.
    nonisolated func string(at path: String, into diagnostics: inout Diagnostics) -> String? {
        typed(ScalarTyping.string(self), path, &diagnostics)
    }

    /// The node as an integer field at `path`.
    nonisolated func integer(at path: String, into diagnostics: inout Diagnostics) -> Int64? {
        typed(ScalarTyping.integer(self), path, &diagnostics)
    }

    /// The node as a boolean field at `path`.
    nonisolated func boolean(at path: String, into diagnostics: inout Diagnostics) -> Bool? {
        typed(ScalarTyping.boolean(self), path, &diagnostics)
    }

    /// The node's entries when it is a mapping.
    nonisolated func mapping(at path: String, into diagnostics: inout Diagnostics)
        -> [YAMLEntry]?
    {
        if let entries { return entries }
        let message =
            path.isEmpty
            ? "expected a mapping at the top of the file, got \(summary)"
            : "\(path): expected a mapping, got \(summary)"
        diagnostics.error(location, message)
        return nil
    }

    /// The node's items when it is a sequence.
    nonisolated func sequence(at path: String, into diagnostics: inout Diagnostics)
        -> [YAMLNode]?
    {
        if let items { return items }
        diagnostics.error(location, "\(path): expected a list, got \(summary)")
        return nil
    }

    /// The node as a list of strings, each with its own location.
    nonisolated func strings(at path: String, into diagnostics: inout Diagnostics)
        -> [(text: String, location: SourceLocation)]?
    {
        guard let items = sequence(at: path, into: &diagnostics) else { return nil }
        var out: [(text: String, location: SourceLocation)] = []
        var ok = true
        for (i, item) in items.enumerated() {
            if let s = item.string(at: KeyPath.index(path, i), into: &diagnostics) {
                out.append((s, item.location))
            } else {
                ok = false
            }
        }
        return ok ? out : nil
    }

    private nonisolated func typed<T>(
        _ result: Result<T, TypingError>, _ path: String, _ diagnostics: inout Diagnostics
    ) -> T? {
        switch result {
        case .success(let value): return value
        case .failure(let problem):
            diagnostics.error(location, "\(path): \(problem.message)")
            return nil
        }
    }
}
