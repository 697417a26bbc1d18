import COpenSSL

/// A proxy setting that is not a usable `http://[user:password@]host[:port]`
/// URL. The URL is quoted with any user info replaced by `***`.
nonisolated public struct ProxyURLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the value came from: `proxy` in the config, or the variable name.
    public let source: String
    /// The value with its user info masked.
    public let url: String
    /// What is wrong with it.
    public let reason: String

    /// `HTTPS_PROXY: invalid proxy URL "http://***@x:y": port is not a number`.
    public var description: String { "\(source): invalid proxy URL \"\(url)\": \(reason)" }
}

/// An HTTP proxy to tunnel through with CONNECT. Its description never shows
/// the credentials, and neither does any error made from it.
nonisolated public struct ProxyTarget: Equatable, Sendable, CustomStringConvertible,
    CustomReflectable
{
    /// The port assumed when the URL names none: the HTTP default.
    public static let defaultPort: UInt16 = 80

    /// The proxy's host name or IP literal (without brackets).
    public let host: String
    /// The proxy's port.
    public let port: UInt16
    /// User and password from the URL's user info, percent-decoded.
    let credentials: (user: String, password: String)?

    /// A proxy at `host:port`, with optional credentials.
    public init(host: String, port: UInt16, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        credentials = user.map { ($0, password ?? "") }
    }

    /// Parses `[http://][user[:password]@]host[:port][/]`; `source` names the
    /// setting in the error.
    public init(url text: String, source: String) throws(ProxyURLError) {
        let masked = ProxyTarget.masked(text)
        func invalid(_ reason: String) -> ProxyURLError {
            ProxyURLError(source: source, url: masked, reason: reason)
        }
        var rest = Substring(ProxyText.trimmed(text))
        if let (schemeEnd, authorityStart) = ProxyText.schemeSeparator(in: rest) {
            let scheme = rest[..<schemeEnd].lowercased()
            guard scheme == "http" else {
                throw invalid("scheme \"\(scheme)\" is not supported, only http")
            }
            rest = rest[authorityStart...]
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else { throw invalid("a proxy URL has no path") }
            rest = rest[..<slash]
        }

        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = info.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let decodedUser = ProxyText.percentDecoded(String(parts[0])),
                let decodedPassword = ProxyText.percentDecoded(
                    parts.count > 1 ? String(parts[1]) : "")
            else { throw invalid("the user info has a bad percent escape") }
            user = decodedUser
            password = decodedPassword
        }

        var hostPart = rest
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unclosed \"[\"") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("junk after \"]\"") }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw invalid("no host") }
        guard hostPart.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
            throw invalid("the host has characters a host name cannot have")
        }
        var port = ProxyTarget.defaultPort
        if let portPart {
            guard let number = UInt16(portPart), number > 0 else {
                throw invalid("port \"\(portPart)\" is not a number from 1 to 65535")
            }
            port = number
        }
        self.init(host: String(hostPart), port: port, user: user, password: password)
    }

    /// Whether the URL had user info (sent as Proxy-Authorization).
    public var hasCredentials: Bool { credentials != nil }

    /// `host:port`, IPv6 literals bracketed; never the credentials.
    public var description: String {
        NetworkAddress(literal: host)?.endpoint(port: port) ?? "\(host):\(port)"
    }

    /// A mirror without the credentials, so `dump` and debuggers cannot
    /// show them either.
    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "hasCredentials": hasCredentials])
    }

    /// The `Proxy-Authorization` value (`Basic base64(user:password)`, RFC
    /// 7617), when there are credentials.
    var authorization: String? {
        guard let credentials else { return nil }
        return "Basic " + Base64.encode(Array("\(credentials.user):\(credentials.password)".utf8))
    }

    /// Same host, port and credentials (compared, never shown).
    public static func == (a: ProxyTarget, b: ProxyTarget) -> Bool {
        a.host == b.host && a.port == b.port && a.credentials?.user == b.credentials?.user
            && a.credentials?.password == b.credentials?.password
    }

    /// `text` with the user info (anything before the last `@` of the
    /// authority) replaced by `***`, safe to show.
    static func masked(_ text: String) -> String {
        let whole = Substring(text)
        let start = ProxyText.schemeSeparator(in: whole)?.authorityStart ?? whole.startIndex
        let authorityEnd = whole[start...].firstIndex(of: "/") ?? whole.endIndex
        guard let at = whole[start..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(whole[..<start]) + "***" + String(whole[at...])
    }
}

/// Small text helpers of the proxy settings, kept out of `String`'s namespace.
nonisolated enum ProxyText {
    /// `text` with `%XX` escapes decoded; nil for a bad escape or bytes that
    /// are not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = bytes.next(), let low = bytes.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            out.append(value)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Where `://` is in `text`: its start (the scheme's end) and the index
    /// after it (the authority's start).
    static func schemeSeparator(
        in text: Substring
    ) -> (schemeEnd: Substring.Index, authorityStart: Substring.Index)? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].starts(with: "://") {
                return (index, text.index(index, offsetBy: 3))
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed(_ text: some StringProtocol) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
