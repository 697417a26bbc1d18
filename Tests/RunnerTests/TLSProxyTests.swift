import Testing

@testable import Runner

/// SecureStream through a real HTTP CONNECT proxy (peer.py, asyncio), and
/// the CONNECT request and response parser on their own.
@Suite struct TLSProxyTests {
    /// The proxy at `port` on loopback, optionally with credentials.
    static func proxy(_ port: UInt16, user: String? = nil, password: String? = nil) -> ProxyTarget {
        ProxyTarget(host: "127.0.0.1", port: port, user: user, password: password)
    }

    /// `user:p@ss:word` in base64, as the proxy must receive it.
    static let credentials = Base64.encode(Array("ward:p@ss:word".utf8))

    @Test func tunnelsTLSThroughTheProxyAndVerifiesTheTarget() throws {
        let target = TLSStreamTests.tlsPeer("tls-echo")
        let proxy = Peer(["proxy", "--auth", Self.credentials])
        let seen = try TLSStreamTests.run(
            host: "localhost", port: target.port, tls: TLSStreamTests.testCA(),
            proxy: Self.proxy(proxy.port, user: "ward", password: "p@ss:word")
        ) { stream, seen in
            stream.write(Array("through the tunnel".utf8))
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "through the tunnel")
        #expect(target.finish().contains("unwrap ok"))
        let events = proxy.finish()
        #expect(events.contains("request CONNECT localhost:\(target.port) HTTP/1.1"))
        #expect(events.contains("host localhost:\(target.port)"))
        #expect(events.contains("auth ok"))
    }

    @Test func tunnelStillChecksTheTargetsName() throws {
        let target = TLSStreamTests.tlsPeer("tls-echo", cert: "other")
        let proxy = Peer(["proxy"])
        let seen = try TLSStreamTests.run(
            host: "localhost", port: target.port, tls: TLSStreamTests.testCA(),
            proxy: Self.proxy(proxy.port))
        guard case .tls(_, _, let error) = TLSStreamTests.openError(seen) else {
            Issue.record("expected a TLS refusal, got \(String(describing: seen.opened))")
            return
        }
        #expect(error.description.contains("hostname mismatch: expected \"localhost\""))
        _ = target.finish()
        _ = proxy.finish()
    }

    @Test(
        arguments: [
            (nil, "requires credentials"), ("wrong", "rejected the credentials"),
        ] as [(String?, String)])
    func proxyAsking407GivesAClearError(password: String?, wording: String) throws {
        let proxy = Peer(["proxy", "--auth", Self.credentials])
        let seen = try TLSStreamTests.run(
            host: "localhost", port: 443, tls: TLSStreamTests.testCA(),
            proxy: Self.proxy(proxy.port, user: password.map { _ in "ward" }, password: password))
        guard case .proxy(let error) = TLSStreamTests.openError(seen) else {
            Issue.record("expected a proxy error, got \(String(describing: seen.opened))")
            return
        }
        #expect(error.kind == .authenticationRequired(sentCredentials: password != nil))
        #expect(error.description.hasPrefix("proxy 127.0.0.1:\(proxy.port) refused CONNECT to "))
        #expect(error.description.contains(wording))
        #expect(!error.description.contains("wrong"))
        _ = proxy.finish()
    }

