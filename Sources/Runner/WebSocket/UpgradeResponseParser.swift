/// What feeding bytes to an `UpgradeResponseParser` produced.
nonisolated public enum UpgradeStep: Equatable, Sendable {
    /// The header block is not complete yet.
    case needMore
    /// A valid 101; `remainder` holds the bytes after the header block, which
    /// are the first websocket frames.
    case done(UpgradeResponse, remainder: [UInt8])
    /// The handshake failed.
    case failed(UpgradeError)
}

/// Reads the server's answer to an `UpgradeRequest` (RFC 6455 section 4.1,
/// client requirements 1-6) byte by byte, with every limit checked as each
/// byte arrives, so a hostile server can make it hold at most 8 KiB.
nonisolated public struct UpgradeResponseParser: Sendable {
    /// Longest status line accepted. A real one is about 32 bytes; a kilobyte
    /// leaves room for a long reason phrase and nothing more.
    public static let maxStatusLineBytes = 1024
    /// Most header lines accepted. A 101 needs three; proxies and load
    /// balancers add a handful; 64 is far past any honest response.
    public static let maxHeaderCount = 64
    /// Largest header block accepted, status line and line ends included:
    /// 8 KiB is the common default limit of HTTP servers, so nothing honest
    /// is larger.
    public static let maxHeaderBlockBytes = 8192

    /// Where the parser is in the header block.
    enum State: Sendable {
        /// Reading the status line.
        case statusLine
        /// Saw the CR that ends the status line; LF must follow.
        case statusLineCR
        /// Reading a header line (or the blank line that ends the block).
        case headerLine
        /// Saw the CR that ends a header line; LF must follow.
        case headerLineCR
        /// The block is complete and was checked.
        case finished
    }

    /// What one byte did.
    enum Progress {
        /// Keep feeding.
        case needMore
        /// That byte ended the header block.
        case blockEnded
        /// That byte broke the grammar or a limit.
        case failed(UpgradeError)
    }

    private var state = State.statusLine
    private var line: [UInt8] = []
    private var total = 0
    private var version = ""
    private var status = 0
    private var reason = ""
    private var headers: [HTTPHeader] = []
    private let expectedAccept: String
    private let offeredSubprotocols: [String]

    /// A parser for the answer to `request`.
    public init(for request: UpgradeRequest) {
        self.init(expectedAccept: request.expectedAccept, offeredSubprotocols: request.subprotocols)
    }

    /// A parser expecting `expectedAccept`, with `offeredSubprotocols` the
    /// ones the request listed.
    public init(expectedAccept: String, offeredSubprotocols: [String] = []) {
        self.expectedAccept = expectedAccept
        self.offeredSubprotocols = offeredSubprotocols.map(HTTPSyntax.lowercased)
    }

    /// Consumes `bytes`. After `done` or `failed` the parser is spent.
    public mutating func feed(_ bytes: [UInt8]) -> UpgradeStep {
        precondition(state != .finished, "UpgradeResponseParser fed after it finished")
        for index in bytes.indices {
            switch step(bytes[index]) {
            case .needMore: continue
            case .failed(let error):
                state = .finished
                return .failed(error)
            case .blockEnded:
                state = .finished
                switch check() {
                case .success(let response):
                    return .done(response, remainder: Array(bytes[(index + 1)...]))
                case .failure(let error): return .failed(error)
                }
            }
        }
        return .needMore
    }

    /// Advances the state machine by one byte.
    mutating func step(_ byte: UInt8) -> Progress {
        total += 1
        if total > UpgradeResponseParser.maxHeaderBlockBytes {
            return .failed(.headerBlockTooLarge)
        }
        switch state {
        case .statusLine:
            switch byte {
            case 0x0D: state = .statusLineCR
            // RFC 9112 section 2.2 lets a recipient take a bare LF as a line end.
            case 0x0A: return endStatusLine()
            default:
                line.append(byte)
                if line.count > UpgradeResponseParser.maxStatusLineBytes {
                    return .failed(.statusLineTooLong)
                }
            }
        case .statusLineCR:
            guard byte == 0x0A else { return .failed(.malformedStatusLine(text(line + [0x0D]))) }
            return endStatusLine()
        case .headerLine:
            switch byte {
            case 0x0D: state = .headerLineCR
            case 0x0A: return endHeaderLine()
            default: line.append(byte)
            }
        case .headerLineCR:
            // A bare CR inside a line is how header smuggling starts: refuse it.
            guard byte == 0x0A else { return .failed(.malformedHeader(text(line + [0x0D]))) }
            return endHeaderLine()
        case .finished:
            preconditionFailure("step after the header block ended")
        }
        return .needMore
    }

    /// Parses `HTTP/1.x NNN reason` from the collected line.
    private mutating func endStatusLine() -> Progress {
        defer {
            line = []
            state = .headerLine
        }
        let bytes = line
        guard let space = bytes.firstIndex(of: 0x20) else {
            return .failed(.malformedStatusLine(text(bytes)))
        }
        let versionBytes = Array(bytes[..<space])
        let prefix = Array("HTTP/1.".utf8)
        guard versionBytes.count == prefix.count + 1,
            Array(versionBytes.prefix(prefix.count)) == prefix,
            isDigit(versionBytes[prefix.count])
        else { return .failed(.malformedStatusLine(text(bytes))) }

        let rest = Array(bytes[(space + 1)...])
        guard rest.count >= 3, rest.prefix(3).allSatisfy(isDigit),
            rest.count == 3 || rest[3] == 0x20
        else { return .failed(.malformedStatusLine(text(bytes))) }
        version = text(versionBytes)
        status = rest.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
        reason = rest.count > 4 ? text(Array(rest[4...])) : ""
        return .needMore
    }

    /// Parses `name: value`, or ends the block on the blank line.
    private mutating func endHeaderLine() -> Progress {
        defer {
            line = []
            state = .headerLine
        }
        let bytes = line
        if bytes.isEmpty { return .blockEnded }
        guard headers.count < UpgradeResponseParser.maxHeaderCount else {
            return .failed(.tooManyHeaders)
        }
        // A leading space or tab is obsolete line folding (RFC 9112 section
        // 5.2), and an empty name is no header: both are refused.
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            bytes[..<colon].allSatisfy(HTTPSyntax.isTokenByte),
            bytes[(colon + 1)...].allSatisfy(HTTPSyntax.isFieldValueByte)
        else { return .failed(.malformedHeader(text(bytes))) }
        let name = text(Array(bytes[..<colon]))
        let value = HTTPSyntax.trimmed(text(Array(bytes[(colon + 1)...])))
        headers.append(HTTPHeader(name: name, value: value))
        return .needMore
    }

    /// Checks the complete response against RFC 6455 section 4.1.
    private func check() -> Result<UpgradeResponse, UpgradeError> {
        let response = UpgradeResponse(status: status, reason: reason, headers: headers)
        guard status == 101 else {
            if status == 401 || status == 403 {
                return .failure(.authenticationFailed(status: status, reason: reason))
            }
            var retryAfter: Int?
            if status == 429 || status == 503 {
                retryAfter = response.values(of: "Retry-After").first.flatMap(Self.delaySeconds)
            }
            return .failure(
                .unexpectedStatus(status: status, reason: reason, retryAfterSeconds: retryAfter))
        }
        guard version == "HTTP/1.1" else { return .failure(.unsupportedVersion(version)) }

        let upgrade = response.values(of: "Upgrade")
        guard upgrade.count == 1, HTTPSyntax.lowercased(upgrade[0]) == "websocket" else {
            return .failure(
                .missingUpgrade(upgrade.isEmpty ? nil : upgrade.joined(separator: ", ")))
        }
        let connection = response.values(of: "Connection")
        guard connection.flatMap(HTTPSyntax.tokens).contains("upgrade") else {
            return .failure(
                .missingConnectionUpgrade(
                    connection.isEmpty ? nil : connection.joined(separator: ", ")))
        }
        let accept = response.values(of: "Sec-WebSocket-Accept")
        guard accept.count == 1 else { return .failure(.missingAccept) }
        guard accept[0] == expectedAccept else { return .failure(.wrongAccept(accept[0])) }

        // ward offers no extension, so any extension in the answer is one the
        // server made up (RFC 6455 section 4.1, item 5).
        if let ext = response.values(of: "Sec-WebSocket-Extensions").first(where: { !$0.isEmpty }) {
            return .failure(.unrequestedExtension(ext))
        }
        let chosen = response.values(of: "Sec-WebSocket-Protocol")
        if let first = chosen.first,
            chosen.count > 1 || !offeredSubprotocols.contains(HTTPSyntax.lowercased(first))
        {
            return .failure(.unrequestedSubprotocol(chosen.joined(separator: ", ")))
        }
        return .success(response)
    }

    /// `Retry-After` as delay-seconds (RFC 9110 section 10.2.3).
    ///
    /// Known gap: the HTTP-date form (`Retry-After: Wed, 21 Oct 2026 07:28:00
    /// GMT`) is not parsed and reads as no hint, so a server that uses it gets
    /// ordinary backoff instead of its requested wait.
    static func delaySeconds(_ value: String) -> Int? {
        // Nine digits is over 31 years: anything longer is not a real delay.
        guard (1...9).contains(value.utf8.count), value.utf8.allSatisfy(isDigit) else { return nil }
        return Int(value)
    }

    /// Server bytes as text for messages; invalid UTF-8 shows as U+FFFD.
    private func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// Whether `byte` is an ASCII digit.
nonisolated private func isDigit(_ byte: UInt8) -> Bool {
    byte >= 0x30 && byte <= 0x39
}
