/// Why a proxy did not open a CONNECT tunnel. Never shows credentials.
nonisolated public struct ProxyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Error, Equatable, Sendable {
        /// 407: the proxy wants credentials, or refused the ones sent.
        case authenticationRequired(sentCredentials: Bool)
        /// Any other status outside 2xx, with the proxy's reason phrase.
        case refused(status: Int, reason: String)
        /// The response was not HTTP/1.x.
        case malformed(String)
        /// The status line and headers went past the limit.
        case responseTooLarge(limit: Int)
        /// The proxy closed the connection before answering.
        case closedEarly
    }

    /// The proxy, as `host:port`.
    public let proxy: String
    /// The tunnel asked for, as `host:port`.
    public let target: String
    /// What went wrong.
    public let kind: Kind

    /// `proxy p:3128 refused CONNECT to t:443: 403 Forbidden`, and so on.
    public var description: String {
        let head = "proxy \(proxy) refused CONNECT to \(target)"
        switch kind {
        case .authenticationRequired(let sent):
            return sent
                ? "\(head): 407, the proxy rejected the credentials in the proxy URL"
                : "\(head): 407, the proxy requires credentials (user:password@ in the proxy URL)"
        case .refused(let status, let reason):
            return "\(head): \(status) \(reason)"
        case .malformed(let detail):
            return "proxy \(proxy) sent a malformed answer to CONNECT \(target): \(detail)"
        case .responseTooLarge(let limit):
            return "proxy \(proxy) sent more than \(limit) bytes of headers for CONNECT \(target)"
        case .closedEarly:
            return "proxy \(proxy) closed the connection before answering CONNECT \(target)"
        }
    }
}

/// The HTTP CONNECT exchange (RFC 9110 section 9.3.6) that turns a TCP
/// connection to a proxy into a tunnel to the target: the request, and an
/// explicit state machine over the response head.
nonisolated enum HTTPConnectProxy {
    /// Most bytes of status line plus headers accepted. A CONNECT answer is
    /// a status line and a few headers; 8 KiB is the common server limit
    /// for a request head, and more means something is not a proxy.
    static let maximumResponseHead = 8 * 1024
    /// Longest reason phrase kept for an error message.
    static let maximumReasonLength = 80

    /// `host:port` as the request target: IPv6 literals bracketed.
    static func authority(host: String, port: UInt16) -> String {
        NetworkAddress(literal: host)?.endpoint(port: port) ?? "\(host):\(port)"
    }

    /// The request: `CONNECT host:port HTTP/1.1`, `Host`, and
    /// `Proxy-Authorization: Basic` when the proxy URL had credentials.
    static func request(host: String, port: UInt16, proxy: ProxyTarget) -> [UInt8] {
        let target = authority(host: host, port: port)
        var text = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization = proxy.authorization {
            text += "Proxy-Authorization: \(authorization)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Where the response parser is.
    enum State: Equatable {
        /// Reading `HTTP/1.x NNN reason`.
        case statusLine
        /// Reading header lines until the empty one.
        case headers
        /// The head ended; the tunnel is open.
        case done
    }

    /// What one `feed` found.
    enum Step: Equatable {
        /// The head is not complete yet.
        case needMore
        /// A 2xx answer: the tunnel is open, and these bytes after the head
        /// are the first the target sent.
        case established(leftover: [UInt8])
    }

    /// Parses the proxy's answer as it arrives, in any split.
    struct ResponseParser {
        /// Where the parser is.
        private(set) var state = State.statusLine
        /// The line being read, without its LF.
        private var line: [UInt8] = []
        /// Head bytes seen so far, for the limit.
        private var headBytes = 0
        /// The status code, once the status line was read.
        private(set) var status: Int?
        /// Whether the request carried Proxy-Authorization, for a 407's wording.
        let sentCredentials: Bool

        /// A parser for the answer to a request with or without credentials.
        init(sentCredentials: Bool) {
            self.sentCredentials = sentCredentials
        }

        /// Consumes `bytes`. Throws the failure kind for a non-2xx status, a
        /// malformed line or an oversized head.
        mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(ProxyError.Kind) -> Step {
            precondition(state != .done, "CONNECT response fed after the tunnel opened")
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                headBytes += 1
                guard headBytes <= HTTPConnectProxy.maximumResponseHead else {
                    throw .responseTooLarge(limit: HTTPConnectProxy.maximumResponseHead)
                }
                guard byte == UInt8(ascii: "\n") else {
                    line.append(byte)
                    continue
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                let complete = line
                line.removeAll(keepingCapacity: true)
                switch state {
                case .statusLine:
                    try readStatusLine(complete)
                    state = .headers
                case .headers:
                    if complete.isEmpty {
                        state = .done
                        return .established(leftover: Array(bytes[index...]))
                    }
                    guard let colon = complete.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                        throw .malformed("header line without a name")
                    }
                case .done:
                    preconditionFailure("unreachable: returned at the end of the head")
                }
            }
            return .needMore
        }

        /// Checks `HTTP/1.x NNN [reason]`; throws for anything but 2xx.
        private mutating func readStatusLine(_ line: [UInt8]) throws(ProxyError.Kind) {
            let text = String(decoding: line, as: UTF8.self)
            let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8,
                parts[1].count == 3, let code = Int(parts[1])
            else {
                throw .malformed("status line \"\(Self.printable(text))\"")
            }
            status = code
            if (200..<300).contains(code) { return }
            if code == 407 { throw .authenticationRequired(sentCredentials: sentCredentials) }
            throw .refused(status: code, reason: parts.count > 2 ? Self.printable(parts[2]) : "")
        }

        /// `text` cut to the reason limit, with control characters replaced,
        /// so a hostile proxy cannot forge log lines.
        static func printable(_ text: some StringProtocol) -> String {
            String(
                text.prefix(HTTPConnectProxy.maximumReasonLength).map {
                    $0.isASCII && !($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? $0 : "?"
                })
        }
    }
}