    @Test func proxyRefusalQuotesItsStatus() throws {
        let proxy = Peer(["proxy", "--status", "403"])
        let seen = try TLSStreamTests.run(
            host: "example.test", port: 443, tls: TLSStreamTests.testCA(),
            proxy: Self.proxy(proxy.port))
        #expect(
            TLSStreamTests.openError(seen).map { "\($0)" }
                == "proxy 127.0.0.1:\(proxy.port) refused CONNECT to example.test:443: "
                + "403 Refused By Test")
        _ = proxy.finish()
    }

    @Test func bytesAfterTheProxyAnswerAreTheTunnelsFirst() throws {
        // The proxy sends the target's greeting in the same write as its 200.
        let target = Peer(["greeter"])
        let proxy = Peer(["proxy", "--combine"])
        let greeting = "hello from target\n"
        let seen = try TLSStreamTests.run(
            host: "127.0.0.1", port: target.port, tls: nil, proxy: Self.proxy(proxy.port)
        ) { stream, seen in
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                if seen.value.bytes.count >= greeting.utf8.count { stream.close() }
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == greeting)
        _ = target.finish()
        _ = proxy.finish()
    }

    // MARK: The exchange on its own

    @Test func requestNamesTheTargetAndCarriesBasicCredentials() {
        let proxy = ProxyTarget(host: "proxy", port: 3128, user: "ward", password: "p@ss:word")
        let text = String(
            decoding: HTTPConnectProxy.request(host: "::1", port: 8443, proxy: proxy),
            as: UTF8.self)
        #expect(
            text
                == "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
                + "Proxy-Authorization: Basic \(Self.credentials)\r\n\r\n")
        #expect("\(proxy)" == "proxy:3128")
    }

    /// Feeds `response` split into pieces of `piece` bytes.
    static func parse(_ response: [UInt8], piece: Int) throws -> HTTPConnectProxy.Step {
        var parser = HTTPConnectProxy.ResponseParser(sentCredentials: false)
        var offset = 0
        while offset < response.count {
            let end = min(offset + piece, response.count)
            let step = try Array(response[offset..<end]).withUnsafeBytes { try parser.feed($0) }
            if case .established(let leftover) = step {
                return .established(leftover: leftover + response[end...])
            }
            offset = end
        }
        return .needMore
    }

    @Test(arguments: [1, 2, 7, 1000])
    func keepsBytesAfterTheBlankLineInAnySplit(piece: Int) throws {
        let response = Array("HTTP/1.1 200 OK\r\nVia: test\r\n\r\nTLS bytes".utf8)
        #expect(
            try Self.parse(response, piece: piece)
                == .established(leftover: Array("TLS bytes".utf8)))
    }

    @Test func acceptsBareLineFeeds() throws {
        let response = Array("HTTP/1.0 200 Connection established\n\n".utf8)
        #expect(try Self.parse(response, piece: 100) == .established(leftover: []))
    }

    @Test func waitsForTheBlankLine() throws {
        let response = Array("HTTP/1.1 200 OK\r\nVia: test\r\n".utf8)
        #expect(try Self.parse(response, piece: 100) == .needMore)
    }

    /// A response the parser must refuse, and how.
    @Test(arguments: [
        (
            "HTTP/1.1 502 Bad Gateway\r\n\r\n",
            ProxyError.Kind.refused(status: 502, reason: "Bad Gateway")
        ),
        ("HTTP/1.1 407 Auth\r\n\r\n", .authenticationRequired(sentCredentials: false)),
        ("SSH-2.0-OpenSSH\r\n", .malformed("status line \"SSH-2.0-OpenSSH\"")),
        ("HTTP/1.1 20 OK\r\n", .malformed("status line \"HTTP/1.1 20 OK\"")),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n", .malformed("header line without a name")),
        ("HTTP/1.1 403 \u{1B}[31mred\r\n", .refused(status: 403, reason: "?[31mred")),
    ])
    func refusesWhatIsNotASuccessfulAnswer(response: String, kind: ProxyError.Kind) {
        #expect(throws: kind) { try Self.parse(Array(response.utf8), piece: 3) }
    }

    @Test func refusesAHeadPastTheLimit() {
        let filler = String(repeating: "X-Filler: 0123456789\r\n", count: 400)
        let response = Array("HTTP/1.1 200 OK\r\n\(filler)\r\n".utf8)
        #expect(
            throws: ProxyError.Kind.responseTooLarge(limit: HTTPConnectProxy.maximumResponseHead)
        ) {
            try Self.parse(response, piece: 512)
        }
    }
}
