import Testing

@testable import Runner

/// The opening handshake: the request ward writes and the response parser's
/// table of good and bad answers.
@Suite struct WebSocketUpgradeTests {
    typealias S = WebSocketTestSupport

    @Test func requestCarriesEveryHandshakeHeader() throws {
        let request = try UpgradeRequest(
            host: "example.test", port: 443, path: "/v1/link?runner=a", subprotocols: ["ward.v1"],
            headers: [HTTPHeader(name: "Authorization", value: "Bearer k-123")],
            keyBytes: S.keyBytes)
        let expected =
            "GET /v1/link?runner=a HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: \(S.key)\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: ward.v1\r\nAuthorization: Bearer k-123\r\n\r\n"
        #expect(String(decoding: request.bytes(), as: UTF8.self) == expected)
        #expect(request.expectedAccept == S.accept)
    }

    @Test(arguments: [
        ("example.test", 443, true, "example.test"),
        ("example.test", 8443, true, "example.test:8443"),
        ("example.test", 80, false, "example.test"),
        ("example.test", 443, false, "example.test:443"),
        ("::1", 9000, true, "[::1]:9000"),
    ])
    func hostHeaderNamesThePortOnlyWhenNotTheDefault(
        host: String, port: Int, secure: Bool, expected: String
    ) throws {
        let request = try UpgradeRequest(host: host, port: port, path: "/", secure: secure)
        #expect(request.hostHeader == expected)
    }

    @Test func freshKeysAreSixteenRandomBytes() throws {
        let a = try UpgradeRequest(host: "h", port: 443, path: "/")
        let b = try UpgradeRequest(host: "h", port: 443, path: "/")
        #expect(a.key.utf8.count == 24 && a.key.hasSuffix("=="))
        #expect(a.key != b.key)
    }

    @Test func acceptMatchesTheRFCExample() {
        // RFC 6455 section 1.3.
        #expect(
            WebSocketAccept.value(forKey: "dGhlIHNhbXBsZSBub25jZQ==")
                == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64MatchesTheRFC4648Vectors(input: String, expected: String) {
        #expect(Base64.encode(Array(input.utf8)) == expected)
    }

    @Test func headerValuesNeverAppearInDescriptionsOrErrors() throws {
        let secret = "Bearer sk-live-0123456789"
        let request = try UpgradeRequest(
            host: "h", port: 443, path: "/",
            headers: [HTTPHeader(name: "Authorization", value: secret)])
        #expect(!"\(request)".contains("sk-live"))
        #expect("\(request)".contains("Authorization"))

        let error = #expect(throws: UpgradeRequestError.self) {
            try UpgradeRequest(
                host: "h", port: 443, path: "/",
                headers: [HTTPHeader(name: "Authorization", value: secret + "\r\nX-Evil: 1")])
        }
        #expect(error == .invalidHeaderValue(name: "Authorization"))
        #expect(!"\(error!)".contains("sk-live"))
    }

