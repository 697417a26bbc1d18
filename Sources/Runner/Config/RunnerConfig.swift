import Glibc

/// The runner's configuration file, typed. Every field has a default (see
/// docs/config.md), so an empty section or a missing file section changes nothing.
public struct RunnerConfig {
    /// How the runner names itself to a control plane and in the journal.
    public var runnerID: String
    /// Free-form labels in the order written, sent with the runner's state.
    public var labels: [(key: String, value: String)]
    /// Absolute paths of the folders `PackLoader` reads.
    public var packDirectories: [String]
    /// Where in the config each of `packDirectories` was written, for
    /// problems with the folder itself (missing, not a folder).
    public var packDirectoryLocations: [String: SourceLocation] = [:]
    /// Absolute path of the journal's active file.
    public var journalPath: String
    /// Size at which the journal file is rotated.
    public var rotateBytes: Int64
    /// Rotated journal files kept.
    public var keepFiles: Int
    /// Runs allowed at the same time; more are refused, not queued.
    public var maxConcurrentRuns: Int
    /// Time between SIGTERM and SIGKILL to a timed-out child's process group.
    public var killGraceMilliseconds: Int64
    /// Highest value any action may use for each option.
    public var ceilings: [OptionName: Int64]
    /// Highest resource limits an action may put on its child (`limits.child_ceilings`).
    public var limitCeilings: [ChildLimit: Int64] = [:]
    /// Shortest secret value the redactor registers (shorter ones would mask noise).
    public var minSecretLength: Int
    /// Redaction rules applied to every action's output.
    public var redactionRules: [RedactionRuleSpec]
    /// Lowest log level written.
    public var logLevel: LogLevel
    /// The shape of log lines.
    public var logFormat: LogFormat
    /// How to reach the control plane; nil when the config has no such section.
    public var controlPlane: ControlPlaneConfig?
    /// Absolute path of the file this was loaded from; nil for built-in defaults.
    public var path: String?
    /// Warnings from loading (for example files allowed by `--allow-writable`).
    public var loadWarnings: [Diagnostic] = []

    /// Defaults used when the file says nothing: paths relative to `baseDirectory`
    /// (the config file's folder), and the host name as the runner id.
    public static func defaults(baseDirectory: String, hostname: String = Host.name())
        -> RunnerConfig
    {
        RunnerConfig(
            runnerID: Host.runnerID(fromHostname: hostname), labels: [],
            packDirectories: [FileSystem.absolute("packs", base: baseDirectory)],
            journalPath: FileSystem.absolute("journal/events.jsonl", base: baseDirectory),
            rotateBytes: ConfigLimits.rotateBytes.defaultValue,
            keepFiles: Int(ConfigLimits.keepFiles.defaultValue),
            maxConcurrentRuns: Int(ConfigLimits.maxConcurrentRuns.defaultValue),
            killGraceMilliseconds: ConfigLimits.killGraceSeconds.defaultValue * 1000,
            ceilings: Dictionary(
                uniqueKeysWithValues: OptionName.allCases.map {
                    ($0, OptionDefaults.defaultCeiling($0))
                }),
            minSecretLength: Int(ConfigLimits.minSecretLength.defaultValue),
            redactionRules: [], logLevel: .info, logFormat: .logfmt, path: nil)
    }

    /// Reads the config file at `path` with the same strict YAML rules as packs, after
    /// checking that only root can change it (unless `allowWritable`).
    public static func load(path: String, allowWritable: Bool) -> Result<
        RunnerConfig, Diagnostics
    > {
        ConfigLoader.load(path: path, allowWritable: allowWritable)
    }
}

/// A bounded integer setting: its default and the range a config may write.
public struct IntegerSetting: Sendable {
    /// Used when the key is absent.
    public var defaultValue: Int64
    /// Lowest accepted value.
    public var min: Int64
    /// Highest accepted value.
    public var max: Int64
}

/// Defaults and bounds of the config's integer settings.
public enum ConfigLimits {
    /// 16 MiB files are quick to verify and tail; below 64 KiB rotation would churn.
    /// 1 TiB is a sanity bound, not a recommendation.
    public static let rotateBytes = IntegerSetting(
        defaultValue: 16_777_216, min: 65_536, max: 1 << 40)
    /// Eight rotated files keep a week or more of a typical runner's history.
    public static let keepFiles = IntegerSetting(defaultValue: 8, min: 1, max: 1000)
    /// Sixteen concurrent children is plenty for operational reads on one host; 1024
    /// stays well inside the default file-descriptor limit (three pipes per child).
    public static let maxConcurrentRuns = IntegerSetting(defaultValue: 16, min: 1, max: 1024)
    /// Two seconds lets a well-behaved child flush and exit on SIGTERM; a minute is
    /// the longest a stuck child may hold a run slot after its timeout.
    public static let killGraceSeconds = IntegerSetting(defaultValue: 2, min: 0, max: 60)
    /// Secrets shorter than six bytes would mask common words and numbers; the bound
    /// 4...64 keeps the setting meaningful.
    public static let minSecretLength = IntegerSetting(defaultValue: 6, min: 4, max: 64)
}

/// The host's name, for the default runner id.
public enum Host {
    /// gethostname(2), or "localhost" when it fails.
    public static func name() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(
            decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
            as: UTF8.self)
    }

    /// `hostname` made into a valid runner id: other characters become `-`, and it is
    /// cut to 64 characters; an empty result is `ward`.
    public static func runnerID(fromHostname hostname: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".utf8)
        let bytes = hostname.utf8.prefix(NameRule.identifierLength).map {
            allowed.contains($0) ? $0 : UInt8(ascii: "-")
        }
        return bytes.isEmpty ? "ward" : String(decoding: bytes, as: UTF8.self)
    }
}
