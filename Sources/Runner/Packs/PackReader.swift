/// Reads one pack folder: checks and hashes every file in it, then parses
/// `pack.yaml` and `actions/*.yaml`.
struct PackReader {
    /// Largest YAML file accepted. A big pack is a few dozen kilobytes; a megabyte
    /// means something else was pasted in.
    static let maxYAMLBytes = 1 << 20
    /// Largest total size of a pack's files, all of which are read to hash them.
    static let maxPackBytes = 16 << 20
    /// Most files a pack may hold.
    static let maxFiles = 1000
    /// Deepest folder nesting inside a pack.
    static let maxNesting = 8

    private static let manifestKeys = ["pack", "version", "description", "redact", "actions"]

    /// The folder as the user named it; file names in messages start with it.
    let folder: String
    /// Its real path.
    let realFolder: String
    let ceilings: [OptionName: Int64]
    /// The config's ceilings on child resource limits.
    var limitCeilings: [ChildLimit: Int64] = [:]
    private var files: [(path: String, bytes: [UInt8])] = []
    private var total = 0

    init(folder: String, realFolder: String, ceilings: [OptionName: Int64]) {
        self.folder = folder
        self.realFolder = realFolder
        self.ceilings = ceilings
    }

    /// The pack, or nil when anything in it is wrong (all recorded in `d`).
    mutating func read(trust: inout FileTrustChecker, into d: inout Diagnostics) -> Pack? {
        let before = d.errorCount
        collect("", depth: 0, trust: &trust, &d)
        guard let manifestBytes = file("pack.yaml") else {
            d.append(.error(path: folder + "/pack.yaml", "pack.yaml is not a regular file"))
            return nil
        }
        guard let root = parse(manifestBytes, "pack.yaml", &d),
            let fields = Fields(root, path: "", allowed: Self.manifestKeys, into: &d)
        else { return nil }

        let name = fields.name("pack", rule: .pack, required: true, into: &d)
        let version = fields.string("version", required: true, into: &d)
        let description = fields.string("description", required: true, into: &d)
        let rules = fields["redact"].map { RedactionRuleParser.parse($0, path: "redact", into: &d) }
        let context = PackContext(
            packName: name ?? "", directory: realFolder, rules: rules ?? [], ceilings: ceilings,
            limitCeilings: limitCeilings)
        var actions = fields["actions"].map { readActions($0, context, &d) } ?? []
        for actionFile in actionFiles(&d) {
            guard let bytes = file(actionFile), let root = parse(bytes, actionFile, &d),
                let fields = Fields(root, path: "", allowed: ["actions"], into: &d),
                let node = fields.node("actions", required: true, into: &d)
            else { continue }
            actions += readActions(node, context, &d)
        }

        Self.checkUnique(actions, &d)
        guard d.errorCount == before, let name, let version, let description else { return nil }
        if actions.isEmpty {
            d.warning(root.location, "pack \"\(name)\" declares no actions")
        }
        return Pack(
            name: name, version: version, description: description, directory: realFolder,
            digest: PackDigest.digest(files), actions: actions)
    }

    /// Action names are unique within the pack, across its files.
    static func checkUnique(_ actions: [Action], _ d: inout Diagnostics) {
        var seen: [String: SourceLocation] = [:]
        for action in actions {
            if let first = seen[action.name] {
                d.error(
                    action.location,
                    "action \"\(action.name)\" is already declared at \(first)")
            } else {
                seen[action.name] = action.location
            }
        }
    }

    private func readActions(_ node: YAMLNode, _ context: PackContext, _ d: inout Diagnostics)
        -> [Action]
    {
        guard let entries = node.mapping(at: "actions", into: &d) else { return [] }
        return entries.compactMap { entry in
            ActionParser.parse(
                name: entry.key, keyLocation: entry.keyLocation, entry.value,
                path: KeyPath.join("actions", entry.key), context: context, into: &d)
        }
    }

    /// `actions/*.yaml` in name order; anything else in `actions/` is refused, so a
    /// misnamed file (`x.yml`) cannot be silently ignored.
    private func actionFiles(_ d: inout Diagnostics) -> [String] {
        switch FileSystem.kind(realFolder + "/actions") {
        case .missing: return []
        case .directory: break
        default:
            d.append(.error(path: folder + "/actions", "actions must be a folder"))
            return []
        }
        var out: [String] = []
        for name in FileSystem.list(realFolder + "/actions") ?? [] {
            let relative = "actions/" + name
            if name.hasSuffix(".yaml") && file(relative) != nil {
                out.append(relative)
            } else {
                d.append(
                    .error(
                        path: folder + "/" + relative,
                        "only action files ending in .yaml may live in actions/"))
            }
        }
        return out
    }

    private func parse(_ bytes: [UInt8], _ relative: String, _ d: inout Diagnostics) -> YAMLNode? {
        let shown = folder + "/" + relative
        guard bytes.count <= Self.maxYAMLBytes else {
            d.append(.error(path: shown, "file is larger than \(Self.maxYAMLBytes) bytes"))
            return nil
        }
        let (node, problems) = YAMLDocument.parse(bytes, file: shown, kind: "pack")
        d.append(contentsOf: problems)
        return node
    }

    private func file(_ relative: String) -> [UInt8]? {
        files.first { $0.path == relative }?.bytes
    }

    /// Walks the pack, checking trust of and reading every regular file.
    private mutating func collect(
        _ relative: String, depth: Int, trust: inout FileTrustChecker, _ d: inout Diagnostics
    ) {
        let here = relative.isEmpty ? realFolder : realFolder + "/" + relative
        guard depth <= Self.maxNesting else {
            d.append(.error(path: here, "folders nest deeper than \(Self.maxNesting) in the pack"))
            return
        }
        for name in FileSystem.list(here) ?? [] {
            let child = relative.isEmpty ? name : relative + "/" + name
            let shown = folder + "/" + child
            switch FileSystem.kind(realFolder + "/" + child) {
            case .directory:
                collect(child, depth: depth + 1, trust: &trust, &d)
            case .regular:
                guard files.count < Self.maxFiles else {
                    d.append(.error(path: shown, "pack holds more than \(Self.maxFiles) files"))
                    return
                }
                trust.check(realFolder + "/" + child, role: "pack file", into: &d)
                switch FileSystem.read(realFolder + "/" + child, limit: Self.maxPackBytes) {
                case .success(let bytes):
                    total += bytes.count
                    if total > Self.maxPackBytes {
                        d.append(
                            .error(path: shown, "pack is larger than \(Self.maxPackBytes) bytes"))
                        return
                    }
                    files.append((child, bytes))
                case .failure(let error):
                    d.append(.error(path: shown, error.message))
                }
            case .symbolicLink:
                d.append(
                    .error(
                        path: shown,
                        "symbolic links are not allowed in a pack (they could point anywhere)"))
            case .other, .missing:
                d.append(.error(path: shown, "only regular files and folders may be in a pack"))
            }
        }
    }
}
