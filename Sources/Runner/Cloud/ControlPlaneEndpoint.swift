/// Where the control plane listens, parsed from `control_plane.url`:
/// `wss://host[:port][/path]`, or `ws://` to a loopback address only.
nonisolated public struct ControlPlaneEndpoint: Equatable, Sendable {
    /// Whether the link is TLS (`wss`).
    public var secure: Bool
    /// Host name or IP literal, without IPv6 brackets.
    public var host: String
    /// TCP port; 443 (`wss`) or 80 (`ws`) when the URL names none.
    public var port: UInt16
    /// The request target, `/v1/runner` when the URL names no path.
    public var path: String

    /// The path a control plane serves runners on when the URL gives none.
    public static let defaultPath = "/v1/runner"

    /// Parses `url`. `allowPlaintextLoopback` is the config flag that lets a
    /// `ws://` URL through; even then its host must be a loopback address.
    /// Errors say what is wrong in one sentence, quoting the URL.
    public static func parse(_ url: String, allowPlaintextLoopback: Bool) -> Result<
        ControlPlaneEndpoint, ConfigProblem
    > {
        let secure: Bool
        let rest: Substring
        if url.hasPrefix("wss://") {
            secure = true
            rest = url.dropFirst(6)
        } else if url.hasPrefix("ws://") {
            secure = false
            rest = url.dropFirst(5)
        } else {
            return .failure(ConfigProblem("must start with wss:// (or ws:// to loopback)"))
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? defaultPath : String(rest[slash...])
        if authority.contains("@") {
            return .failure(ConfigProblem("must not carry credentials (user@host)"))
        }
        if path.contains("#") {
            return .failure(ConfigProblem("must not have a fragment (#…)"))
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(ConfigProblem("has an unclosed [ in its IPv6 address"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    return .failure(ConfigProblem("has text after its IPv6 address"))
                }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return .failure(ConfigProblem("names no host")) }
        var port: UInt16 = secure ? 443 : 80
        if let portText {
            guard let p = UInt16(portText), p > 0,
                portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
            else {
                return .failure(ConfigProblem("has an invalid port \"\(portText)\""))
            }
            port = p
        }
        let endpoint = ControlPlaneEndpoint(
            secure: secure, host: String(host), port: port, path: path)
        if !secure {
            guard allowPlaintextLoopback else {
                return .failure(
                    ConfigProblem(
                        "ws:// sends the runner key in clear text; use wss://, or set"
                            + " allow_plaintext_loopback: true for a loopback development peer"))
            }
            guard endpoint.isLoopback else {
                return .failure(
                    ConfigProblem(
                        "ws:// is allowed only to a loopback address (127.0.0.1, ::1,"
                            + " localhost), not \"\(host)\""))
            }
        }
        do {
            _ = try endpoint.upgradeRequest(headers: [])
        } catch {
            return .failure(ConfigProblem("cannot be requested: \(error)"))
        }
        return .success(endpoint)
    }

    /// Whether the host is a loopback address or `localhost`.
    public var isLoopback: Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        return NetworkAddress(literal: name)?.isLoopback ?? false
    }

    /// The URL without anything secret (it holds none), for logs.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (secure ? "wss://" : "ws://") + "\(shownHost):\(port)\(path)"
    }

    /// The upgrade request for this endpoint with `headers` added.
    public func upgradeRequest(headers: [HTTPHeader]) throws(UpgradeRequestError)
        -> UpgradeRequest
    {
        try UpgradeRequest(
            host: host, port: Int(port), path: path, secure: secure,
            subprotocols: [WireProtocol.subprotocol], headers: headers)
    }
}

/// One sentence saying what is wrong with a config value.
nonisolated public struct ConfigProblem: Error, Equatable, Sendable {
    /// The sentence, without the key's name (the caller prefixes it).
    public var message: String

    /// A problem described by `message`.
    public init(_ message: String) { self.message = message }
}
