import Glibc
import Testing

@testable import Runner

/// A frame ward must put on the wire, as the conformance server reports it.
nonisolated enum ExpectedFrame: Equatable, Sendable, CustomStringConvertible {
    /// A pong echoing this payload.
    case pong([UInt8])
    /// A close with this code (nil: none) and reason.
    case close(UInt16?, reason: String = "")

    /// The frame from one `client_frames` entry of the server's report.
    init?(reported: JSONValue) {
        let hex = Array((reported["payload_hex"]?.stringValue ?? "").utf8)
        let payload = stride(from: 0, to: hex.count - 1, by: 2).compactMap {
            UInt8(String(decoding: hex[$0...($0 + 1)], as: UTF8.self), radix: 16)
        }
        switch reported["opcode"]?.intValue {
        case 0xA: self = .pong(payload)
        case 0x8:
            self = .close(
                reported["close_code"]?.intValue.map { UInt16($0) },
                reason: reported["close_reason"]?.stringValue ?? "")
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .pong(let payload): "pong(\(payload.count) bytes)"
        case .close(let code, let reason): "close(\(code.map(String.init) ?? "none"), \(reason))"
        }
    }
}

/// One row of the conformance table: the server's case and ward's reaction.
nonisolated struct ConformanceCase: Sendable, CustomTestStringConvertible {
    /// The case name, as in `GET /case/<name>`.
    let name: String
    /// Text messages the client must deliver, in order.
    var texts: [String] = []
    /// How the client must report the end.
    let end: WebSocketEnd
    /// Pongs and closes the client must send, in order (texts aside).
    let wire: [ExpectedFrame]
    /// The reason of the close the test starts right after its `hello`; nil
    /// when the server's case ends the connection.
    var clientCloses: String?
    /// Writes the server must have skipped because the client failed first.
    var unsent: Int64 = 0

    var testDescription: String { name }

    /// The server's data arrive whole, then its closing `case done`.
    static func delivered(
        _ name: String, _ texts: [String], pongs: [[UInt8]] = []
    ) -> ConformanceCase {
        ConformanceCase(
            name: name, texts: texts, end: .serverClosed(code: 1000, reason: "case done"),
            wire: pongs.map { .pong($0) } + [.close(1000)])
    }

    /// ward fails the connection with `code`, naming `detail`.
    static func fails(
        _ name: String, _ code: UInt16, _ detail: String, unsent: Int64 = 0
    ) -> ConformanceCase {
        ConformanceCase(
            name: name, end: .protocolViolation(code: code, detail: detail),
            wire: [.close(code)], unsent: unsent)
    }

    /// The server closes with `code`; ward echoes it.
    static func echoes(_ name: String, _ code: UInt16?) -> ConformanceCase {
        ConformanceCase(
            name: name, end: .serverClosed(code: code, reason: ""), wire: [.close(code)])
    }
}

/// Case 13, 14 and 15 end to end: ward's `WebSocketClient` over `SecureStream`
/// (TCP and TLS, verified against the test CA) against
/// `Fixtures/websocket/conformance_server.py`, which crafts every frame by
/// hand and reports what the client put on the wire. Each test checks both
/// sides: what ward reported, and what the server saw.
@Suite(.serialized) struct WebSocketConformanceTests {
    typealias C = ConformanceCase
    /// What ward reports for text that is not UTF-8 (wslay's 1007).
    nonisolated static let text = "text message is not UTF-8"
    /// What ward reports for a frame with an RSV bit set.
    nonisolated static let reserved = "reserved bits set"
    /// The run request of case `utf8-run-request-split`.
    nonisolated static let run = WebSocketConformanceServer.runRequest

