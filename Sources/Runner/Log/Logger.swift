import Glibc

/// How much a log line matters. Lifecycle at info, details at debug, warn for a
/// recoverable anomaly, error for a real failure.
nonisolated public enum LogLevel: Int, Comparable, Sendable {
    case debug, info, warn, error

    /// The level's name as written in log lines.
    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    /// Parses a level name; nil for anything else.
    public init?(name: String) {
        switch name {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The shape of a log line on stderr.
nonisolated public enum LogFormat: Sendable {
    /// `ts=… level=info msg="run finished" run.id=…`, readable and greppable.
    case logfmt
    /// One JSON object per line, for log shippers.
    case json
}

/// A structured logger writing one line per event to stderr. Messages are
/// constant phrases; changing data goes in named fields. Every field value
/// passes through `scrub` (ward's redactor) before it is written.
public final class Logger {
    /// Lines below this level are dropped.
    public var minimumLevel: LogLevel
    /// The line format.
    public var format: LogFormat
    /// Applied to every message and field value before writing; the engine
    /// installs the redactor here so nothing secret reaches a log.
    public var scrub: (String) -> String = { $0 }
    /// Where lines go; stderr unless a test captures them.
    public var sink: (String) -> Void = { line in
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// A logger at `level` in `format`.
    public init(level: LogLevel = .info, format: LogFormat = .logfmt) {
        self.minimumLevel = level
        self.format = format
    }

    /// Writes one line if `level` passes the threshold.
    public func log(_ level: LogLevel, _ message: String, _ fields: [(String, String)] = []) {
        guard level >= minimumLevel else { return }
        let ts = Clock.nowRFC3339()
        let clean = fields.map { ($0.0, scrub($0.1)) }
        switch format {
        case .json:
            var object = JSONObject()
            object["ts"] = .string(ts)
            object["level"] = .string(level.name)
            object["msg"] = .string(scrub(message))
            for (k, v) in clean { object[k] = .string(v) }
            sink(JSONWriter.string(.object(object)))
        case .logfmt:
            var line = "ts=\(ts) level=\(level.name) msg=\(Logger.quote(scrub(message)))"
            for (k, v) in clean { line += " \(k)=\(Logger.quote(v))" }
            sink(line)
        }
    }

    /// Shorthand for `log(.debug, …)`.
    public func debug(_ message: String, _ fields: [(String, String)] = []) {
        log(.debug, message, fields)
    }
    /// Shorthand for `log(.info, …)`.
    public func info(_ message: String, _ fields: [(String, String)] = []) {
        log(.info, message, fields)
    }
    /// Shorthand for `log(.warn, …)`.
    public func warn(_ message: String, _ fields: [(String, String)] = []) {
        log(.warn, message, fields)
    }
    /// Shorthand for `log(.error, …)`.
    public func error(_ message: String, _ fields: [(String, String)] = []) {
        log(.error, message, fields)
    }

    /// logfmt quoting: bare when the value is simple, otherwise a JSON string.
    static func quote(_ value: String) -> String {
        let simple =
            !value.isEmpty
            && value.utf8.allSatisfy { b in
                b > 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "=")
                    && b != UInt8(ascii: "\\")
            }
        return simple ? value : JSONWriter.string(.string(value))
    }
}
