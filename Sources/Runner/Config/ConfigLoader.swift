/// Reads the config file section by section. Each top-level section has one reader
/// in `sections`; a new section (such as `control_plane:`) is one more entry.
enum ConfigLoader {
    /// Largest config file accepted; a real one is well under a kilobyte.
    static let maxBytes = 1 << 20

    /// What a section reader gets: the section's node, its folder for relative
    /// paths, and the config being filled.
    typealias SectionReader =
        @MainActor (YAMLNode, String, inout RunnerConfig, inout Diagnostics) -> Void

    /// Every top-level section and its reader, in documentation order.
    static let sections: [(name: String, read: SectionReader)] = [
        ("runner", readRunner),
        ("packs", readPacks),
        ("journal", readJournal),
        ("limits", readLimits),
        ("redaction", readRedaction),
        ("log", readLog),
        ("control_plane", readControlPlane),
    ]

    /// Loads `path`; see `RunnerConfig.load`.
    static func load(path: String, allowWritable: Bool) -> Result<RunnerConfig, Diagnostics> {
        let absolute = FileSystem.absolute(path, base: FileSystem.currentDirectory())
        let base = FileSystem.parent(absolute)
        var d = Diagnostics()
        guard FileSystem.kind(absolute) != .missing else {
            return .failure(Diagnostics([.error(path: path, "config file does not exist")]))
        }
        var trust = FileTrustChecker(allowWritable: allowWritable)
        trust.check(absolute, role: "config file", into: &d)
        guard FileSystem.kind(FileSystem.realPath(absolute) ?? absolute) == .regular else {
            if !d.hasErrors { d.append(.error(path: path, "config file is not a regular file")) }
            return .failure(d)
        }
        let bytes: [UInt8]
        switch FileSystem.read(FileSystem.realPath(absolute) ?? absolute, limit: maxBytes) {
        case .success(let read): bytes = read
        case .failure(let error):
            d.append(.error(path: path, error.message))
            return .failure(d)
        }
        var config = RunnerConfig.defaults(baseDirectory: base)
        config.path = absolute
        let (node, problems) = YAMLDocument.parse(bytes, file: path, kind: "config")
        d.append(contentsOf: problems)
        if let root = node {
            let names = sections.map(\.name)
            if let fields = Fields(root, path: "", allowed: names, into: &d) {
                // A section left empty (`runner:` with nothing after it) is
                // YAML null: it changes nothing, like `runner: {}`.
                for section in sections {
                    if let node = fields.unlessEmpty(section.name) {
                        section.read(node, base, &config, &d)
                    }
                }
            }
        }
        if d.hasErrors { return .failure(d) }
        config.loadWarnings = d.all
        return .success(config)
    }

    private static func readRunner(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        guard let fields = Fields(node, path: "runner", allowed: ["id", "labels"], into: &d)
        else { return }
        if let id = fields.name("id", rule: .runnerID, into: &d) { config.runnerID = id }
        guard let labels = fields.unlessEmpty("labels"),
            let entries = labels.mapping(at: "runner.labels", into: &d)
        else { return }
        config.labels = entries.compactMap { entry in
            let path = KeyPath.join("runner.labels", entry.key)
            if let problem = NameRule.labelKey.problem(entry.key) {
                d.error(entry.keyLocation, "\(path): \(problem)")
                return nil
            }
            guard let value = entry.value.string(at: path, into: &d) else { return nil }
            guard value.utf8.count <= maxLabelValue else {
                d.error(entry.value.location, "\(path): longer than \(maxLabelValue) bytes")
                return nil
            }
            return (entry.key, value)
        }
    }

    /// Longest label value: labels are short tags (`env: prod`), not documents.
    static let maxLabelValue = 256

    private static func readPacks(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        guard let folders = node.strings(at: "packs", into: &d) else { return }
        for (i, folder) in folders.enumerated() where folder.text.isEmpty {
            d.error(folder.location, "\(KeyPath.index("packs", i)): a folder cannot be empty")
        }
        config.packDirectories = []
        for folder in folders {
            let path = FileSystem.absolute(folder.text, base: base)
            config.packDirectories.append(path)
            config.packDirectoryLocations[path] = folder.location
        }
    }

    private static func readControlPlane(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        // `control_plane: {}` changes nothing, like `control_plane:` alone.
        if node.entries?.isEmpty == true { return }
        let integers: [(String, IntegerSetting, WritableKeyPath<ControlPlaneConfig, Int64>)] = [
            ("heartbeat_ms", ControlPlaneLimits.heartbeat, \.heartbeatMilliseconds),
            ("backoff_base_ms", ControlPlaneLimits.backoffBase, \.backoffBaseMilliseconds),
            ("backoff_cap_ms", ControlPlaneLimits.backoffCap, \.backoffCapMilliseconds),
            ("backoff_reset_ms", ControlPlaneLimits.backoffReset, \.backoffResetMilliseconds),
            ("connect_timeout_ms", ControlPlaneLimits.connectTimeout, \.connectTimeoutMilliseconds),
            ("drain_grace_ms", ControlPlaneLimits.drainGrace, \.drainGraceMilliseconds),
        ]
        let keys =
            ["url", "ca_file", "pinned_ca_file", "key_file", "allow_plaintext_loopback", "proxy"]
            + integers.map(\.0)
        guard let fields = Fields(node, path: "control_plane", allowed: keys, into: &d) else {
            return
        }
        guard let url = fields.string("url", required: true, into: &d) else { return }
        var cp = ControlPlaneConfig(url: url)
        for key in ["ca_file", "pinned_ca_file", "key_file"] {
            guard let value = fields.string(key, into: &d) else { continue }
            let absolute = FileSystem.absolute(value, base: base)
            switch key {
            case "ca_file": cp.caFile = absolute
            case "pinned_ca_file": cp.pinnedCAFile = absolute
            default: cp.keyFile = absolute
            }
        }
        if cp.caFile != nil && cp.pinnedCAFile != nil {
            d.error(
                fields["pinned_ca_file"]!.location,
                "control_plane: give ca_file or pinned_ca_file, not both")
        }
        if let v = fields.boolean("allow_plaintext_loopback", into: &d) {
            cp.allowPlaintextLoopback = v
        }
        if let p = fields.string("proxy", into: &d) { cp.proxy = p }
        if case .failure(let problem) = cp.endpoint {
            d.error(fields["url"]!.location, "control_plane.url: \(problem.message)")
        }
        for (key, setting, path) in integers {
            if let v = bounded(fields, key, setting, &d) { cp[keyPath: path] = v }
        }
        if cp.backoffBaseMilliseconds > cp.backoffCapMilliseconds {
            d.error(
                fields["backoff_base_ms"]?.location ?? fields["url"]!.location,
                "control_plane.backoff_base_ms: above backoff_cap_ms")
        }
        config.controlPlane = cp
    }

