/// `ward doctor`: checks that this host can run ward as configured, each check
/// ending pass, warn, fail or skip with what to do about it (docs/doctor.md).
public enum Doctor {
    /// What to check and how.
    public struct Settings {
        /// The config file to check.
        public var configPath: String
        /// Accept config and pack files this user could rewrite, as ward would.
        public var allowWritable = false
        /// Skip the checks that use the network (lookup and handshake).
        public var offline = false
        /// ward's environment: the runner key and proxy settings come from it.
        public var environment: [String: String] = [:]
        /// Where the service unit is installed.
        public var unitPath = ServiceChecks.defaultUnitPath
        /// How long the lookup and the handshake may each take, in milliseconds.
        public var networkTimeout = NetworkProbe.stepTimeout

        /// Settings for the config at `configPath`, with every other one at its default.
        public init(configPath: String) {
            self.configPath = configPath
        }
    }

    /// Runs every check in order; a check that needs what an earlier one could
    /// not provide (a config that loads, packs that validate) skips saying so.
    public static func run(_ settings: Settings) -> DoctorReport {
        var checks: [DoctorCheck] = []
        let unit = try? ServiceUnit.read(settings.unitPath)?.get()

        let (configCheck, loaded) = config(settings)
        checks.append(configCheck)
        if let config = loaded {
            checks += local(config, settings)
            checks += controlPlane(config, settings, unit: unit)
        } else {
            let why = "the config did not load"
            for name in [
                "packs", "executables", "journal directory", "journal", "auth key", "tls trust",
                "control plane address", "control plane tls",
            ] {
                checks.append(.skip(name, why))
            }
        }
        checks += ServiceChecks.check(
            unitPath: settings.unitPath, configPath: settings.configPath,
            journalPath: loaded?.journalPath)
        return DoctorReport(checks: checks)
    }

    /// Whether the config loads, with its warnings.
    static func config(_ settings: Settings) -> (DoctorCheck, RunnerConfig?) {
        let path = settings.configPath
        switch RunnerConfig.load(path: path, allowWritable: settings.allowWritable) {
        case .success(let config):
            guard config.loadWarnings.isEmpty else {
                return (
                    .warn(
                        "config", "\(path) loads, with \(config.loadWarnings.count) warning(s)",
                        fix: "address each warning below (on a host, the config and every"
                            + " folder above it belong to root and are not group- or"
                            + " world-writable)",
                        items: config.loadWarnings.map(\.description)),
                    config
                )
            }
            return (.pass("config", "\(path) loads"), config)
        case .failure(let diagnostics):
            return (
                .fail(
                    "config", "\(path) does not load: \(diagnostics.all.count) problem(s)",
                    fix: "fix each line below (docs/config.md describes every key); ward refuses"
                        + " to start until then",
                    items: diagnostics.all.map(\.description)),
                nil
            )
        }
    }

    /// The packs, their programs and the journal.
    static func local(_ config: RunnerConfig, _ settings: Settings)
        -> [DoctorCheck]
    {
        var checks: [DoctorCheck] = []
        let (packs, registry) = PackChecks.validate(config, allowWritable: settings.allowWritable)
        checks.append(packs)
        if let registry {
            checks += PackChecks.executables(registry)
        } else {
            checks.append(.skip("executables", "the packs did not load"))
        }
        checks.append(JournalChecks.directory(config.journalPath))
        checks.append(JournalChecks.chain(config.journalPath))
        return checks
    }

    /// The control plane's key, trust, address and handshake.
    static func controlPlane(_ config: RunnerConfig, _ settings: Settings, unit: ServiceUnit?)
        -> [DoctorCheck]
    {
        guard let cp = config.controlPlane else {
            let why = "the config has no control_plane section (only ward connect needs one)"
            return ["auth key", "tls trust", "control plane address", "control plane tls"].map {
                .skip($0, why)
            }
        }
        var checks = [ControlPlaneChecks.authKey(cp, environment: settings.environment, unit: unit)]
        let (local, target) = ControlPlaneChecks.target(cp, environment: settings.environment)
        checks += local
        guard let target else {
            let why = "the control_plane settings above are not usable"
            for name in ["control plane address", "control plane tls"]
            where !checks.contains(where: { $0.name == name }) {
                checks.append(.skip(name, why))
            }
            return checks
        }
        if settings.offline {
            checks.append(.skip("control plane address", "--offline: the network is not used"))
            checks.append(
                .skip(NetworkProbe.connectName(target), "--offline: the network is not used"))
            return checks
        }
        checks += NetworkProbe.run(target, timeout: settings.networkTimeout)
        return checks
    }
}