    /// Every case the server has, and ward's reaction to it; the table in
    /// docs/websocket-conformance.md follows this one.
    nonisolated static let cases: [ConformanceCase] =
        [
            // Case 13: fragments, control frames between them.
            .delivered("fragmented-text", ["Hello, world"]),
            .delivered("ping-between-fragments", ["abcd"], pongs: [[]]),
            .delivered("pong-and-ping-between-fragments", ["ab"], pongs: [Array("pin".utf8)]),
            .delivered("ping-payload-125", [], pongs: [Array(digits(125).utf8)]),
            .fails("fragmented-ping", 1002, "fragmented control frame"),
            .fails("continuation-without-start", 1002, "continuation frame with no message open"),
            .fails("text-inside-fragmented", 1002, "new message inside a fragmented one"),
            .fails("control-payload-126", 1002, "control frame payload over 125 bytes"),
            // Case 14: masks, reserved bits and opcodes; binary.
            .fails("masked-text", 1002, "masked frame from the server"),
            .fails("masked-close", 1002, "masked frame from the server"),
            .fails("rsv1", 1002, reserved), .fails("rsv2", 1002, reserved),
            .fails("rsv3", 1002, reserved),
        ]
        + [3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map {
            C.fails("opcode-\($0)", 1002, "unknown opcode \($0)")
        }
        + [
            .fails("binary", 1003, "binary message"),
            // Case 14: the close handshake.
            .echoes("close-1000", 1000), .echoes("close-1001", 1001),
            .echoes("close-3000", 3000), .echoes("close-4999", 4999),
            .echoes("close-empty", nil),
        ]
        + [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000].map {
            C.fails("close-bad-\($0)", 1002, "invalid close code \($0)")
        }
        + [
            .fails("close-one-byte", 1002, "close payload of 1 byte"),
            .fails("close-reason-invalid-utf8", 1007, "close reason is not UTF-8"),
            C(
                name: "close-answered",
                end: .clientClosed(code: 1000, serverCode: 1000, answered: true),
                wire: [.close(1000, reason: "test over")], clientCloses: "test over"),
            C(
                name: "close-unanswered",
                end: .clientClosed(code: 1000, serverCode: nil, answered: false),
                wire: [.close(1000, reason: "test over")], clientCloses: "test over"),
            C(name: "drop-tcp", end: .transportLost("truncated"), wire: []),
            C(name: "drop-tls", end: .transportLost("closed"), wire: []),
            // Case 15: UTF-8 across fragments and reads.
            .delivered("utf8-split-valid", ["æøåæ"]),
            .delivered("utf8-split-across-writes", ["æøåæ"]),
            .delivered("utf8-split-4-byte", ["12345\u{10FFFF}12345"]),
            .delivered("utf8-run-request-split", [run]),
            .fails("utf8-invalid", 1007, text), .fails("utf8-split-invalid", 1007, text),
            .fails("utf8-truncated", 1007, text), .fails("utf8-overlong", 1007, text),
            .fails("utf8-surrogate", 1007, text),
            // Unsent: the final fragment and `case done`; ward failed on
            // the first fragment, without waiting for the message to end.
            .fails("utf8-fail-fast", 1007, text, unsent: 2),
            // Lengths at the encoding boundaries and the 1 MiB cap.
            .delivered("length-125", [digits(125)]), .delivered("length-126", [digits(126)]),
            .delivered("length-65535", [digits(65535)]),
            .delivered("length-65536", [digits(65536)]),
            .delivered("length-at-cap", [digits(1 << 20)]),
            .fails("length-not-minimal", 1002, "length 2 not minimally encoded"),
            .fails("length-top-bit", 1002, "length with the top bit set"),
            // Unsent: the body and `case done`; ward refused the header.
            .fails(
                "over-cap-header", 1009,
                "message of at least 1048577 bytes over the 1048576-byte cap", unsent: 2),
            .fails(
                "over-cap-fragments", 1009,
                "message of at least 1048577 bytes over the 1048576-byte cap"),
        ]

    /// `n` ASCII digits, "0123456789" repeated: the server's `pattern(n)`.
    nonisolated static func digits(_ n: Int) -> String {
        String(String(repeating: "0123456789", count: n / 10 + 1).prefix(n))
    }

    @Test(arguments: cases)
    func clientReactsPerRFC6455(_ expected: ConformanceCase) throws {
        let outcome = try WebSocketConformanceServer.connect(
            case: expected.name, closeReason: expected.clientCloses)
        #expect(outcome.opened)
        #expect(outcome.end == expected.end)
        // Compared by size and content, so a failure does not print megabytes.
        #expect(outcome.texts.map(\.utf8.count) == expected.texts.map(\.utf8.count))
        #expect(outcome.texts == expected.texts, "texts differ")

        let report = try #require(outcome.report, "no report from the server")
        #expect(report["status"]?.intValue == 101)
        #expect(report["subprotocol"]?.stringValue == WireProtocol.subprotocol)
        #expect(report["error"] == .null)
        let frames = report["client_frames"]?.arrayValue ?? []
        // RFC 6455 section 5.3: every client frame masked; no extension, so
        // no reserved bit; ward never fragments what it sends.
        for frame in frames {
            #expect(frame["masked"]?.boolValue == true, "\(frame)")
            #expect(frame["rsv"]?.intValue == 0, "\(frame)")
            #expect(frame["fin"]?.boolValue == true, "\(frame)")
        }
        #expect(frames.first?["opcode"]?.intValue == 1, "the hello goes first")
        #expect(frames.filter { $0["opcode"]?.intValue == 1 }.count == 1, "only the hello")
        #expect(frames.compactMap(ExpectedFrame.init(reported:)) == expected.wire)
        #expect(report["unsent_writes"]?.intValue == expected.unsent)
        // The server never closes TCP first: ward must end TLS and TCP itself.
        #expect(report["client_close_notify"]?.boolValue == true)
        #expect(report["client_closed_tcp"]?.boolValue == true)
    }

    @Test func runRequestSplitInsideACharacterDecodes() throws {
        let outcome = try WebSocketConformanceServer.connect(
            case: "utf8-run-request-split")
        let text = try #require(outcome.texts.first)
        guard case .success(.run(let run)) = WireDecoder.decode(Array(text.utf8)) else {
            Issue.record("not a run request: \(text)")
            return
        }
        #expect(run.id == "r-utf8")
        #expect(run.args.first?.name == "comment")
        #expect(run.args.first?.value == .json(.string("café")))
    }

    @Test func longCloseReasonGoesOutCutToOneHundredTwentyThreeBytes() throws {
        // Case 14's client-initiated close with a 200-byte reason, in
        // two-byte characters: the cut falls before the one that would
        // straddle byte 123, and the server sees valid UTF-8.
        let reason = String(repeating: "é", count: 100)
        let outcome = try WebSocketConformanceServer.connect(
            case: "close-answered", closeReason: reason)
        #expect(outcome.end == .clientClosed(code: 1000, serverCode: 1000, answered: true))
        let close = outcome.report?["client_frames"]?.arrayValue?.last
        #expect(close?["close_code"]?.intValue == 1000)
        #expect(close?["length"]?.intValue == Int64(2 + 122))
        #expect(close?["close_reason"]?.stringValue == String(repeating: "é", count: 61))
    }

    @Test func transportIsClosedEvenAfterItsPeerEnded() throws {
        // The drop cases' fix, without a network: a stream whose peer ended
        // still holds its socket until closed.
        let opened = try OpenedClient()
        opened.client.transportEnded("FIN without close_notify")
        #expect(opened.transport.closeCount == 1)
        opened.finish()
    }

    @Test func unknownPathIsRefusedWith404() throws {
        let outcome = try WebSocketConformanceServer.connect(
            case: "no-such-case")
        #expect(!outcome.opened)
        #expect(
            outcome.end
                == .handshakeFailed(
                    .unexpectedStatus(status: 404, reason: "Not Found", retryAfterSeconds: nil)))
        #expect(outcome.report?["status"]?.intValue == 404)
        #expect(outcome.report?["client_frames"]?.arrayValue == [])
    }

