import Glibc
import Testing

@testable import Runner

/// The real `ward connect` against the crafted-frame conformance server
/// (docs/websocket-conformance.md): cases 13, 14, 15 and 17 end to end. The
/// config's URL path picks the case; the server reports what ward put on
/// the wire, and ward must also log the end and dial again.
@Suite(.serialized, .enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
nonisolated struct CloudConformanceTests {
    /// A case, what ward must send back, and what its log must say.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// The close code ward sends; nil when it must send no close at all.
        var closeCode: UInt16?
        /// A pong payload ward must send (hex), if any.
        var pongHex: String? = nil
        /// Text in ward's log about how the connection ended.
        var logged: String
        var description: String { name }
    }

    static let cases: [Case] = [
        // 13: a ping between fragments is answered at once; fragmented
        // or stray control frames fail the connection.
        Case(
            name: "pong-and-ping-between-fragments", closeCode: 1000, pongHex: "70696e",
            logged: "server closed with 1000"),
        Case(name: "fragmented-ping", closeCode: 1002, logged: "failed with 1002"),
        Case(name: "continuation-without-start", closeCode: 1002, logged: "failed with 1002"),
        // 14: masked server frames and bad close codes.
        Case(name: "masked-text", closeCode: 1002, logged: "failed with 1002"),
        Case(name: "close-bad-1005", closeCode: 1002, logged: "failed with 1002"),
        Case(name: "close-4999", closeCode: 4999, logged: "server closed with 4999"),
        Case(name: "drop-tcp", closeCode: nil, logged: "code=1006"),
        // 15: UTF-8 checked across fragments.
        Case(name: "utf8-split-valid", closeCode: 1000, logged: "server closed with 1000"),
        Case(name: "utf8-split-invalid", closeCode: 1007, logged: "failed with 1007"),
        // The message cap, from the frame header.
        Case(name: "over-cap-header", closeCode: 1009, logged: "failed with 1009"),
    ]

    /// Makes certificates and starts the conformance server.
    static func server() throws -> (LinePeer, TempDir, Int) {
        let certs = TempDir()
        let made = WardProcess.exec([
            "/bin/sh", WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures/tls/make-certs.sh",
            certs.path,
        ])
        #expect(made.status == 0)
        let peer = try #require(
            LinePeer([
                CloudHarness.python, "-u",
                WardProcess.repoRoot
                    + "/Tests/RunnerTests/Fixtures/websocket/conformance_server.py",
                "--cert", certs.path + "/server.pem", "--key", certs.path + "/server.key",
            ]))
        let port = try #require(peer.port())
        return (peer, certs, port)
    }

    @Test(arguments: cases)
    func wardAnswersEachCraftedCaseAsTheRFCRequires(_ c: Case) throws {
        let (server, certs, port) = try Self.server()
        let dir = TempDir()
        let fixtures = WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures"
        let config = dir.write(
            "config.yaml",
            """
            runner: {id: conformance}
            packs: ["\(fixtures)/e2e/packs"]
            journal: {path: ./journal/events.jsonl}
            log: {level: debug}
            control_plane:
              url: wss://127.0.0.1:\(port)/case/\(c.name)
              ca_file: \(certs.path)/ca.pem
              heartbeat_ms: 60000
              backoff_base_ms: 100
              backoff_cap_ms: 200
            """)
        let log = open(dir.path + "/ward.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let spawned = TestSpawn.spawn(
            [WardProcess.binary, "--config", config, "connect"],
            environment: [
                "PATH=/usr/bin:/bin", "WARD_AUTH_KEY=conformance-key-0123456789",
            ], stdin: .null, stdout: .null, stderr: .fd(log))
        close(log)
        let pid = try #require(spawned)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }

        var report: JSONValue?
        for _ in 0..<1_500 where report == nil {
            report = server.lines().lazy.compactMap { try? JSONReader.parse($0) }.first {
                $0["case"]?.stringValue == c.name
            }
            if report == nil { usleep(20_000) }
        }
        let found = try #require(report, "no report; log:\n\(dir.read("ward.log") ?? "")")
        let frames = found["client_frames"]?.arrayValue ?? []
        // Everything ward sends is masked (RFC 6455 section 5.3).
        #expect(frames.allSatisfy { $0["masked"]?.boolValue == true })
        let closes = frames.filter { $0["opcode"]?.intValue == 8 }
        if let code = c.closeCode {
            #expect(closes.first?["close_code"]?.intValue == Int64(code), "\(found)")
        } else {
            #expect(closes.isEmpty, "\(found)")
        }
        if let pong = c.pongHex {
            #expect(
                frames.contains {
                    $0["opcode"]?.intValue == 10 && $0["payload_hex"]?.stringValue == pong
                }, "\(found)")
        }
        // ward logs how the link ended and dials again.
        var logged = false
        for _ in 0..<1_500 where !logged {
            let text = dir.read("ward.log") ?? ""
            logged = text.contains(c.logged) && text.contains("msg=\"backing off\"")
            if !logged { usleep(20_000) }
        }
        #expect(logged, "log:\n\(dir.read("ward.log") ?? "")")
    }
}
