/// Turns libyaml events into a `YAMLNode` tree, checking what libyaml leaves to its
/// users: one document only, unique keys, scalar keys, no aliases or tags.
nonisolated struct YAMLTreeBuilder {
    /// A collection being filled.
    private struct Frame {
        var isMapping: Bool
        var location: SourceLocation
        /// Dotted key path of the collection, for messages.
        var path: String
        var entries: [YAMLEntry] = []
        var items: [YAMLNode] = []
        /// The key read and waiting for its value.
        var pendingKey: PendingKey?
        /// Where each key of this mapping was first written.
        var keyLocations: [String: SourceLocation] = [:]
    }

    /// A key waiting for its value; `keep` is false for a duplicate or invalid key,
    /// whose value is read and dropped so that the tree stays aligned.
    private struct PendingKey {
        var text: String
        var location: SourceLocation
        var keep: Bool
    }

    let file: String
    let kind: String
    /// True once the stream ended or an error made reading further pointless.
    private(set) var finished = false
    /// True when an error stopped the reading: the tree is not whole.
    private var stopped = false
    private var documents = 0
    private var stack: [Frame] = []
    private var root: YAMLNode?
    private var diagnostics: [Diagnostic] = []

    init(file: String, kind: String) {
        self.file = file
        self.kind = kind
    }

    /// Feeds one event.
    mutating func consume(_ event: YAMLEvent) {
        switch event {
        case .streamEnd:
            finished = true
        case .documentStart(let position):
            documents += 1
            if documents > 1 {
                error(
                    position,
                    "\(kind) must contain exactly one YAML document; "
                        + "second starts at line \(position.line)")
                finished = true
                stopped = true
            }
        case .scalar(let scalar, let position, let decoration):
            if let decoration { error(position, decoration) }
            deliver(YAMLNode(kind: .scalar(scalar), location: location(position)))
        case .sequenceStart(let position, let decoration):
            open(isMapping: false, position, decoration)
        case .mappingStart(let position, let decoration):
            open(isMapping: true, position, decoration)
        case .collectionEnd:
            guard let frame = stack.popLast() else {
                preconditionFailure("libyaml ended a collection that was never started")
            }
            let kind: YAMLNode.Kind =
                frame.isMapping ? .mapping(frame.entries) : .sequence(frame.items)
            deliver(YAMLNode(kind: kind, location: frame.location))
        case .alias(let name, let position):
            error(position, "anchors and aliases are not allowed (found alias \"*\(name)\")")
            let placeholder = YAMLScalar(text: "", style: .plain)
            deliver(YAMLNode(kind: .scalar(placeholder), location: location(position)))
        case .ignored:
            break
        }
    }

    /// Records the libyaml error that stopped the parse.
    mutating func fail(_ failure: YAMLFailure, bytes: UnsafeBufferPointer<UInt8>) {
        let position = failure.position ?? Self.position(ofByte: failure.offset, in: bytes)
        var message = "YAML syntax error: \(failure.problem)"
        if let context = failure.context {
            if let at = failure.contextPosition, at != position {
                message += " (\(context) started at line \(at.line), column \(at.column))"
            } else {
                message += " (\(context))"
            }
        }
        if failure.position == nil { message = "YAML input error: \(failure.problem)" }
        let offset = Self.offset(of: position, in: bytes)
        if let offset, offset < bytes.count, bytes[offset] == 0x09 {
            message += "; YAML does not allow TAB characters for indentation"
        }
        error(position, message)
        finished = true
        stopped = true
    }

    /// The tree, when one was read whole, and every problem found. Problems
    /// that leave the tree whole (a duplicate key, whose later value is
    /// dropped; a key that is not a string; an alias, anchor or tag) come
    /// with it, so the checks that read the tree still run and report theirs:
    /// one duplicate used to hide every other mistake of the file.
    func result() -> (node: YAMLNode?, problems: Diagnostics) {
        if stopped { return (nil, Diagnostics(diagnostics)) }
        guard let root, !(root.scalar.map { $0.isPlain && $0.text.isEmpty } ?? false) else {
            return (nil, Diagnostics(diagnostics + [.error(path: file, "empty file")]))
        }
        return (root, Diagnostics(diagnostics))
    }

    private mutating func open(isMapping: Bool, _ position: SourcePosition, _ decoration: String?) {
        if let decoration { error(position, decoration) }
        guard stack.count < YAMLDocument.maxDepth else {
            error(position, "nesting is deeper than \(YAMLDocument.maxDepth) levels")
            finished = true
            stopped = true
            return
        }
        stack.append(Frame(isMapping: isMapping, location: location(position), path: childPath()))
    }

    /// The key path a node delivered now would have.
    private func childPath() -> String {
        guard let top = stack.last else { return "" }
        if top.isMapping {
            return top.pendingKey.map { KeyPath.join(top.path, $0.text) } ?? top.path
        }
        return KeyPath.index(top.path, top.items.count)
    }

    private mutating func deliver(_ node: YAMLNode) {
        guard var top = stack.popLast() else {
            root = node
            return
        }
        defer { stack.append(top) }
        guard top.isMapping else {
            top.items.append(node)
            return
        }
        guard let key = top.pendingKey else {
            top.pendingKey = readKey(node, in: &top)
            return
        }
        if key.keep {
            top.entries.append(YAMLEntry(key: key.text, keyLocation: key.location, value: node))
        }
        top.pendingKey = nil
    }

    private mutating func readKey(_ node: YAMLNode, in frame: inout Frame) -> PendingKey {
        guard let scalar = node.scalar else {
            diagnostics.append(
                .error(node.location, Fields.prefix(frame.path) + "mapping keys must be strings"))
            return PendingKey(text: "?", location: node.location, keep: false)
        }
        let key = scalar.text
        if let first = frame.keyLocations[key] {
            let here = node.location
            let place =
                first.line == here.line
                ? "line \(here.line), columns \(first.column) and \(here.column)"
                : "lines \(first.line) and \(here.line)"
            diagnostics.append(
                .error(here, "\(KeyPath.join(frame.path, key)) duplicated (\(place))"))
            return PendingKey(text: key, location: here, keep: false)
        }
        frame.keyLocations[key] = node.location
        return PendingKey(text: key, location: node.location, keep: true)
    }

    private mutating func error(_ position: SourcePosition, _ message: String) {
        diagnostics.append(.error(location(position), message))
    }

    private func location(_ position: SourcePosition) -> SourceLocation {
        SourceLocation(file: file, line: position.line, column: position.column)
    }

    /// Line and column of byte `offset`, counting characters, not bytes, as libyaml does.
    static func position(ofByte offset: Int, in bytes: UnsafeBufferPointer<UInt8>)
        -> SourcePosition
    {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourcePosition(line: line, column: column)
    }

    /// Byte offset of a 1-based position, for looking at the character there.
    private static func offset(of position: SourcePosition, in bytes: UnsafeBufferPointer<UInt8>)
        -> Int?
    {
        var line = 1
        var index = 0
        while line < position.line {
            guard let next = bytes[index...].firstIndex(of: 0x0A) else { return nil }
            index = next + 1
            line += 1
        }
        var column = 1
        while column < position.column, index < bytes.count {
            index += 1
            while index < bytes.count, bytes[index] & 0xC0 == 0x80 { index += 1 }
            column += 1
        }
        return index
    }
}
