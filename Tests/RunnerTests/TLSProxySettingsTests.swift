import Testing

@testable import Runner

/// Choosing a proxy: config against environment, proxy URLs, and no_proxy.
@Suite struct TLSProxySettingsTests {
    /// One no_proxy list, a host and port, and whether it bypasses the proxy.
    struct BypassCase: Sendable, CustomStringConvertible {
        let list: String
        let host: String
        let port: UInt16
        let bypass: Bool
        var description: String { "\(list) vs \(host):\(port)" }
    }

    nonisolated static let bypassCases: [BypassCase] = [
        BypassCase(list: "", host: "api.example.com", port: 443, bypass: false),
        BypassCase(list: "*", host: "api.example.com", port: 443, bypass: true),
        BypassCase(list: " * ", host: "10.0.0.1", port: 443, bypass: true),
        // Exact host, case and a trailing dot ignored.
        BypassCase(list: "api.example.com", host: "API.Example.com.", port: 443, bypass: true),
        BypassCase(list: "api.example.com", host: "example.com", port: 443, bypass: false),
        // `suffix` and `.suffix` both match the domain and names under it.
        BypassCase(list: "example.com", host: "api.example.com", port: 443, bypass: true),
        BypassCase(list: "example.com", host: "example.com", port: 443, bypass: true),
        BypassCase(list: ".example.com", host: "api.example.com", port: 443, bypass: true),
        BypassCase(list: ".example.com", host: "example.com", port: 443, bypass: true),
        BypassCase(list: "*.example.com", host: "a.b.example.com", port: 443, bypass: true),
        // A suffix matches whole labels only.
        BypassCase(list: "example.com", host: "badexample.com", port: 443, bypass: false),
        BypassCase(list: "example.com", host: "example.com.evil.test", port: 443, bypass: false),
        // Lists: commas, spaces, empty entries.
        BypassCase(list: "a.test, ,b.test,,c.test", host: "b.test", port: 443, bypass: true),
        BypassCase(list: "a.test,b.test", host: "d.test", port: 443, bypass: false),
        // Ports.
        BypassCase(list: "example.com:443", host: "example.com", port: 443, bypass: true),
        BypassCase(list: "example.com:443", host: "example.com", port: 8443, bypass: false),
        // IP literals, exact and as ranges; names never match address rules.
        BypassCase(list: "10.1.2.3", host: "10.1.2.3", port: 443, bypass: true),
        BypassCase(list: "10.1.2.3", host: "10.1.2.4", port: 443, bypass: false),
        BypassCase(list: "10.1.2.3:8443", host: "10.1.2.3", port: 443, bypass: false),
        BypassCase(list: "10.0.0.0/8", host: "10.200.3.4", port: 443, bypass: true),
        BypassCase(list: "10.0.0.0/8", host: "11.0.0.1", port: 443, bypass: false),
        BypassCase(list: "2001:db8::1", host: "2001:db8:0::1", port: 443, bypass: true),
        BypassCase(list: "[2001:db8::1]", host: "[2001:db8::1]", port: 443, bypass: true),
        BypassCase(list: "[2001:db8::1]:443", host: "2001:db8::1", port: 443, bypass: true),
        BypassCase(list: "[2001:db8::1]:443", host: "2001:db8::1", port: 80, bypass: false),
        BypassCase(list: "2001:db8::/32", host: "2001:db8:ffff::9", port: 443, bypass: true),
        BypassCase(list: "3.4", host: "1.2.3.4", port: 443, bypass: false),
        // Unparsable entries are skipped, not fatal.
        BypassCase(list: "10.0.0.0/99,ok.test", host: "ok.test", port: 443, bypass: true),
        BypassCase(list: "host:notaport", host: "host", port: 443, bypass: false),
    ]

    @Test(arguments: bypassCases)
    func noProxyListMatches(_ check: BypassCase) {
        #expect(NoProxyList(check.list).matches(host: check.host, port: check.port) == check.bypass)
    }

    /// One config value and environment, and the proxy chosen for a host.
    struct ResolveCase: Sendable, CustomStringConvertible {
        let config: String?
        let environment: [String: String]
        let host: String
        let proxy: String?
        var description: String { "\(config ?? "nil") \(environment) \(host)" }
    }

