/// Why a template string was refused.
nonisolated public struct TemplateError: Error, Sendable, Equatable {
    /// A sentence quoting the offending placeholder.
    public var message: String
}

/// Parses pack strings with `{{args.NAME}}` and `{{opts.NAME}}` placeholders into
/// `Template`s at load time, so that the engine only substitutes and never re-parses.
nonisolated public enum TemplateParser {
    /// Parses `source`; `arguments` are the action's declared argument names.
    /// Spaces are allowed just inside the braces (`{{ args.unit }}`). An unknown
    /// name, an unclosed `{{` or a `}}` outside a placeholder is an error.
    public static func parse(_ source: String, arguments: Set<String>) -> Result<
        Template, TemplateError
    > {
        let bytes = Array(source.utf8)
        var parts: [TemplatePart] = []
        var literal: [UInt8] = []
        var i = 0

        func flushLiteral() {
            if !literal.isEmpty {
                parts.append(.literal(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
        }

        while i < bytes.count {
            if starts(bytes, i, "}}") {
                return fail("stray \"}}\" at byte \(i) of \(quote(source)) (no \"{{\" opens it)")
            }
            guard starts(bytes, i, "{{") else {
                literal.append(bytes[i])
                i += 1
                continue
            }
            guard let close = find(bytes, "}}", from: i + 2) else {
                return fail("unclosed \"{{\" at byte \(i) of \(quote(source))")
            }
            let inner = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
            switch placeholder(inner, arguments: arguments) {
            case .success(let part):
                flushLiteral()
                parts.append(part)
            case .failure(let error):
                return .failure(error)
            }
            i = close + 2
        }
        flushLiteral()
        return .success(Template(parts: parts, source: source))
    }

    /// True when `source` holds anything that looks like a placeholder, for fields
    /// that must be fixed text (argv[0], the interpreter, `workdir`).
    public static func containsPlaceholder(_ source: String) -> Bool {
        source.contains("{{") || source.contains("}}")
    }

    private static func placeholder(_ inner: String, arguments: Set<String>) -> Result<
        TemplatePart, TemplateError
    > {
        let written = "{{\(inner)}}"
        let name = trimSpaces(inner)
        if name.hasPrefix("args.") {
            let arg = String(name.dropFirst(5))
            guard arguments.contains(arg) else {
                return fail("\(quote(written)) names no declared argument \(quote(arg))")
            }
            return .success(.arg(arg))
        }
        if name.hasPrefix("opts.") {
            let option = String(name.dropFirst(5))
            guard let known = OptionName(rawValue: option) else {
                let names = OptionName.allCases.map(\.rawValue).joined(separator: ", ")
                return fail(
                    "\(quote(written)) names no option \(quote(option)) (options: \(names))")
            }
            return .success(.option(known))
        }
        return fail(
            "\(quote(written)) is not a placeholder; write {{args.NAME}} or {{opts.NAME}}")
    }

    private static func trimSpaces(_ s: String) -> String {
        var sub = Substring(s)
        while sub.first == " " { sub = sub.dropFirst() }
        while sub.last == " " { sub = sub.dropLast() }
        return String(sub)
    }

    private static func starts(_ bytes: [UInt8], _ i: Int, _ token: StaticString) -> Bool {
        let t = UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount)
        guard i + t.count <= bytes.count else { return false }
        return zip(bytes[i...], t).allSatisfy { $0 == $1 }
    }

    private static func find(_ bytes: [UInt8], _ token: StaticString, from: Int) -> Int? {
        var i = from
        while i < bytes.count {
            if starts(bytes, i, token) { return i }
            i += 1
        }
        return nil
    }

    private static func quote(_ s: String) -> String {
        YAMLScalar(text: s, style: .plain).quotedForMessage
    }

    private static func fail<T>(_ message: String) -> Result<T, TemplateError> {
        .failure(TemplateError(message: message))
    }
}
