/// Loads action packs from folders into a `Registry`, atomically: any error anywhere
/// means no registry at all, so a bad edit can never half-apply.
public struct PackLoader {
    /// The config's option ceilings (missing names get `OptionDefaults.defaultCeiling`).
    public let ceilings: [OptionName: Int64]
    /// Downgrade file-trust findings to warnings (`--allow-writable`).
    public let allowWritable: Bool
    /// The config's ceilings on child resource limits.
    public let limitCeilings: [ChildLimit: Int64]
    /// Where the config named each folder: a missing one is reported there.
    public var directoryLocations: [String: SourceLocation] = [:]

    /// A loader applying `ceilings` (and `limitCeilings` to actions' `limits:`),
    /// trusting writable files only if `allowWritable`.
    public init(
        ceilings: [OptionName: Int64], allowWritable: Bool,
        limitCeilings: [ChildLimit: Int64] = [:]
    ) {
        self.ceilings = ceilings
        self.allowWritable = allowWritable
        self.limitCeilings = limitCeilings
    }

    /// The loader the runner uses for `config`: its option and child-limit
    /// ceilings.
    public init(config: RunnerConfig, allowWritable: Bool) {
        self.init(
            ceilings: config.ceilings, allowWritable: allowWritable,
            limitCeilings: config.limitCeilings)
        directoryLocations = config.packDirectoryLocations
    }

    /// Loads every pack found in `directories`. Each is a pack (it holds `pack.yaml`)
    /// or a folder whose immediate subfolders are packs. Relative paths are taken
    /// from the current directory. The registry is nil when any diagnostic is an error.
    public func load(directories: [String]) -> (registry: Registry?, diagnostics: [Diagnostic]) {
        var d = Diagnostics()
        var trust = FileTrustChecker(allowWritable: allowWritable)
        var packs: [Pack] = []
        for folder in packFolders(directories, &d) {
            var reader = PackReader(
                folder: folder.shown, realFolder: folder.real, ceilings: ceilings)
            reader.limitCeilings = limitCeilings
            if let pack = reader.read(trust: &trust, into: &d) { packs.append(pack) }
        }
        checkUnique(packs, &d)
        return (d.hasErrors ? nil : Registry(packs: packs), Self.inReadingOrder(d.all))
    }

    /// `all` as an author reads a file: files in the order they were met, and
    /// within each by line and column (a file's own problems, which have no
    /// position, first); ties keep the order they were found in.
    static func inReadingOrder(_ all: [Diagnostic]) -> [Diagnostic] {
        var rank: [String: Int] = [:]
        func key(_ d: Diagnostic) -> (Int, Int, Int) {
            let file = d.location?.file ?? d.path ?? ""
            return (rank[file] ?? 0, d.location?.line ?? 0, d.location?.column ?? 0)
        }
        for d in all {
            let file = d.location?.file ?? d.path ?? ""
            if rank[file] == nil { rank[file] = rank.count }
        }
        return all.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    /// A pack folder as the user named it (for messages) and its real path.
    struct Folder {
        var shown: String
        var real: String
    }

    private func packFolders(_ directories: [String], _ d: inout Diagnostics) -> [Folder] {
        var found: [Folder] = []
        var seen: Set<String> = []
        func add(_ shown: String) {
            guard let real = FileSystem.realPath(shown) else { return }
            if seen.insert(real).inserted {
                found.append(Folder(shown: shown, real: real))
            } else {
                d.append(.warning(path: shown, "pack folder is listed more than once; loaded once"))
            }
        }
        for directory in directories {
            // A folder the config named is reported where the config names it.
            func problem(_ message: String) {
                if let at = directoryLocations[directory] {
                    d.error(at, "packs: \(directory): \(message)")
                } else {
                    d.append(.error(path: directory, message))
                }
            }
            switch FileSystem.kind(FileSystem.realPath(directory) ?? directory) {
            case .missing:
                problem("pack folder does not exist")
                continue
            case .directory:
                break
            default:
                problem("pack folder is not a folder")
                continue
            }
            if FileSystem.kind(directory + "/pack.yaml") != .missing {
                add(directory)
                continue
            }
            var any = false
            for name in FileSystem.list(directory) ?? [] where !name.hasPrefix(".") {
                let sub = directory + "/" + name
                guard FileSystem.kind(FileSystem.realPath(sub) ?? sub) == .directory else {
                    continue
                }
                if FileSystem.kind(sub + "/pack.yaml") == .missing {
                    d.append(.warning(path: sub, "folder has no pack.yaml; skipped"))
                } else {
                    add(sub)
                    any = true
                }
            }
            if !any {
                d.append(
                    .error(path: directory, "no pack.yaml here or in any immediate subfolder"))
            }
        }
        return found
    }

    /// Pack names and action names are unique across everything loaded.
    private func checkUnique(_ packs: [Pack], _ d: inout Diagnostics) {
        var packNames: [String: Pack] = [:]
        var actionNames: [String: Action] = [:]
        for pack in packs {
            if let first = packNames[pack.name] {
                d.append(
                    .error(
                        path: pack.directory,
                        "pack \"\(pack.name)\" is already loaded from \(first.directory)"))
            } else {
                packNames[pack.name] = pack
            }
            for action in pack.actions {
                if let first = actionNames[action.name] {
                    d.error(
                        action.location,
                        "action \"\(action.name)\" is already declared at \(first.location)")
                } else {
                    actionNames[action.name] = action
                }
            }
        }
    }
}
