import Glibc

/// The packs as the runner would load them, and the programs their actions start.
enum PackChecks {
    /// Loads every pack folder of `config` exactly as the runner does: the
    /// registry when all of them validate, and the check saying so.
    static func validate(_ config: RunnerConfig, allowWritable: Bool) -> (DoctorCheck, Registry?) {
        let loader = PackLoader(config: config, allowWritable: allowWritable)
        let (registry, diagnostics) = loader.load(directories: config.packDirectories)
        let folders = config.packDirectories.joined(separator: ", ")
        guard let registry else {
            let errors = diagnostics.filter { $0.severity == .error }.count
            return (
                .fail(
                    "packs",
                    "\(errors) error(s) in the packs under \(folders): ward would load none",
                    fix: "fix each error below (`ward pack validate DIR` lists the same), then"
                        + " reload ward",
                    items: diagnostics.map(\.description)),
                nil
            )
        }
        let summary =
            "\(registry.packs.count) pack(s), \(registry.actions.count) action(s) from \(folders)"
        let warnings = diagnostics.filter { $0.severity == .warning }
        guard warnings.isEmpty else {
            return (
                .warn(
                    "packs", summary + ", with \(warnings.count) warning(s)",
                    fix: "the packs load; address each warning below",
                    items: warnings.map(\.description)),
                registry
            )
        }
        return (.pass("packs", summary), registry)
    }

    /// What a declared path is to the action that names it.
    enum Role: String {
        /// `exec` argv[0].
        case program
        /// A script's interpreter[0].
        case interpreter
        /// A script's file, read by its interpreter.
        case script
    }

    /// One path that some actions need, and which ones.
    struct Need {
        var path: String
        var role: Role
        var actions: [String]
        var packs: [String]
    }

    /// Every program, interpreter and script file the actions of `registry`
    /// start, each once, in the order first declared.
    static func needs(_ registry: Registry) -> [Need] {
        var list: [Need] = []
        var index: [String: Int] = [:]
        func add(_ path: String, _ role: Role, _ action: Action) {
            if let i = index[path] {
                list[i].actions.append(action.name)
                if !list[i].packs.contains(action.pack) { list[i].packs.append(action.pack) }
            } else {
                index[path] = list.count
                list.append(
                    Need(path: path, role: role, actions: [action.name], packs: [action.pack]))
            }
        }
        for action in registry.actions {
            switch action.execution {
            case .exec(let argv):
                // The loader guarantees argv[0] is a fixed absolute path.
                add(argv[0].source, .program, action)
            case .script(let interpreter, let scriptPath, _):
                add(interpreter[0], .interpreter, action)
                add(scriptPath, .script, action)
            }
        }
        return list
    }

    /// Checks that each program exists and is executable (and each script file
    /// readable) for this user: one pass for all, or one warning per path.
    static func executables(_ registry: Registry) -> [DoctorCheck] {
        let all = needs(registry)
        var warnings: [DoctorCheck] = []
        for need in all {
            guard let problem = problem(need) else { continue }
            let affected = need.actions.joined(separator: ", ")
            let remedy =
                need.role == .script
                ? "restore the file in the pack (ward pack validate checks it)"
                : "install \(need.path) (or the package that provides it)"
            warnings.append(
                .warn(
                    "executable \(need.path)",
                    "\(need.role.rawValue) \(problem); affects \(affected)",
                    fix: remedy + ", or remove the pack "
                        + need.packs.joined(separator: ", ")
                        + " from this host: until then these actions fail to start"))
        }
        if warnings.isEmpty {
            return [
                .pass(
                    "executables",
                    "all \(all.count) program(s), interpreter(s) and script(s) of"
                        + " \(registry.actions.count) action(s) are in place")
            ]
        }
        return warnings
    }

    /// What is wrong with `need` as this user sees it, or nil.
    static func problem(_ need: Need) -> String? {
        var st = stat()
        guard stat(need.path, &st) == 0 else {
            return errno == ENOENT ? "is missing" : "cannot be read (\(errnoName(errno)))"
        }
        guard st.st_mode & S_IFMT == S_IFREG else { return "is not a regular file" }
        if need.role == .script {
            // The interpreter reads the script; its execute bit does not matter.
            return access(need.path, R_OK) == 0 ? nil : "is not readable"
        }
        // access(X_OK) as root passes when any execute bit is set, which is
        // what execve requires of root too.
        return access(need.path, X_OK) == 0 ? nil : "is not executable"
    }
}
