import CYAML

/// Reads one YAML file into a `YAMLNode` tree through libyaml's event API, strictly:
/// exactly one document, no aliases, anchors or tags, unique keys, and libyaml's own
/// syntax errors with their positions. Nothing is typed here (see `ScalarTyping`).
nonisolated public enum YAMLDocument {
    /// Deepest nesting accepted. Pack and config files are a handful of levels deep;
    /// the cap keeps hostile input from exhausting the stack of the recursive readers
    /// that walk the tree afterwards.
    public static let maxDepth = 64

    /// Parses `bytes` read from `file`. `kind` names the file in the message about
    /// extra documents ("pack", "config"). All problems found before libyaml stops
    /// are returned together, with the tree when it was read whole (see
    /// `YAMLTreeBuilder.result`).
    public static func parse(
        _ bytes: [UInt8], file: String, kind: String = "pack"
    ) -> (node: YAMLNode?, problems: Diagnostics) {
        let parser = YAMLEventParser()
        var builder = YAMLTreeBuilder(file: file, kind: kind)
        // libyaml keeps the input pointer for the whole parse, so every call that
        // reads events happens inside this closure, while `bytes` is pinned.
        bytes.withUnsafeBufferPointer { buffer in
            parser.setInput(buffer)
            while !builder.finished {
                switch parser.next() {
                case .event(let event):
                    builder.consume(event)
                case .failure(let failure):
                    builder.fail(failure, bytes: buffer)
                }
            }
        }
        return builder.result()
    }
}

/// The parts of a libyaml event ward uses, copied out of C memory.
nonisolated enum YAMLEvent {
    case streamEnd
    case documentStart(SourcePosition)
    case scalar(YAMLScalar, SourcePosition, decoration: String?)
    case sequenceStart(SourcePosition, decoration: String?)
    case mappingStart(SourcePosition, decoration: String?)
    case collectionEnd
    case alias(String, SourcePosition)
    case ignored
}

/// A 1-based line and column before it is tied to a file.
nonisolated struct SourcePosition: Equatable {
    var line: Int
    var column: Int

    init(_ mark: yaml_mark_t) {
        line = Int(mark.line) + 1
        column = Int(mark.column) + 1
    }

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// A libyaml scanner, parser or reader error.
nonisolated struct YAMLFailure {
    var problem: String
    var context: String?
    /// Where the construct named by `context` started.
    var contextPosition: SourcePosition?
    /// Where libyaml noticed the problem; nil for reader errors, which carry an offset.
    var position: SourcePosition?
    var offset: Int
}

/// Owns one `yaml_parser_t`: the only code that touches the C parser.
nonisolated final class YAMLEventParser {
    /// What one call to `next` produced.
    enum Step {
        case event(YAMLEvent)
        case failure(YAMLFailure)
    }

    nonisolated(unsafe) private let parser: UnsafeMutablePointer<yaml_parser_t>

    init() {
        parser = .allocate(capacity: 1)
        // yaml_parser_initialize fails only when malloc does.
        precondition(yaml_parser_initialize(parser) == 1, "libyaml could not allocate a parser")
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// Points the parser at `buffer`, which must stay valid until parsing ends.
    func setInput(_ buffer: UnsafeBufferPointer<UInt8>) {
        var empty: UInt8 = 0
        // libyaml reads nothing from an empty input, but wants a non-null pointer;
        // a stack address is fine because it is never dereferenced.
        let base = buffer.baseAddress ?? withUnsafePointer(to: &empty) { $0 }
        yaml_parser_set_input_string(parser, base, buffer.count)
    }

    /// The next event, or the error that stopped libyaml.
    func next() -> Step {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "unknown libyaml error"
            let context = p.context.map { String(cString: $0) }
            let contextPosition = p.context == nil ? nil : SourcePosition(p.context_mark)
            let position: SourcePosition? =
                p.error == YAML_READER_ERROR ? nil : SourcePosition(p.problem_mark)
            return .failure(
                YAMLFailure(
                    problem: problem, context: context, contextPosition: contextPosition,
                    position: position,
                    offset: Int(p.problem_offset)))
        }
        defer { yaml_event_delete(&event) }
        return .event(Self.copy(event))
    }

    private static func copy(_ event: yaml_event_t) -> YAMLEvent {
        let start = SourcePosition(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart(start)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(
                decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            return .scalar(
                YAMLScalar(text: text, style: style(s.style)), start,
                decoration: decoration(anchor: s.anchor, tag: s.tag))
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return .sequenceStart(start, decoration: decoration(anchor: s.anchor, tag: s.tag))
        case YAML_MAPPING_START_EVENT:
            let m = event.data.mapping_start
            return .mappingStart(start, decoration: decoration(anchor: m.anchor, tag: m.tag))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            return .collectionEnd
        case YAML_ALIAS_EVENT:
            let name = event.data.alias.anchor.map { text(UnsafePointer($0)) } ?? ""
            return .alias(name, start)
        default:
            return .ignored
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLScalar.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    /// A message for an anchor or explicit tag on a node, which ward refuses.
    private static func decoration(
        anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?
    ) -> String? {
        if let tag {
            var written = text(UnsafePointer(tag))
            if written.hasPrefix(coreTagPrefix) {
                written = "!!" + written.dropFirst(coreTagPrefix.count)
            }
            return "explicit tags are not allowed (found \"\(written)\"); "
                + "every value is typed by the schema"
        }
        if let anchor {
            let name = text(UnsafePointer(anchor))
            return "anchors and aliases are not allowed (found anchor \"&\(name)\")"
        }
        return nil
    }

    /// libyaml expands the `!!` shorthand to this prefix; messages put it back.
    private static let coreTagPrefix = "tag:yaml.org,2002:"

    private static func text(_ p: UnsafePointer<yaml_char_t>) -> String {
        String(cString: p)
    }
}
