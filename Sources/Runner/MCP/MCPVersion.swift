/// The MCP protocol revisions ward speaks and what differs between them.
///
/// These are the revisions the official Python SDK (2.3) negotiates through
/// `initialize` (its `HANDSHAKE_PROTOCOL_VERSIONS`).
///
/// Not spoken: 2026-07-28, the SDK's stateless revision, which has no
/// `initialize` at all (a `server/discover` probe and a protocol version in
/// every request's `_meta` instead). ward answers `server/discover` with
/// "method not found", which the SDK and other clients take as the signal to
/// fall back to `initialize` with 2025-11-25, so such a client still works
/// with ward, only on the older revision.
nonisolated public enum MCPVersion {
    /// Every revision ward negotiates, oldest first.
    public static let supported = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]

    /// The newest revision ward speaks, offered when the client's is unknown.
    public static var latest: String { supported[supported.count - 1] }

    /// The specification's negotiation: the client's revision when ward speaks
    /// it, otherwise ward's newest, and the client decides whether to go on.
    public static func negotiate(_ requested: String?) -> String {
        guard let requested, supported.contains(requested) else { return latest }
        return requested
    }

    /// Whether `version` is at least `minimum` (both from `supported`).
    static func atLeast(_ version: String, _ minimum: String) -> Bool {
        precondition(supported.contains(minimum), "unknown MCP revision \(minimum)")
        guard let v = supported.firstIndex(of: version) else { return false }
        return v >= supported.firstIndex(of: minimum)!
    }

    /// 2025-03-26 is the only revision with JSON-RPC batches: they were added
    /// there and removed again in 2025-06-18.
    public static func allowsBatches(_ version: String?) -> Bool {
        version == "2025-03-26"
    }

    /// Tool annotations and the `message` of a progress notification arrived
    /// in 2025-03-26.
    static func hasAnnotations(_ version: String) -> Bool { atLeast(version, "2025-03-26") }

    /// `structuredContent` in tool results and `title` on tools arrived in
    /// 2025-06-18.
    static func hasStructuredContent(_ version: String) -> Bool { atLeast(version, "2025-06-18") }
}