    private static func readJournal(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        let keys = ["path", "rotate_bytes", "keep_files"]
        guard let fields = Fields(node, path: "journal", allowed: keys, into: &d) else { return }
        if let path = fields.string("path", into: &d) {
            if path.isEmpty || path.hasSuffix("/") {
                d.error(fields["path"]!.location, "journal.path: must name a file")
            }
            config.journalPath = FileSystem.absolute(path, base: base)
        }
        if let v = bounded(fields, "rotate_bytes", ConfigLimits.rotateBytes, &d) {
            config.rotateBytes = v
        }
        if let v = bounded(fields, "keep_files", ConfigLimits.keepFiles, &d) {
            config.keepFiles = Int(v)
        }
    }

    private static func readLimits(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        let keys = ["max_concurrent_runs", "kill_grace_s", "ceilings", "child_ceilings"]
        guard let fields = Fields(node, path: "limits", allowed: keys, into: &d) else { return }
        if let v = bounded(fields, "max_concurrent_runs", ConfigLimits.maxConcurrentRuns, &d) {
            config.maxConcurrentRuns = Int(v)
        }
        if let v = bounded(fields, "kill_grace_s", ConfigLimits.killGraceSeconds, &d) {
            config.killGraceMilliseconds = v * 1000
        }
        if let node = fields.unlessEmpty("child_ceilings"),
            let child = Fields(
                node, path: "limits.child_ceilings",
                allowed: ChildLimit.allCases.filter { $0 != .nice }.map(\.rawValue), into: &d)
        {
            for limit in ChildLimit.allCases where limit != .nice {
                let setting = IntegerSetting(
                    defaultValue: limit.bounds.upperBound, min: limit.bounds.lowerBound,
                    max: limit.bounds.upperBound)
                if let v = bounded(child, limit.rawValue, setting, &d) {
                    config.limitCeilings[limit] = v
                }
            }
        }
        guard let node = fields.unlessEmpty("ceilings"),
            let ceilings = Fields(
                node, path: "limits.ceilings", allowed: OptionName.allCases.map(\.rawValue),
                into: &d)
        else { return }
        for name in OptionName.allCases {
            let setting = IntegerSetting(
                defaultValue: OptionDefaults.defaultCeiling(name),
                min: OptionDefaults.builtIn(name).min, max: OptionDefaults.ceilingLimit(name))
            if let v = bounded(ceilings, name.rawValue, setting, &d) { config.ceilings[name] = v }
        }
    }

    private static func readRedaction(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        let keys = ["min_secret_length", "rules"]
        guard let fields = Fields(node, path: "redaction", allowed: keys, into: &d) else {
            return
        }
        if let v = bounded(fields, "min_secret_length", ConfigLimits.minSecretLength, &d) {
            config.minSecretLength = Int(v)
        }
        if let rules = fields["rules"] {
            config.redactionRules = RedactionRuleParser.parse(
                rules, path: "redaction.rules", into: &d)
        }
    }

    private static func readLog(
        _ node: YAMLNode, _ base: String, _ config: inout RunnerConfig, _ d: inout Diagnostics
    ) {
        guard let fields = Fields(node, path: "log", allowed: ["level", "format"], into: &d)
        else { return }
        let levels: [String: LogLevel] = [
            "debug": .debug, "info": .info, "warn": .warn, "error": .error,
        ]
        if let level = fields.string("level", into: &d) {
            if let known = levels[level] {
                config.logLevel = known
            } else {
                d.error(
                    fields["level"]!.location,
                    "log.level: \(ActionParser.quote(level)) is not one of debug, info, warn,"
                        + " error")
            }
        }
        if let format = fields.string("format", into: &d) {
            switch format {
            case "logfmt": config.logFormat = .logfmt
            case "json": config.logFormat = .json
            default:
                d.error(
                    fields["format"]!.location,
                    "log.format: \(ActionParser.quote(format)) is not one of logfmt, json")
            }
        }
    }

    /// An integer key checked against `setting`'s range.
    private static func bounded(
        _ fields: Fields, _ key: String, _ setting: IntegerSetting, _ d: inout Diagnostics
    ) -> Int64? {
        guard let value = fields.integer(key, into: &d) else { return nil }
        guard value >= setting.min, value <= setting.max else {
            d.error(
                fields[key]!.location,
                "\(fields.path(key)): \(value) is outside \(setting.min)...\(setting.max)")
            return nil
        }
        return value
    }
}
