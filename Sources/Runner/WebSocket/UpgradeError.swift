/// Why the opening handshake failed. Values quoted here come from the server's
/// response, never from the request (whose headers hold credentials).
nonisolated public enum UpgradeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status line ran past `UpgradeResponseParser.maxStatusLineBytes`.
    case statusLineTooLong
    /// The header block ran past `UpgradeResponseParser.maxHeaderBlockBytes`.
    case headerBlockTooLarge
    /// More than `UpgradeResponseParser.maxHeaderCount` header lines.
    case tooManyHeaders
    /// The first line is not `HTTP/1.x NNN reason`.
    case malformedStatusLine(String)
    /// A header line is not `name: value`, or uses a bare CR or line folding.
    case malformedHeader(String)
    /// The server answered 401 or 403: the credentials were refused.
    case authenticationFailed(status: Int, reason: String)
    /// The server answered something other than 101; `retryAfterSeconds` is
    /// its `Retry-After` on a 429 or 503, when it gave one in seconds.
    case unexpectedStatus(status: Int, reason: String, retryAfterSeconds: Int?)
    /// A 101 from an HTTP version other than 1.1.
    case unsupportedVersion(String)
    /// The 101 has no `Upgrade: websocket`; the value seen, if any.
    case missingUpgrade(String?)
    /// The 101's `Connection` has no `upgrade` token; the value seen, if any.
    case missingConnectionUpgrade(String?)
    /// The 101 has no `Sec-WebSocket-Accept`, or more than one.
    case missingAccept
    /// The accept value does not match the request's key.
    case wrongAccept(String)
    /// The server chose an extension the client never offered.
    case unrequestedExtension(String)
    /// The server chose a subprotocol the client never offered.
    case unrequestedSubprotocol(String)
    /// The transport ended before the header block was complete.
    case connectionClosed(String)
    /// No complete response within the handshake timeout.
    case timedOut

    /// The HTTP status the server answered with, when it got that far.
    public var status: Int? {
        switch self {
        case .authenticationFailed(let status, _), .unexpectedStatus(let status, _, _): status
        default: nil
        }
    }

    /// The server's `Retry-After` in seconds, when it sent one with 429/503.
    public var retryAfterSeconds: Int? {
        if case .unexpectedStatus(_, _, let seconds) = self { return seconds }
        return nil
    }

    /// Whether the server refused the credentials: retrying soon will not help.
    public var isAuthenticationFailure: Bool {
        if case .authenticationFailed = self { return true }
        return false
    }

    /// A sentence saying what the server sent, quoting it.
    public var description: String {
        switch self {
        case .statusLineTooLong:
            "upgrade response status line is over \(UpgradeResponseParser.maxStatusLineBytes) bytes"
        case .headerBlockTooLarge:
            "upgrade response headers are over \(UpgradeResponseParser.maxHeaderBlockBytes) bytes"
        case .tooManyHeaders:
            "upgrade response has more than \(UpgradeResponseParser.maxHeaderCount) headers"
        case .malformedStatusLine(let line):
            "upgrade response status line \(quoted(line)) is malformed"
        case .malformedHeader(let line): "upgrade response header line \(quoted(line)) is malformed"
        case .authenticationFailed(let status, let reason):
            "server refused the credentials: HTTP \(status) \(quoted(reason))"
        case .unexpectedStatus(let status, let reason, let seconds):
            "server answered the upgrade with HTTP \(status) \(quoted(reason))"
                + (seconds.map { ", retry after \($0) s" } ?? "")
        case .unsupportedVersion(let version): "server answered the upgrade with \(quoted(version))"
        case .missingUpgrade(let value):
            "upgrade response lacks Upgrade: websocket (got \(value.map { quoted($0) } ?? "none"))"
        case .missingConnectionUpgrade(let value):
            "upgrade response Connection lacks upgrade (got \(value.map { quoted($0) } ?? "none"))"
        case .missingAccept: "upgrade response has no single Sec-WebSocket-Accept"
        case .wrongAccept(let value):
            "upgrade response Sec-WebSocket-Accept \(quoted(value)) does not match the key"
        case .unrequestedExtension(let value):
            "server chose websocket extension \(quoted(value)) that was not offered"
        case .unrequestedSubprotocol(let value):
            "server chose subprotocol \(quoted(value)) that was not offered"
        case .connectionClosed(let why): "connection ended during the upgrade: \(why)"
        case .timedOut: "no upgrade response within the handshake timeout"
        }
    }
}

/// The server's answer to a successful upgrade.
nonisolated public struct UpgradeResponse: Equatable, Sendable {
    /// The status code: always 101 once the parser accepted it.
    public let status: Int
    /// The reason phrase as sent.
    public let reason: String
    /// Header lines in order, names as sent.
    public let headers: [HTTPHeader]

    /// Every value of the header `name` (case-insensitive), in order.
    public func values(of name: String) -> [String] {
        let wanted = HTTPSyntax.lowercased(name)
        return headers.filter { HTTPSyntax.lowercased($0.name) == wanted }.map(\.value)
    }

    /// The subprotocol the server chose, if any.
    public var subprotocol: String? { values(of: "Sec-WebSocket-Protocol").first }
}
