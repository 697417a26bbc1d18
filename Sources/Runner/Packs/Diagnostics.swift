/// Every problem found by one load, in the order found. It is also the error a
/// failed load returns, so callers print each entry and count the errors.
nonisolated public struct Diagnostics: Error, Sendable, Equatable, CustomStringConvertible {
    /// The diagnostics in the order they were found.
    public private(set) var all: [Diagnostic]
    /// How many of them are errors, kept so that parsers can cheaply ask whether a
    /// step added any.
    public private(set) var errorCount: Int

    /// A list holding `all`.
    public init(_ all: [Diagnostic] = []) {
        self.all = all
        self.errorCount = all.filter { $0.severity == .error }.count
    }

    /// Only the errors.
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }

    /// Only the warnings.
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }

    /// True when anything refuses the load.
    public var hasErrors: Bool { errorCount > 0 }

    /// Adds one diagnostic.
    public mutating func append(_ diagnostic: Diagnostic) {
        all.append(diagnostic)
        if diagnostic.severity == .error { errorCount += 1 }
    }

    /// Adds several.
    public mutating func append(contentsOf other: Diagnostics) {
        all.append(contentsOf: other.all)
        errorCount += other.errorCount
    }

    /// An error at `location`.
    mutating func error(_ location: SourceLocation, _ message: String) {
        append(.error(location, message))
    }

    /// A warning at `location`.
    mutating func warning(_ location: SourceLocation, _ message: String) {
        append(.warning(location, message))
    }

    /// One diagnostic per line, as a compiler prints them.
    public var description: String {
        all.map(\.description).joined(separator: "\n")
    }
}
