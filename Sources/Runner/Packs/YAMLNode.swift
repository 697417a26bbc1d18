/// One node of a YAML document as ward reads it: no implicit typing, every
/// scalar is the text libyaml reported, and every node knows where it was written.
nonisolated public struct YAMLNode: Sendable, Equatable {
    /// The shape of a node.
    public enum Kind: Sendable, Equatable {
        /// A scalar: its text and how it was written.
        case scalar(YAMLScalar)
        /// A mapping: entries in the order they were written, keys unique.
        case mapping([YAMLEntry])
        /// A sequence of nodes.
        case sequence([YAMLNode])
    }

    /// What the node is.
    public var kind: Kind
    /// Where the node starts (for a quoted scalar: its opening quote).
    public var location: SourceLocation

    /// A node of `kind` at `location`.
    public init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The scalar payload, or nil for a mapping or sequence.
    public var scalar: YAMLScalar? {
        if case .scalar(let s) = kind { return s }
        return nil
    }

    /// The entries of a mapping, or nil for any other node.
    public var entries: [YAMLEntry]? {
        if case .mapping(let e) = kind { return e }
        return nil
    }

    /// The items of a sequence, or nil for any other node.
    public var items: [YAMLNode]? {
        if case .sequence(let i) = kind { return i }
        return nil
    }

    /// A short description of the node for messages: "a mapping", "null", `"text"`.
    public var summary: String {
        switch kind {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let s): s.isNull ? "null" : s.quotedForMessage
        }
    }
}

/// A scalar exactly as written: libyaml's text (quotes and escapes resolved, nothing
/// else), and whether it was plain, because only plain scalars may be numbers,
/// booleans or null.
nonisolated public struct YAMLScalar: Sendable, Equatable {
    /// How the scalar was written.
    public enum Style: Sendable, Equatable {
        /// Unquoted.
        case plain
        /// `'like this'`.
        case singleQuoted
        /// `"like this"`.
        case doubleQuoted
        /// `|` block.
        case literal
        /// `>` block.
        case folded
    }

    /// The scalar's text.
    public var text: String
    /// How it was written.
    public var style: Style

    /// A scalar with `text` written in `style`.
    public init(text: String, style: Style) {
        self.text = text
        self.style = style
    }

    /// True for an unquoted scalar.
    public var isPlain: Bool { style == .plain }

    /// True for the plain spellings YAML gives to null: nothing at all, `~`, `null`.
    public var isNull: Bool {
        isPlain && ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The text in double quotes with control characters escaped, for messages.
    public var quotedForMessage: String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// One key and its value in a mapping. Keys are always scalars.
nonisolated public struct YAMLEntry: Sendable, Equatable {
    /// The key's text.
    public var key: String
    /// Where the key was written.
    public var keyLocation: SourceLocation
    /// The value.
    public var value: YAMLNode

    /// An entry `key: value` with the key written at `keyLocation`.
    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

/// Dotted key paths for messages: `actions.linux.journal.args.unit.default`.
nonisolated enum KeyPath {
    /// `parent.key`, or `key` at the root.
    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// `parent[index]`.
    static func index(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }
}