    @Test func tableCoversEveryCaseTheServerHas() {
        let listed = WardProcess.exec([
            Peer.python, WebSocketConformanceServer.script, "--list",
        ])
        #expect(listed.status == 0)
        #expect(listed.lines.sorted() == Self.cases.map(\.name).sorted())
    }
}

/// What one connection to the conformance server came to.
struct ConformanceOutcome {
    /// Whether the upgrade succeeded.
    var opened = false
    /// The text messages the client delivered.
    var texts: [String] = []
    /// How the client reported the end; nil if it never ended.
    var end: WebSocketEnd?
    /// The server's JSON line for this connection.
    var report: JSONValue?
}

/// Records what the client reports, and plays the runner's part: `hello`
/// first, then (when asked) the client's own close.
final class ConformanceRecorder: WebSocketClientDelegate {
    /// What the client reported so far.
    var outcome = ConformanceOutcome()
    /// The reason of the close to start right after `hello`; nil: none.
    var closeReason: String?

    func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse) {
        outcome.opened = true
        try? client.send(text: WebSocketConformanceServer.hello)
        if let closeReason { client.close(code: .normal, reason: closeReason) }
    }
    func webSocket(_ client: WebSocketClient, didReceive text: String) {
        outcome.texts.append(text)
    }
    func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool) {}
    func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd) { outcome.end = end }
}