    nonisolated static let resolveCases: [ResolveCase] = [
        ResolveCase(config: nil, environment: [:], host: "cp.example", proxy: nil),
        ResolveCase(
            config: nil, environment: ["HTTPS_PROXY": "http://env:3128"], host: "cp.example",
            proxy: "env:3128"),
        ResolveCase(
            config: nil, environment: ["https_proxy": "lower:1", "HTTPS_PROXY": "upper:2"],
            host: "cp.example", proxy: "lower:1"),
        ResolveCase(
            config: nil, environment: ["https_proxy": "", "HTTPS_PROXY": "upper:2"],
            host: "cp.example", proxy: "upper:2"),
        // Only the https variables count: the stream is TLS.
        ResolveCase(
            config: nil, environment: ["HTTP_PROXY": "http://plain:80"], host: "cp.example",
            proxy: nil),
        ResolveCase(
            config: "http://config:8080", environment: ["HTTPS_PROXY": "env:3128"],
            host: "cp.example", proxy: "config:8080"),
        ResolveCase(
            config: "", environment: ["HTTPS_PROXY": "env:3128"], host: "cp.example", proxy: nil),
        ResolveCase(
            config: "config:8080", environment: ["NO_PROXY": ".example"], host: "cp.example",
            proxy: nil),
        ResolveCase(
            config: nil,
            environment: ["HTTPS_PROXY": "env:3128", "no_proxy": "cp.example", "NO_PROXY": "*"],
            host: "other.example", proxy: "env:3128"),
        // Loopback never goes through a proxy.
        ResolveCase(
            config: "config:8080", environment: [:], host: "localhost", proxy: nil),
        ResolveCase(
            config: "config:8080", environment: [:], host: "127.0.0.9", proxy: nil),
        ResolveCase(config: "config:8080", environment: [:], host: "[::1]", proxy: nil),
        ResolveCase(config: "config:8080", environment: [:], host: "a.localhost", proxy: nil),
    ]

    @Test(arguments: resolveCases)
    func resolvesTheProxyForAHost(_ check: ResolveCase) throws {
        let settings = try ProxySettings.resolve(
            configProxy: check.config, environment: check.environment)
        #expect(settings.proxy(forHost: check.host, port: 443)?.description == check.proxy)
    }

    /// A proxy URL and what it parses to (`host:port` and whether it has
    /// credentials), or the reason it is refused.
    @Test(arguments: [
        ("http://proxy.corp:3128", "proxy.corp:3128", false),
        ("HTTP://proxy.corp:3128/", "proxy.corp:3128", false),
        ("proxy.corp", "proxy.corp:80", false),
        ("  http://10.0.0.5:8080  ", "10.0.0.5:8080", false),
        ("http://[2001:db8::5]:8080", "[2001:db8::5]:8080", false),
        ("http://user:pa%40ss@proxy.corp:3128", "proxy.corp:3128", true),
        ("http://user@proxy.corp:3128", "proxy.corp:3128", true),
    ])
    func parsesProxyURLs(url: String, endpoint: String, credentials: Bool) throws {
        let proxy = try ProxyTarget(url: url, source: "test")
        #expect(proxy.description == endpoint)
        #expect(proxy.hasCredentials == credentials)
    }

    @Test func decodesPercentEscapedCredentials() throws {
        let proxy = try ProxyTarget(url: "http://us%3Aer:pa%40ss@proxy:1", source: "test")
        #expect(proxy.authorization == "Basic " + Base64.encode(Array("us:er:pa@ss".utf8)))
    }

    @Test(arguments: [
        ("https://proxy:443", "scheme \"https\" is not supported, only http"),
        ("socks5://proxy:1080", "scheme \"socks5\" is not supported, only http"),
        ("http://proxy:0", "port \"0\" is not a number from 1 to 65535"),
        ("http://proxy:99999", "port \"99999\" is not a number from 1 to 65535"),
        ("http://proxy:3128/path", "a proxy URL has no path"),
        ("http://:3128", "no host"),
        ("http://pro xy:3128", "the host has characters a host name cannot have"),
        ("http://[::1:3128", "unclosed \"[\""),
        ("http://u:p%zz@proxy:1", "the user info has a bad percent escape"),
    ])
    func refusesBadProxyURLs(url: String, reason: String) {
        #expect(
            throws: ProxyURLError(
                source: "HTTPS_PROXY", url: ProxyTarget.masked(url), reason: reason)
        ) {
            try ProxyTarget(url: url, source: "HTTPS_PROXY")
        }
    }

    @Test func errorsNeverShowTheCredentials() {
        let url = "http://ward:s3cr3t-token@proxy:notaport"
        do {
            _ = try ProxySettings.resolve(configProxy: nil, environment: ["HTTPS_PROXY": url])
            Issue.record("a bad port was accepted")
        } catch {
            #expect(!error.description.contains("s3cr3t"))
            #expect(!error.description.contains("ward:"))
            #expect(
                error.description.hasPrefix(
                    "HTTPS_PROXY: invalid proxy URL \"http://***@proxy:notaport\""))
        }
    }

    @Test func descriptionNeverShowsTheCredentials() throws {
        let proxy = try ProxyTarget(url: "http://ward:s3cr3t@proxy:3128", source: "proxy")
        #expect("\(proxy)" == "proxy:3128")
        #expect(!String(reflecting: ProxySettings(proxy: proxy)).contains("s3cr3t"))
        var dumped = ""
        dump(proxy, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
    }
}