    @Test(arguments: [
        ("", 443, "/", [HTTPHeader](), UpgradeRequestError.invalidHost("")),
        ("a b", 443, "/", [], .invalidHost("a b")),
        ("h", 0, "/", [], .invalidPort(0)),
        ("h", 443, "v1", [], .invalidPath("v1")),
        ("h", 443, "/a b", [], .invalidPath("/a b")),
        ("h", 443, "/", [HTTPHeader(name: "Bad Name", value: "x")], .invalidHeaderName("Bad Name")),
        (
            "h", 443, "/", [HTTPHeader(name: "sec-websocket-key", value: "x")],
            .reservedHeader("sec-websocket-key")
        ),
        ("h", 443, "/", [HTTPHeader(name: "Host", value: "x")], .reservedHeader("Host")),
    ])
    func refusesRequestsThatCannotBeWrittenSafely(
        host: String, port: Int, path: String, headers: [HTTPHeader], expected: UpgradeRequestError
    ) {
        #expect(throws: expected) {
            try UpgradeRequest(host: host, port: port, path: path, headers: headers)
        }
    }

    @Test func refusesAKeyThatIsNotSixteenBytes() {
        #expect(throws: UpgradeRequestError.invalidKeyLength(15)) {
            try UpgradeRequest(host: "h", port: 443, path: "/", keyBytes: Array(1...15))
        }
    }

    // MARK: Response parser

    /// A response with `status` and `headers` lines, CRLF line ends.
    static func response(_ headers: [String], status: String = "HTTP/1.1 101 Switching Protocols")
        -> [UInt8]
    {
        Array((([status] + headers).joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    nonisolated static let good = [
        "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: \(S.accept)",
    ]

    static func parse(_ bytes: [UInt8], offered: [String] = []) -> UpgradeStep {
        var parser = UpgradeResponseParser(expectedAccept: S.accept, offeredSubprotocols: offered)
        return parser.feed(bytes)
    }

    /// The error a step carries, or nil when it is not a failure.
    static func error(_ step: UpgradeStep) -> UpgradeError? {
        if case .failed(let error) = step { return error }
        return nil
    }

    @Test func acceptsAGoodResponse() {
        guard case .done(let response, let rest) = Self.parse(Self.response(Self.good)) else {
            Issue.record("not accepted")
            return
        }
        #expect(response.status == 101)
        #expect(response.reason == "Switching Protocols")
        #expect(response.values(of: "sec-websocket-accept") == [S.accept])
        #expect(rest.isEmpty)
    }

    @Test(arguments: [
        [
            "upgrade: WebSocket", "connection: keep-alive, Upgrade",
            "sec-websocket-accept: \(S.accept)",
        ],
        [
            "Upgrade:websocket", "Connection:  upgrade  ", "Sec-WebSocket-Accept:\t\(S.accept)",
            "Server: x",
        ],
        [
            "Upgrade: websocket", "Connection: keep-alive", "Connection: upgrade",
            "Sec-WebSocket-Accept: \(S.accept)",
        ],
    ])
    func acceptsTokensInAnyCaseAndSpacing(headers: [String]) {
        guard case .done = Self.parse(Self.response(headers)) else {
            Issue.record("refused \(headers)")
            return
        }
    }

    @Test func acceptsBareLineFeeds() {
        let text =
            "HTTP/1.1 101 OK\nUpgrade: websocket\nConnection: Upgrade\n"
            + "Sec-WebSocket-Accept: \(S.accept)\n\n"
        guard case .done = Self.parse(Array(text.utf8)) else {
            Issue.record("refused LF line ends")
            return
        }
    }

    @Test(arguments: [
        (
            "HTTP/1.1 200 OK", [String](),
            UpgradeError.unexpectedStatus(status: 200, reason: "OK", retryAfterSeconds: nil)
        ),
        (
            "HTTP/1.1 401 Unauthorized", ["WWW-Authenticate: Bearer"],
            .authenticationFailed(status: 401, reason: "Unauthorized")
        ),
        ("HTTP/1.1 403 Forbidden", [], .authenticationFailed(status: 403, reason: "Forbidden")),
        (
            "HTTP/1.1 503 Service Unavailable", ["Retry-After: 20"],
            .unexpectedStatus(status: 503, reason: "Service Unavailable", retryAfterSeconds: 20)
        ),
        (
            "HTTP/1.1 429 Too Many Requests", ["retry-after: 5"],
            .unexpectedStatus(status: 429, reason: "Too Many Requests", retryAfterSeconds: 5)
        ),
        (
            "HTTP/1.1 503 Busy", ["Retry-After: Wed, 21 Oct 2026 07:28:00 GMT"],
            .unexpectedStatus(status: 503, reason: "Busy", retryAfterSeconds: nil)
        ),
        (
            "HTTP/1.1 500 Oops", ["Retry-After: 20"],
            .unexpectedStatus(status: 500, reason: "Oops", retryAfterSeconds: nil)
        ),
        ("HTTP/1.1 101", ["Upgrade: websocket", "Connection: Upgrade"], .missingAccept),
        ("HTTP/1.0 101 Switching", Self.good, .unsupportedVersion("HTTP/1.0")),
        (
            "HTTP/1.1 101 OK", ["Connection: Upgrade", "Sec-WebSocket-Accept: \(S.accept)"],
            .missingUpgrade(nil)
        ),
        (
            "HTTP/1.1 101 OK",
            ["Upgrade: h2c", "Connection: Upgrade", "Sec-WebSocket-Accept: \(S.accept)"],
            .missingUpgrade("h2c")
        ),
        (
            "HTTP/1.1 101 OK",
            ["Upgrade: websocket", "Connection: keep-alive", "Sec-WebSocket-Accept: \(S.accept)"],
            .missingConnectionUpgrade("keep-alive")
        ),
        (
            "HTTP/1.1 101 OK", ["Upgrade: websocket", "Sec-WebSocket-Accept: \(S.accept)"],
            .missingConnectionUpgrade(nil)
        ),
        (
            "HTTP/1.1 101 OK",
            ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: AAAA"],
            .wrongAccept("AAAA")
        ),
        ("HTTP/1.1 101 OK", Self.good + ["Sec-WebSocket-Accept: \(S.accept)"], .missingAccept),
        (
            "HTTP/1.1 101 OK", Self.good + ["Sec-WebSocket-Extensions: permessage-deflate"],
            .unrequestedExtension("permessage-deflate")
        ),
        (
            "HTTP/1.1 101 OK", Self.good + ["Sec-WebSocket-Protocol: chat"],
            .unrequestedSubprotocol("chat")
        ),
        ("HTTP/1.1 1O1 OK", Self.good, .malformedStatusLine("HTTP/1.1 1O1 OK")),
        ("HTTP/2 101 OK", Self.good, .malformedStatusLine("HTTP/2 101 OK")),
        ("HTTP/1.1 101OK", Self.good, .malformedStatusLine("HTTP/1.1 101OK")),
        ("HTTP/1.1 101 OK", Self.good + ["NoColonHere"], .malformedHeader("NoColonHere")),
        ("HTTP/1.1 101 OK", Self.good + [" folded: x"], .malformedHeader(" folded: x")),
        ("HTTP/1.1 101 OK", Self.good + ["Bad Name: x"], .malformedHeader("Bad Name: x")),
        ("HTTP/1.1 101 OK", Self.good + [": empty"], .malformedHeader(": empty")),
        ("HTTP/1.1 101 OK", Self.good + ["X: a\rb"], .malformedHeader("X: a\r")),
    ])
    func refusesBadResponses(status: String, headers: [String], expected: UpgradeError) {
        #expect(Self.error(Self.parse(Self.response(headers, status: status))) == expected)
    }

    @Test func acceptsAnOfferedSubprotocol() {
        let step = Self.parse(
            Self.response(Self.good + ["Sec-WebSocket-Protocol: Ward.v1"]), offered: ["ward.v1"])
        guard case .done(let response, _) = step else {
            Issue.record("refused an offered subprotocol")
            return
        }
        #expect(response.subprotocol == "Ward.v1")
    }

    @Test func statusLineLimitIsExactlyOneKibibyte() {
        let prefix = "HTTP/1.1 101 "
        let fits =
            prefix
            + String(repeating: "x", count: UpgradeResponseParser.maxStatusLineBytes - prefix.count)
        guard case .done = Self.parse(Self.response(Self.good, status: fits)) else {
            Issue.record("refused a 1024-byte status line")
            return
        }
        #expect(
            Self.error(Self.parse(Self.response(Self.good, status: fits + "x")))
                == .statusLineTooLong)
    }

    @Test func headerCountLimitIsExactlySixtyFour() {
        let filler = (0..<(UpgradeResponseParser.maxHeaderCount - Self.good.count)).map {
            "X-\($0): y"
        }
        guard case .done = Self.parse(Self.response(Self.good + filler)) else {
            Issue.record("refused 64 headers")
            return
        }
        #expect(
            Self.error(Self.parse(Self.response(Self.good + filler + ["X-last: y"])))
                == .tooManyHeaders)
    }

    @Test func headerBlockOverEightKibibytesIsRefusedBeforeItEnds() {
        var parser = UpgradeResponseParser(expectedAccept: S.accept)
        let start = Array("HTTP/1.1 101 OK\r\nX-Big: ".utf8)
        // An endless header: the parser must stop at the limit, not wait.
        let step = parser.feed(start + [UInt8](repeating: UInt8(ascii: "a"), count: 9000))
        #expect(Self.error(step) == .headerBlockTooLarge)
    }

    @Test func bytesAfterTheHeaderBlockAreKept() {
        let frame = S.text("hello")
        guard case .done(_, let rest) = Self.parse(Self.response(Self.good) + frame) else {
            Issue.record("not accepted")
            return
        }
        #expect(rest == frame)
    }

    @Test func sameResultWhenSplitAtEveryByte() {
        let frame = S.text("after")
        let whole = Self.response(Self.good) + frame
        for split in 0...whole.count {
            var parser = UpgradeResponseParser(expectedAccept: S.accept)
            var trailing: [UInt8]?
            for part in [Array(whole[..<split]), Array(whole[split...])] {
                if trailing != nil {
                    trailing! += part
                    continue
                }
                switch parser.feed(part) {
                case .needMore: continue
                case .done(_, let rest): trailing = rest
                case .failed(let error): Issue.record("split \(split): \(error)")
                }
            }
            #expect(trailing == frame, "split at \(split)")
        }
    }

    @Test func sameErrorWhenFedOneByteAtATime() {
        let bytes = Self.response([], status: "HTTP/1.1 401 Unauthorized")
        var parser = UpgradeResponseParser(expectedAccept: S.accept)
        var result: UpgradeStep = .needMore
        for byte in bytes where result == .needMore {
            result = parser.feed([byte])
        }
        #expect(Self.error(result) == .authenticationFailed(status: 401, reason: "Unauthorized"))
    }

    @Test func errorsQuoteServerTextWithControlsEscaped() {
        let error = UpgradeError.malformedHeader("X: a\u{1b}[31m")
        #expect("\(error)".contains("\\u{1b}"))
        #expect(!"\(error)".contains("\u{1b}"))
    }

    // MARK: Through the client

    @Test func clientDeliversAFrameThatArrivedWithTheResponse() throws {
        let loop = try EventLoop()
        let transport = MemoryTransport()
        let recorder = WebSocketRecorder()
        let client = WebSocketClient(
            transport: transport, request: S.request(), loop: loop,
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: nil))
        client.delegate = recorder
        client.start()
        #expect(transport.writes == [S.request().bytes()])
        client.receive(S.switchingProtocols + S.text("first"))
        #expect(recorder.opened.count == 1)
        #expect(recorder.texts == ["first"])
        client.close()
        client.receive(S.close(1000))
        #expect(recorder.ends == [.clientClosed(code: 1000, serverCode: 1000, answered: true)])
        LoopTests.closeClean(loop)
    }

    @Test func clientReportsRefusedCredentialsAndClosesTheTransport() throws {
        let loop = try EventLoop()
        let transport = MemoryTransport()
        let recorder = WebSocketRecorder()
        let request = try UpgradeRequest(
            host: "h", port: 443, path: "/",
            headers: [HTTPHeader(name: "Authorization", value: "Bearer sk-live-999")])
        let client = WebSocketClient(transport: transport, request: request, loop: loop)
        client.delegate = recorder
        client.start()
        client.receive(Array("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(
            recorder.ends == [
                .handshakeFailed(.authenticationFailed(status: 401, reason: "Unauthorized"))
            ])
        #expect(recorder.ends.first?.backoffHint == .credentialsRejected)
        #expect(!"\(recorder.ends)".contains("sk-live"))
        #expect(transport.closeCount == 1)
        LoopTests.closeClean(loop)
    }

    @Test func handshakeWithoutAnAnswerTimesOut() throws {
        let loop = try EventLoop()
        let transport = MemoryTransport()
        let recorder = WebSocketRecorder()
        let client = WebSocketClient(
            transport: transport, request: S.request(), loop: loop,
            configuration: WebSocketConfiguration(handshakeTimeoutMilliseconds: 5))
        client.delegate = recorder
        client.start()
        loop.run()
        #expect(recorder.ends == [.handshakeFailed(.timedOut)])
        #expect(transport.closeCount == 1)
        LoopTests.closeClean(loop)
    }

    @Test func transportEndingMidResponseIsAHandshakeFailure() throws {
        let loop = try EventLoop()
        let recorder = WebSocketRecorder()
        let client = WebSocketClient(transport: MemoryTransport(), request: S.request(), loop: loop)
        client.delegate = recorder
        client.start()
        client.receive(Array("HTTP/1.1 101 Switching".utf8))
        client.transportEnded("peer closed")
        #expect(recorder.ends == [.handshakeFailed(.connectionClosed("peer closed"))])
        LoopTests.closeClean(loop)
    }
}
