/// Reads an action's `args:` mapping into `ArgSpec`s, checking every constraint
/// against the others at load time so that a request is the only thing left to check.
enum ArgParser {
    /// Names a request uses for its own fields; an argument with one of them would be
    /// ambiguous in tool schemas and request bodies.
    static let reservedNames: Set<String> = ["reason", "options", "dry_run"]
    /// `max_length` when a string argument does not say: enough for a path, a unit
    /// name or a search term, small enough to keep argv and journal lines tidy.
    static let defaultMaxLength = 256
    /// Highest `max_length` a pack may write: a single argv element longer than a
    /// page is almost certainly data that should not travel through argv.
    static let maxMaxLength = 4096
    /// Most `values` an enum may list; longer lists belong in a pattern.
    static let maxEnumValues = 256

    private static let commonKeys = [
        "type", "description", "required", "default", "secret", "allow_leading_dash",
    ]
    private static let typeKeys: [String: [String]] = [
        "string": ["pattern", "max_length"], "enum": ["values"], "integer": ["min", "max"],
        "boolean": [],
    ]
    /// Every type-specific key, in the order messages list them.
    private static let allTypeKeys = ["pattern", "max_length", "values", "min", "max"]

    /// Every argument of the mapping at `path`, in the order written.
    static func parse(_ node: YAMLNode, path: String, into diagnostics: inout Diagnostics)
        -> [ArgSpec]
    {
        guard let entries = node.mapping(at: path, into: &diagnostics) else { return [] }
        var specs: [ArgSpec] = []
        for entry in entries {
            let argPath = KeyPath.join(path, entry.key)
            var nameOK = true
            if let problem = NameRule.argument.problem(entry.key) {
                diagnostics.error(entry.keyLocation, "\(argPath): \(problem)")
                nameOK = false
            } else if reservedNames.contains(entry.key) {
                let reserved = reservedNames.sorted().joined(separator: ", ")
                diagnostics.error(
                    entry.keyLocation,
                    "\(argPath): \"\(entry.key)\" is reserved for request fields"
                        + " (\(reserved)); choose another argument name")
                nameOK = false
            }
            let spec = parseOne(
                name: entry.key, location: entry.keyLocation, entry.value, path: argPath,
                into: &diagnostics)
            if nameOK, let spec { specs.append(spec) }
        }
        return specs
    }

    private static func parseOne(
        name: String, location: SourceLocation, _ node: YAMLNode, path: String,
        into d: inout Diagnostics
    ) -> ArgSpec? {
        let allKeys = commonKeys + allTypeKeys
        guard let fields = Fields(node, path: path, allowed: allKeys, into: &d) else { return nil }
        let before = d.errorCount
        let typeName = fields.string("type", required: true, into: &d)
        if let typeName {
            if let specific = typeKeys[typeName] {
                for key in allKeys where fields.has(key) && !commonKeys.contains(key) {
                    if !specific.contains(key) {
                        d.error(
                            fields.keyLocation(key),
                            "\(path): key \"\(key)\" does not apply to an argument of type"
                                + " \(typeName)")
                    }
                }
            } else {
                d.error(
                    fields["type"]!.location,
                    "\(fields.path("type")): unknown type \"\(typeName)\"; expected one of"
                        + " string, enum, integer, boolean")
            }
        }
        let description = fields.string("description", into: &d) ?? ""
        let required = fields.boolean("required", into: &d) ?? false
        let secret = fields.boolean("secret", into: &d) ?? false
        let allowLeadingDash = fields.boolean("allow_leading_dash", into: &d) ?? false
        let type = typeName.flatMap { argType($0, fields, into: &d) }

        var defaultValue: ArgValue?
        if let defaultNode = fields["default"] {
            if secret {
                // The default itself is never quoted: it would be a secret in a message.
                d.error(
                    defaultNode.location,
                    "\(fields.path("default")): a secret argument cannot have a default"
                        + " (the secret would be written in the pack)")
            } else if required {
                d.error(
                    defaultNode.location,
                    "\(fields.path("default")): a required argument cannot have a default")
            } else if let type {
                defaultValue = typedDefault(defaultNode, type, path: fields.path("default"), &d)
            }
        }
        guard let type, d.errorCount == before else { return nil }
        return ArgSpec(
            name: name, description: description, type: type, required: required,
            defaultValue: defaultValue, secret: secret, allowLeadingDash: allowLeadingDash,
            location: location)
    }

