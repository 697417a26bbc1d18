import CUV
import Glibc
import Testing

@testable import Runner

/// A byte transport over one end of a real socket, with blocking writes.
final class SocketTransport: ByteTransport {
    let fd: Int32
    var closed = false

    init(fd: Int32) { self.fd = fd }

    var queuedBytes: Int { 0 }

    func write(_ bytes: [UInt8], completion: @escaping (Bool) -> Void) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return completion(false) }
            sent += n
        }
        completion(true)
    }

    func pauseReading() {}
    func resumeReading() {}
    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }
}

/// The client against a websocket server it did not come with: a Python
/// echo server written from RFC 6455 with the standard library only
/// (`Fixtures/websocket/echo_server.py`), over a real socketpair. Python has
/// no websocket server of its own, and no package is installed for one.
@Suite struct WebSocketEchoServerTests {
    static let serverScript: String = {
        let here = #filePath
        return "\(here[..<here.lastIndex(of: "/")!])/Fixtures/websocket/echo_server.py"
    }()

    /// Starts the server on one end of a socketpair; returns its pid and the
    /// other end.
    static func startServer() -> (pid_t, Int32) {
        var pair: [Int32] = [0, 0]
        let made = socketpair(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
        precondition(made == 0, "socketpair failed")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
        let argv: [UnsafeMutablePointer<CChar>?] = [
            strdup("/usr/bin/python3"), strdup(serverScript), nil,
        ]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/python3", &actions, nil, argv, envp)
        precondition(rc == 0, "posix_spawn python3 failed: \(rc)")
        posix_spawn_file_actions_destroy(&actions)
        argv.forEach { free($0) }
        _ = Glibc.close(pair[1])
        return (pid, pair[0])
    }

    @Test(.enabled(if: access("/usr/bin/python3", X_OK) == 0))
    func exchangesMessagesAndClosesWithAnIndependentServer() throws {
        let loop = try EventLoop()
        let (pid, fd) = Self.startServer()
        let transport = SocketTransport(fd: fd)
        let recorder = WebSocketRecorder()
        let client = WebSocketClient(
            transport: transport, request: WebSocketTestSupport.request(), loop: loop,
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: nil))
        client.delegate = recorder
        let big = String(repeating: "0123456789", count: 7000)
        let outgoing = ["one", big, "three é"]
        recorder.onText = { client, text in
            if text == "ready:æ" {
                for message in outgoing { try? client.send(text: message) }
            } else if recorder.texts.count == 1 + outgoing.count {
                client.close(code: .normal, reason: "done")
            }
        }
        client.start()

        // Pump the socket into the client until it ends; the bound only keeps
        // a broken server from hanging the suite.
        var buffer = [UInt8](repeating: 0, count: 65536)
        var rounds = 0
        while recorder.ends.isEmpty && rounds < 2000 {
            rounds += 1
            var watch = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&watch, 1, 10) > 0 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    client.receive(Array(buffer[..<n]))
                } else {
                    client.transportEnded(n == 0 ? "server closed" : "recv failed")
                }
            }
            uv_run(loop.raw, UV_RUN_NOWAIT)
        }

        #expect(recorder.texts == ["ready:æ"] + outgoing)
        #expect(recorder.ends == [.clientClosed(code: 1000, serverCode: 1000, answered: true)])
        #expect(transport.closed)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        // Exit 0: the server saw a valid upgrade, only masked frames, and the
        // pong for its ping.
        #expect(status == 0, "server exit status \(status)")
        LoopTests.closeClean(loop)
    }
}
