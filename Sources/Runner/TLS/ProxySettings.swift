/// Which HTTP proxy, if any, a TLS connection to a given host goes through:
/// the configured proxy, or the `https_proxy` convention, minus the hosts
/// `no_proxy` exempts. Loopback targets never use a proxy: a plain
/// connection to a local test server must not leave the machine.
nonisolated public struct ProxySettings: Equatable, Sendable {
    /// The proxy to use when the host is not exempt.
    public let proxy: ProxyTarget?
    /// Hosts that connect directly.
    public let bypass: NoProxyList

    /// Settings with `proxy` for every host `bypass` does not exempt.
    public init(proxy: ProxyTarget?, bypass: NoProxyList = NoProxyList("")) {
        self.proxy = proxy
        self.bypass = bypass
    }

    /// The settings in effect. `configProxy` (the config's `proxy` value)
    /// wins; an empty one means "no proxy" whatever the environment says.
    /// Without it, `https_proxy` then `HTTPS_PROXY` (curl's order), where an
    /// empty value counts as unset. `no_proxy` then `NO_PROXY` list the
    /// exempt hosts, for either source. Throws for a malformed proxy URL; the
    /// error masks any credentials.
    public static func resolve(
        configProxy: String?, environment: [String: String]
    ) throws(ProxyURLError) -> ProxySettings {
        let bypass = NoProxyList(firstSet(["no_proxy", "NO_PROXY"], in: environment)?.value ?? "")
        if let configProxy {
            if ProxyText.trimmed(configProxy).isEmpty {
                return ProxySettings(proxy: nil, bypass: bypass)
            }
            return ProxySettings(
                proxy: try ProxyTarget(url: configProxy, source: "proxy"), bypass: bypass)
        }
        guard let (name, value) = firstSet(["https_proxy", "HTTPS_PROXY"], in: environment) else {
            return ProxySettings(proxy: nil, bypass: bypass)
        }
        return ProxySettings(proxy: try ProxyTarget(url: value, source: name), bypass: bypass)
    }

    /// The proxy for a connection to `host:port`, or nil to connect directly.
    public func proxy(forHost host: String, port: UInt16) -> ProxyTarget? {
        guard let proxy else { return nil }
        let name = NoProxyList.normalized(host)
        if name == "localhost" || name.hasSuffix(".localhost") {
            return nil  // RFC 6761: always the loopback interface.
        }
        if let address = NetworkAddress(literal: name), address.isLoopback { return nil }
        return bypass.matches(host: host, port: port) ? nil : proxy
    }

    /// The first of `names` set to a non-empty value.
    private static func firstSet(
        _ names: [String], in environment: [String: String]
    ) -> (name: String, value: String)? {
        for name in names {
            if let value = environment[name], !ProxyText.trimmed(value).isEmpty {
                return (name, value)
            }
        }
        return nil
    }
}

/// A `no_proxy` list: comma-separated entries, each `*` (every host), a
/// domain (`example.com`, `.example.com` and `*.example.com` all match the
/// domain and every name under it), an IP literal (`10.1.2.3`, `::1`,
/// `[::1]`) or a CIDR range (`10.0.0.0/8`), each optionally with `:port`.
/// Matching ignores case and a trailing dot; unparsable entries are skipped.
nonisolated public struct NoProxyList: Equatable, Sendable {
    /// One parsed entry.
    enum Rule: Equatable, Sendable {
        /// `*`: every host.
        case everything
        /// A domain and everything under it.
        case domain(String, port: UInt16?)
        /// IP addresses whose first `prefix` bits equal `address`'s.
        case network(NetworkAddress, prefix: Int, port: UInt16?)
    }

    /// The entries, in order.
    let rules: [Rule]

    /// Parses `text`, e.g. `localhost,.corp.example,10.0.0.0/8,[::1]:8443`.
    public init(_ text: String) {
        rules = text.split(separator: ",").compactMap { NoProxyList.rule(String($0)) }
    }

    /// Whether a connection to `host:port` skips the proxy.
    public func matches(host: String, port: UInt16) -> Bool {
        let name = NoProxyList.normalized(host)
        let address = NetworkAddress(literal: name)
        return rules.contains { rule in
            switch rule {
            case .everything:
                return true
            case .domain(let domain, let rulePort):
                guard address == nil, rulePort == nil || rulePort == port else { return false }
                return name == domain || name.hasSuffix("." + domain)
            case .network(let network, let prefix, let rulePort):
                guard let address, rulePort == nil || rulePort == port else { return false }
                return NoProxyList.address(address, isIn: network, prefix: prefix)
            }
        }
    }

    /// `host` lowercased, without brackets or a trailing dot.
    static func normalized(_ host: String) -> String {
        var name = ProxyText.trimmed(host).lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// Parses one entry; nil for an empty or unusable one.
    static func rule(_ entry: String) -> Rule? {
        var text = ProxyText.trimmed(entry).lowercased()
        if text == "*" { return .everything }
        var port: UInt16?

        // Split off a port: `[v6]:p`, or `name:p` / `v4:p` (one colon only,
        // since a bare IPv6 literal has several).
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let number = UInt16(after.dropFirst()) else { return nil }
                port = number
            } else if !after.isEmpty {
                return nil
            }
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard let number = UInt16(text[text.index(after: colon)...]) else { return nil }
            port = number
            text = String(text[..<colon])
        }

        if let slash = text.firstIndex(of: "/") {
            guard let network = NetworkAddress(literal: String(text[..<slash])),
                let prefix = Int(text[text.index(after: slash)...]),
                prefix >= 0, prefix <= network.bytes.count * 8
            else { return nil }
            return .network(network, prefix: prefix, port: port)
        }
        if let address = NetworkAddress(literal: text) {
            return .network(address, prefix: address.bytes.count * 8, port: port)
        }
        if text.hasPrefix("*.") { text.removeFirst(2) }
        while text.hasPrefix(".") { text.removeFirst() }
        if text.hasSuffix(".") { text.removeLast() }
        return text.isEmpty ? nil : .domain(text, port: port)
    }

    /// Whether the first `prefix` bits of `address` equal `network`'s.
    static func address(_ address: NetworkAddress, isIn network: NetworkAddress, prefix: Int)
        -> Bool
    {
        guard address.family == network.family else { return false }
        for bit in 0..<prefix {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if address.bytes[bit / 8] & mask != network.bytes[bit / 8] & mask { return false }
        }
        return true
    }
}
