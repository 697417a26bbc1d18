import CUV
import Glibc
import Testing

@testable import Runner

/// The throwaway certificates, made once per test process by
/// `Fixtures/tls/make-certs.sh` into a temp folder.
nonisolated enum TestCerts {
    /// The folder holding the PEM files; made on first use.
    static let dir: String = {
        signal(SIGPIPE, SIG_IGN)
        var template = Array("/tmp/ward-tls.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer {
            String(cString: mkdtemp($0.baseAddress!))
        }
        let script = WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures/tls/make-certs.sh"
        let made = WardProcess.exec(["/bin/sh", script, path])
        precondition(made.status == 0, "make-certs.sh failed: \(made.stderr)")
        return path
    }()

    /// The full path of one of the files, e.g. `ca.pem`.
    static func path(_ name: String) -> String { dir + "/" + name }
}

/// One `Fixtures/tls/peer.py` process: started with a mode, it listens on
/// a free loopback port and reports what it saw as `event ...` lines.
nonisolated final class Peer {
    /// How long to wait for the peer to start or finish, in milliseconds.
    static let patience: Int32 = 20_000

    /// The peer's pid.
    let pid: pid_t
    /// Read end of the peer's merged stdout and stderr.
    let output: Int32
    /// The port it listens on.
    private(set) var port: UInt16 = 0
    /// Everything read so far.
    private var text = ""

    /// Starts `peer.py` with `arguments` and waits for its port.
    init(_ arguments: [String]) {
        _ = TestCerts.dir  // also ignores SIGPIPE for the test process
        let fds = TestSpawn.pipePair()
        let script = WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures/tls/peer.py"
        let argv = [Peer.python, "-W", "ignore", "-u", script] + arguments
        let spawned = TestSpawn.spawn(
            argv, environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .null,
            stdout: .fd(fds.write), stderr: .fd(fds.write))
        close(fds.write)
        guard let child = spawned else { preconditionFailure("cannot start \(argv[0])") }
        pid = child
        output = fds.read
        while !text.contains("\n") && readMore() {}
        let first = text.split(separator: "\n").first.map(String.init) ?? ""
        precondition(first.hasPrefix("port "), "peer did not start: \(text)")
        port = UInt16(first.dropFirst(5))!
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(output)
    }

    /// python3 from the usual places.
    static let python: String = {
        let candidates: [String] = ["/usr/bin/python3", "/usr/local/bin/python3"]
        for candidate in candidates where access(candidate, X_OK) == 0 {
            return candidate
        }
        return "/usr/bin/python3"
    }()

    /// Waits for the peer to exit (killing it after `patience`) and returns
    /// its `event` lines, without the prefix.
    func finish() -> [String] {
        while readMore() {}
        return events
    }

    /// The `event` lines read so far.
    var events: [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("event ") }.map {
            String($0.dropFirst(6))
        }
    }

    /// Reads what is there, waiting up to `patience`; false at EOF or timeout.
    @discardableResult
    private func readMore() -> Bool {
        var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Peer.patience) > 0 else {
            kill(pid, SIGKILL)
            return false
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(output, &chunk, chunk.count)
        guard n > 0 else { return false }
        text += String(decoding: chunk[0..<n], as: UTF8.self)
        return true
    }
}

/// Loop helpers for the network tests.
enum NetTest {
    /// Longest a network test may keep its loop running, in milliseconds; a
    /// test that hangs stops here and fails instead of blocking the suite.
    static let loopLimit: UInt64 = 30_000

    /// Runs `loop` until it has nothing left to do, or fails the test at
    /// the limit.
    static func run(_ loop: EventLoop, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let watchdog = Timer(loop: loop)
        var expired = false
        watchdog.start(after: loopLimit) {
            expired = true
            loop.stop()
        }
        watchdog.unref()
        loop.run()
        watchdog.close()
        #expect(
            !expired, "the loop was still busy after \(loopLimit) ms",
            sourceLocation: sourceLocation)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on: bound, then closed.
    static func closedPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// `count` bytes of a pattern that shows misordering: each 4-byte group
    /// holds its own offset.
    static func pattern(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count { bytes[i] = UInt8(truncatingIfNeeded: (i / 4) >> ((i % 4) * 8)) }
        return bytes
    }
}
