/// Every problem found by one load, in the order found. It is also the error a
/// failed load returns, so callers print each entry and count the errors.
nonisolated public struct Diagnostics: Error, Sendable, Equatable, CustomStringConvertible {
    /// The diagnostics in the order they were found.
    public var all: [Diagnostic]

    /// A list holding `all`.
    public init(_ all: [Diagnostic] = []) {
        self.all = all
    }

    /// Only the errors.
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }

    /// Only the warnings.
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }

    /// True when anything refuses the load.
    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// Adds one diagnostic.
    public mutating func append(_ diagnostic: Diagnostic) {
        all.append(diagnostic)
    }

    /// Adds several.
    public mutating func append(contentsOf other: Diagnostics) {
        all.append(contentsOf: other.all)
    }

    /// An error at `location`.
    mutating func error(_ location: SourceLocation, _ message: String) {
        all.append(.error(location, message))
    }

    /// A warning at `location`.
    mutating func warning(_ location: SourceLocation, _ message: String) {
        all.append(.warning(location, message))
    }

    /// One diagnostic per line, as a compiler prints them.
    public var description: String {
        all.map(\.description).joined(separator: "\n")
    }
}
