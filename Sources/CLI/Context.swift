import Glibc
import Runner

/// Options that come before the command word, and what they load.
struct GlobalOptions {
    /// `--config FILE`, else `$WARD_CONFIG`, else the system path.
    var configPath: String?
    /// `--allow-writable`: accept files this user could rewrite (development).
    var allowWritable = false
    /// `--log-level`, overriding the config.
    var logLevel: LogLevel?
    /// `--log-format`, overriding the config.
    var logFormat: LogFormat?

    /// The config file ward reads when none is named.
    static let systemConfigPath = "/etc/ward/config.yaml"

    /// The config path in effect.
    var resolvedConfigPath: String {
        if let configPath { return configPath }
        if let env = getenv("WARD_CONFIG"), env.pointee != 0 { return String(cString: env) }
        return GlobalOptions.systemConfigPath
    }

    /// Loads the config, failing with every diagnostic and exit code 3.
    func loadConfig() throws(CommandFailure) -> RunnerConfig {
        switch RunnerConfig.load(path: resolvedConfigPath, allowWritable: allowWritable) {
        case .success(let config): return config
        case .failure(let diagnostics):
            throw CommandFailure(
                .config, diagnostics.all.map(\.description).joined(separator: "\n"))
        }
    }

    /// Loads the config and every pack it names; warnings go to stderr.
    func loadRegistry() throws(CommandFailure) -> (RunnerConfig, Registry) {
        let config = try loadConfig()
        let loader = PackLoader(config: config, allowWritable: allowWritable)
        let (registry, diagnostics) = loader.load(directories: config.packDirectories)
        for d in diagnostics where d.severity == .warning { Terminal.err(d.description) }
        guard let registry else {
            let errors = diagnostics.filter { $0.severity == .error }
            throw CommandFailure(
                .config,
                errors.map(\.description).joined(separator: "\n")
                    + "\nward: \(errors.count) error(s) in the packs; nothing was loaded")
        }
        return (config, registry)
    }

    /// A logger for a one-shot command: warnings and errors only unless
    /// `--log-level` says otherwise (the config's level is for long-running modes),
    /// so a terminal shows the action's output, not ward's lifecycle.
    func logger(config: RunnerConfig?) -> Logger {
        Logger(
            level: logLevel ?? .warn,
            format: logFormat ?? config?.logFormat ?? .logfmt)
    }
}

/// Writing to the terminal without Foundation.
enum Terminal {
    /// Writes `text` and a newline to stdout.
    static func out(_ text: String) {
        write(1, text + "\n")
    }

    /// Writes `text` and a newline to stderr.
    static func err(_ text: String) {
        write(2, text + "\n")
    }

    /// Writes all of `text` to `fd`, retrying short writes.
    static func write(_ fd: Int32, _ text: String) {
        write(fd, bytes: Array(text.utf8))
    }

    /// Writes all of `bytes` to `fd`, retrying short writes; a failure is
    /// dropped (a terminal that went away has no one to tell).
    static func write(_ fd: Int32, bytes: [UInt8]) {
        _ = writeAll(fd, bytes)
    }

    /// Writes all of `bytes` to `fd`, retrying short and interrupted writes;
    /// returns the errno of a failed write, nil when everything was written.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return n < 0 ? errno : EIO
                }
                offset += n
            }
            return nil
        }
    }
}