/// The one `conformance_server.py` process of the test run, and a client
/// connection to one of its cases.
final class WebSocketConformanceServer {
    /// The server script.
    static let script =
        WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures/websocket/conformance_server.py"
    /// The runner's first message; the server must ignore it.
    static let hello = #"{"type":"hello","protocol":1}"#
    /// The run request of case `utf8-run-request-split`, as the server sends it.
    nonisolated static let runRequest =
        #"{"type":"run","run":"r-utf8","action":"demo.echo","args":{"comment":"café"},"#
        + #""reason":"case 15"}"#
    /// Close timeout for the tests' clients: short, so the unanswered close
    /// ends quickly, and still many loopback round trips.
    static let closeTimeoutMilliseconds: UInt64 = 200
    /// Loop tick while a connection runs, so `runOnce` returns even when
    /// nothing happens and the iteration bound below applies.
    static let tickMilliseconds: UInt64 = 10
    /// Most loop iterations one connection may take (at least 50 s of
    /// ticks): a client that never ends fails its test instead of hanging.
    static let maxIterations = 5_000
    /// How long to wait for the server's report line, in milliseconds.
    static let reportPatience: Int32 = 20_000

    /// Started on first use; it exits when the test process does (its stdin
    /// closes) or after two idle minutes.
    static let shared = WebSocketConformanceServer()

    /// The server's pid.
    let pid: pid_t
    /// The loopback port it listens on.
    private(set) var port: UInt16 = 0
    /// The server's stdin: held open, never written; its end ends the server.
    let stdinFD: Int32
    /// Read end of the server's stdout: `port N`, then one line a connection.
    let stdoutFD: Int32
    private var pending: [UInt8] = []
    private var attempts = 0

    private init() {
        let input = TestSpawn.pipePair()
        let output = TestSpawn.pipePair()
        let argv = [
            Peer.python, "-u", Self.script, "--cert", TestCerts.path("server.pem"), "--key",
            TestCerts.path("server.key"), "--exit-on-stdin-eof",
        ]
        let child = TestSpawn.spawn(
            argv, environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .fd(input.read),
            stdout: .fd(output.write), stderr: .null)
        close(input.read)
        close(output.write)
        guard let child else { preconditionFailure("cannot start \(argv[0])") }
        pid = child
        stdinFD = input.write
        stdoutFD = output.read
        let first = nextLine() ?? ""
        precondition(first.hasPrefix("port "), "conformance server did not start: \(first)")
        port = UInt16(first.dropFirst(5))!
    }

    /// The next line the server prints, or nil when none comes in time.
    func nextLine() -> String? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            var watch = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&watch, 1, Self.reportPatience) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(stdoutFD, &chunk, chunk.count)
            guard n > 0 else { return nil }
            pending += chunk[0..<n]
        }
    }

    /// The report line for `path`, skipping any other.
    func report(path: String) -> JSONValue? {
        while let line = nextLine() {
            guard let value = try? JSONReader.parse(line) else { continue }
            if value["path"]?.stringValue == path { return value }
        }
        return nil
    }

    /// Opens TLS and the websocket to `/case/<name>`, runs the loop until the
    /// client has ended and let go of every handle, then reads the report.
    static func connect(case name: String, closeReason: String? = nil) throws
        -> ConformanceOutcome
    {
        let server = shared
        server.attempts += 1
        // The query makes every connection's report line unique.
        let path = "/case/\(name)?attempt=\(server.attempts)"
        let loop = try EventLoop()
        let tls = try TLSContext(trust: .caBundle(path: TestCerts.path("ca.pem")))
        let recorder = ConformanceRecorder()
        recorder.closeReason = closeReason
        var client: WebSocketClient?
        var openError: SecureStreamError?
        SecureStream.open(
            loop: loop, host: "127.0.0.1", port: server.port, tls: tls, proxy: nil
        ) { result in
            switch result {
            case .failure(let error): openError = error
            case .success(let stream):
                let transport = StreamTransport(stream: stream)
                let request = try! UpgradeRequest(
                    host: "127.0.0.1", port: Int(server.port), path: path,
                    subprotocols: [WireProtocol.subprotocol])
                let made = WebSocketClient(
                    transport: transport, request: request, loop: loop,
                    configuration: WebSocketConfiguration(
                        closeTimeoutMilliseconds: closeTimeoutMilliseconds,
                        heartbeatIntervalMilliseconds: nil))
                made.delegate = recorder
                transport.client = made
                client = made
                made.start()
            }
        }

        let tick = Timer(loop: loop)
        tick.start(after: tickMilliseconds, repeating: tickMilliseconds) {}
        for _ in 0..<maxIterations where openError == nil {
            // Only the tick left: the stream's socket and timers are closed.
            if recorder.outcome.end != nil && loop.liveHandleCount == 1 { break }
            _ = loop.runOnce()
        }
        tick.close()
        #expect(openError == nil)
        #expect(recorder.outcome.end != nil, "the client never ended")
        if recorder.outcome.end == nil { client?.close() }
        LoopTests.closeClean(loop)

        var outcome = recorder.outcome
        outcome.report = server.report(path: path)
        return outcome
    }
}
