/// Where something was written in a pack or config file: 1-based line and column.
nonisolated public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The file's path as it was given to the loader.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// A location in `file` at `line`:`column`.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, as compilers print it.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found while loading packs or the config, printed like a compiler
/// diagnostic: `file:line:column: error: message`.
nonisolated public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// Whether the problem stops the load.
    public enum Severity: String, Sendable {
        /// The file is refused.
        case error
        /// The file loads, but something deserves the author's attention.
        case warning
    }

    /// How bad it is.
    public var severity: Severity
    /// Where it is; nil when it concerns a whole file or folder that has no position.
    public var location: SourceLocation?
    /// Path of the file or folder when there is no position.
    public var path: String?
    /// A sentence naming the key and quoting the offending value.
    public var message: String

    /// An error at `location`.
    public static func error(_ location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(severity: .error, location: location, path: nil, message: message)
    }

    /// An error about a whole file or folder.
    public static func error(path: String, _ message: String) -> Diagnostic {
        Diagnostic(severity: .error, location: nil, path: path, message: message)
    }

    /// A warning at `location`.
    public static func warning(_ location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(severity: .warning, location: location, path: nil, message: message)
    }

    public var description: String {
        let place = location?.description ?? path ?? "ward"
        return "\(place): \(severity.rawValue): \(message)"
    }
}

extension Diagnostic {
    /// A warning about a whole file or folder.
    public static func warning(path: String, _ message: String) -> Diagnostic {
        Diagnostic(severity: .warning, location: nil, path: path, message: message)
    }
}
