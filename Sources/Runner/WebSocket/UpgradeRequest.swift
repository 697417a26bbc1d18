/// One HTTP header as a name and a value.
nonisolated public struct HTTPHeader: Equatable, Sendable {
    /// The field name as written (matched case-insensitively).
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// A header `name: value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Why an upgrade request could not be built. No case carries a header value:
/// the caller's headers hold credentials (`Authorization: Bearer …`).
nonisolated public enum UpgradeRequestError: Error, Equatable, Sendable,
    CustomStringConvertible
{
    /// The host is empty or holds characters that cannot go in a Host header.
    case invalidHost(String)
    /// The port is outside 1...65535.
    case invalidPort(Int)
    /// The path does not start with `/` or holds whitespace or control bytes.
    case invalidPath(String)
    /// A header name is not an HTTP token.
    case invalidHeaderName(String)
    /// A header value holds CR, LF or another control byte (value not shown).
    case invalidHeaderValue(name: String)
    /// The caller set a header the handshake itself owns.
    case reservedHeader(String)
    /// A subprotocol name is not an HTTP token.
    case invalidSubprotocol(String)
    /// The key is not 16 bytes, as RFC 6455 section 4.1 requires.
    case invalidKeyLength(Int)

    /// A sentence saying what is wrong, quoting the offending name.
    public var description: String {
        switch self {
        case .invalidHost(let host): "websocket host \(quoted(host)) is not a valid host name"
        case .invalidPort(let port): "websocket port \(port) is outside 1...65535"
        case .invalidPath(let path):
            "websocket path \(quoted(path)) must start with / and hold no spaces"
        case .invalidHeaderName(let name): "header name \(quoted(name)) is not an HTTP token"
        case .invalidHeaderValue(let name):
            "the value of header \(quoted(name)) holds a line break or control byte"
        case .reservedHeader(let name):
            "header \(quoted(name)) is set by the websocket handshake itself"
        case .invalidSubprotocol(let name): "subprotocol \(quoted(name)) is not an HTTP token"
        case .invalidKeyLength(let count): "websocket key is \(count) bytes, not 16"
        }
    }
}

/// The client's opening handshake (RFC 6455 section 4.1): an HTTP/1.1 GET that
/// asks to switch the connection to the websocket protocol.
///
/// Extra headers carry secrets, so `description` names them without their
/// values, and no error built from a request quotes a value.
nonisolated public struct UpgradeRequest: Sendable, CustomStringConvertible {
    /// Bytes in a `Sec-WebSocket-Key` before base64 (RFC 6455 section 4.1).
    public static let keyByteCount = 16
    /// Headers the handshake writes itself; a caller may not override them.
    static let reservedNames: Set<String> = [
        "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
        "sec-websocket-protocol", "sec-websocket-extensions", "content-length",
        "transfer-encoding",
    ]

    /// The server's host name or IP address, without brackets.
    public let host: String
    /// The TCP port the transport dials.
    public let port: Int
    /// The request target: absolute path and optional query.
    public let path: String
    /// Whether the connection is `wss` (default port 443) or `ws` (80).
    public let secure: Bool
    /// Subprotocols offered, in preference order.
    public let subprotocols: [String]
    /// The caller's headers, written after the handshake's own.
    public let headers: [HTTPHeader]
    /// The `Sec-WebSocket-Key` value: base64 of 16 random bytes.
    public let key: String

    /// A request for `path` on `host:port`. `keyBytes` defaults to fresh
    /// random bytes; tests pass fixed ones.
    public init(
        host: String, port: Int, path: String, secure: Bool = true,
        subprotocols: [String] = [], headers: [HTTPHeader] = [],
        keyBytes: [UInt8] = RandomID.bytes(UpgradeRequest.keyByteCount)
    ) throws(UpgradeRequestError) {
        guard !host.isEmpty, host.utf8.allSatisfy(UpgradeRequest.isHostByte) else {
            throw .invalidHost(host)
        }
        guard (1...65535).contains(port) else { throw .invalidPort(port) }
        guard path.utf8.first == UInt8(ascii: "/"), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .invalidPath(path) }
        for name in subprotocols where !HTTPSyntax.isToken(name) {
            throw .invalidSubprotocol(name)
        }
        for header in headers {
            guard HTTPSyntax.isToken(header.name) else { throw .invalidHeaderName(header.name) }
            guard header.value.utf8.allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw .invalidHeaderValue(name: header.name)
            }
            if UpgradeRequest.reservedNames.contains(HTTPSyntax.lowercased(header.name)) {
                throw .reservedHeader(header.name)
            }
        }
        guard keyBytes.count == UpgradeRequest.keyByteCount else {
            throw .invalidKeyLength(keyBytes.count)
        }
        self.host = host
        self.port = port
        self.path = path
        self.secure = secure
        self.subprotocols = subprotocols
        self.headers = headers
        self.key = Base64.encode(keyBytes)
    }

    /// The `Host` header value: the port only when it is not the scheme's
    /// default, and an IPv6 literal in brackets (RFC 9110 section 7.2).
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        let defaultPort = secure ? 443 : 80
        return port == defaultPort ? name : "\(name):\(port)"
    }

    /// The accept value a genuine server answers this request's key with.
    public var expectedAccept: String { WebSocketAccept.value(forKey: key) }

    /// The request as it goes on the wire, header block and blank line.
    public func bytes() -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\n"
        text += "Host: \(hostHeader)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty {
            text += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n"
        }
        for header in headers {
            text += "\(header.name): \(header.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Method, target, host and the names (never the values) of extra headers.
    public var description: String {
        let names = headers.map(\.name).joined(separator: ",")
        return "GET \(path) host=\(hostHeader) headers=[\(names)]"
    }

    /// Letters, digits and the punctuation of DNS names and IP literals.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"),
            UInt8(ascii: ":"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}

/// Shows `text` in double quotes with control bytes escaped and a long value
/// cut, so a hostile server cannot forge log lines through an error message.
nonisolated func quoted(_ text: String, limit: Int = 80) -> String {
    var out = "\""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit {
            out += "…"
            break
        }
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
        count += 1
    }
    return out + "\""
}