    private static func argType(_ name: String, _ fields: Fields, into d: inout Diagnostics)
        -> ArgType?
    {
        switch name {
        case "string":
            var maxLength = defaultMaxLength
            if let written = fields.integer("max_length", into: &d) {
                if written < 1 || written > Int64(maxMaxLength) {
                    d.error(
                        fields["max_length"]!.location,
                        "\(fields.path("max_length")): \(written) is outside 1...\(maxMaxLength)")
                    return nil
                }
                maxLength = Int(written)
            }
            var pattern: Pattern?
            if let source = fields.string("pattern", into: &d) {
                do {
                    pattern = try Pattern(source, mode: .wholeValue)
                } catch {
                    let arg = fields.path.split(separator: ".").last.map(String.init) ?? ""
                    d.error(
                        fields["pattern"]!.location,
                        "\(fields.path("pattern")): pattern of argument \"\(arg)\" does not"
                            + " compile: \(error.message) at offset \(error.offset)")
                    return nil
                }
            }
            return .string(pattern: pattern, maxLength: maxLength)
        case "enum":
            return enumValues(fields, into: &d).map { .enumeration($0) }
        case "integer":
            let min = fields.integer("min", into: &d)
            let max = fields.integer("max", into: &d)
            if let min, let max, min > max {
                d.error(fields["min"]!.location, "\(fields.path): min \(min) is above max \(max)")
                return nil
            }
            return .integer(min: min, max: max)
        case "boolean":
            return .boolean
        default:
            return nil
        }
    }

    private static func enumValues(_ fields: Fields, into d: inout Diagnostics) -> [String]? {
        guard let values = fields.strings("values", required: true, into: &d) else { return nil }
        let path = fields.path("values")
        guard !values.isEmpty, values.count <= maxEnumValues else {
            d.error(
                fields["values"]!.location,
                "\(path): an enum lists 1 to \(maxEnumValues) values, got \(values.count)")
            return nil
        }
        var seen: Set<String> = []
        for value in values where !seen.insert(value.text).inserted {
            let quoted = YAMLScalar(text: value.text, style: .plain).quotedForMessage
            d.error(value.location, "\(path): value \(quoted) is listed twice")
            return nil
        }
        return values.map(\.text)
    }

    /// The default typed by the argument's type and checked against its constraints.
    private static func typedDefault(
        _ node: YAMLNode, _ type: ArgType, path: String, _ d: inout Diagnostics
    ) -> ArgValue? {
        func refuse(_ message: String) -> ArgValue? {
            d.error(node.location, "\(path): \(message)")
            return nil
        }
        switch type {
        case .string(let pattern, let maxLength):
            guard let text = node.string(at: path, into: &d) else { return nil }
            let quoted = YAMLScalar(text: text, style: .plain).quotedForMessage
            if text.utf8.count > maxLength {
                return refuse("\(quoted) is \(text.utf8.count) bytes, over max_length \(maxLength)")
            }
            if let pattern, !pattern.matches(text) {
                let shown = YAMLScalar(text: pattern.source, style: .plain).quotedForMessage
                return refuse("\(quoted) does not match the argument's pattern \(shown)")
            }
            return .string(text)
        case .enumeration(let values):
            guard let text = node.string(at: path, into: &d) else { return nil }
            guard values.contains(text) else {
                let quoted = YAMLScalar(text: text, style: .plain).quotedForMessage
                return refuse(
                    "\(quoted) is not one of the values (\(values.joined(separator: ", ")))")
            }
            return .string(text)
        case .integer(let min, let max):
            guard let value = node.integer(at: path, into: &d) else { return nil }
            if let min, value < min { return refuse("\(value) is below min \(min)") }
            if let max, value > max { return refuse("\(value) is above max \(max)") }
            return .integer(value)
        case .boolean:
            return node.boolean(at: path, into: &d).map { .boolean($0) }
        }
    }
}
