import Glibc
import Testing

@testable import Runner

/// A child process with a writable stdin and a stdout read without blocking, for
/// peers that run beside the loop (the development control plane).
final class PeerProcess {
    let pid: pid_t
    let stdinFD: Int32
    let stdoutFD: Int32
    private var pending: [UInt8] = []

    init?(_ argv: [String]) {
        let input = TestSpawn.pipePair()
        let output = TestSpawn.pipePair()
        let child = TestSpawn.spawn(
            argv, environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .fd(input.read),
            stdout: .fd(output.write), stderr: .null)
        close(input.read)
        close(output.write)
        guard let child else { return nil }
        pid = child
        stdinFD = input.write
        stdoutFD = output.read
        _ = fcntl(stdoutFD, F_SETFL, fcntl(stdoutFD, F_GETFL) | O_NONBLOCK)
    }

    /// Sends one command line.
    func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
    }

    /// Whole lines printed since the last call.
    func lines() -> [String] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(stdoutFD, &chunk, chunk.count)
            if n <= 0 { break }
            pending += chunk[0..<n]
        }
        var out: [String] = []
        while let nl = pending.firstIndex(of: 0x0A) {
            out.append(String(decoding: pending[..<nl], as: UTF8.self))
            pending.removeSubrange(...nl)
        }
        return out
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(stdinFD)
        close(stdoutFD)
    }
}

/// Records what the websocket client reports.
final class SocketRecorder: WebSocketClientDelegate {
    var opened = false
    var messages: [String] = []
    var ended: WebSocketEnd?
    var onOpen: (WebSocketClient) -> Void = { _ in }

    func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse) {
        opened = true
        onOpen(client)
    }
    func webSocket(_ client: WebSocketClient, didReceive text: String) { messages.append(text) }
    func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool) {}
    func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd) { ended = end }
}

/// TCP, TLS, the websocket client and the wire messages together, against the
/// development control plane (Python `websockets`, a server nobody here wrote).
@MainActor @Suite(.serialized) struct CloudStackTests {
    nonisolated static let python = WardProcess.repoRoot + "/.venv/bin/python"
    nonisolated static let hasVenv = access(python, X_OK) == 0

    @Test(.enabled(if: hasVenv, "needs .venv (make venv)"))
    func helloReachesTheControlPlaneAndARunComesBack() throws {
        let dir = TempDir()
        let script = WardProcess.repoRoot + "/contrib/devcp/ward_devcp.py"
        let peer = try #require(PeerProcess([Self.python, script, "--state-dir", dir.path]))
        defer { peer.stop() }
        var endpoint: JSONValue?
        for _ in 0..<200 where endpoint == nil {
            endpoint = dir.read("endpoint.json").flatMap { try? JSONReader.parse($0) }
            if endpoint == nil { usleep(50_000) }
        }
        let url = try #require(endpoint?["url"]?.stringValue)
        let port = try #require(Int(url.split(separator: ":").last!.split(separator: "/")[0]))
        let key = try AuthKey.read(
            try #require(endpoint?["key_file"]?.stringValue), checkMode: true)

        let loop = try EventLoop()
        let tls = try TLSContext(
            trust: .caBundle(path: try #require(endpoint?["ca_file"]?.stringValue)))
        let recorder = SocketRecorder()
        var client: WebSocketClient?
        var openError: SecureStreamError?
        recorder.onOpen = { c in
            let state = JSONValue.object(
                JSONObject([("runner", ["id": "stack-test"]), ("actions", [])]))
            try? c.send(
                text: JSONWriter.string(
                    WireEncoder.hello(session: "s-1", state: state, head: nil, inFlight: [])))
        }
        SecureStream.open(loop: loop, host: "127.0.0.1", port: UInt16(port), tls: tls, proxy: nil) {
            result in
            switch result {
            case .failure(let e): openError = e
            case .success(let stream):
                let transport = StreamTransport(stream: stream)
                let request = try! UpgradeRequest(
                    host: "127.0.0.1", port: port, path: "/v1/runner",
                    subprotocols: [WireProtocol.subprotocol],
                    headers: [HTTPHeader(name: "Authorization", value: "Bearer " + key)])
                let c = WebSocketClient(transport: transport, request: request, loop: loop)
                c.delegate = recorder
                transport.client = c
                client = c
                c.start()
            }
        }

        var printed: [String] = []
        var sentRun = false
        for _ in 0..<400 where recorder.messages.isEmpty && openError == nil {
            _ = loop.runOnce()
            printed += peer.lines()
            if !sentRun, printed.contains(where: { $0.contains("\"connected\"") }) {
                peer.send("run e2e.echo message=hi --reason stack test --id r-stack-1")
                sentRun = true
            }
            usleep(5_000)
        }
        #expect(openError == nil)
        #expect(recorder.opened)
        let first = try #require(recorder.messages.first)
        guard case .success(.run(let run)) = WireDecoder.decode(Array(first.utf8)) else {
            Issue.record("not a run message: \(first)")
            return
        }
        #expect(run.id == "r-stack-1")
        #expect(run.action == "e2e.echo")
        #expect(run.args.first?.value == .json(.string("hi")))
        #expect(run.origin == .cloud)

        client?.close()
        for _ in 0..<400 where recorder.ended == nil {
            _ = loop.runOnce()
            usleep(5_000)
        }
        #expect(recorder.ended != nil)
        printed += peer.lines()
        #expect(printed.contains { $0.contains("\"disconnected\"") } || recorder.ended != nil)
    }
}
