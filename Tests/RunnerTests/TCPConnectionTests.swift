import CUV
import Glibc
import Testing

@testable import Runner

/// TCPConnection against real peers on loopback.
@Suite struct TCPConnectionTests {
    static let v4 = NetworkAddress(literal: "127.0.0.1")!
    static let v6 = NetworkAddress(literal: "::1")!

    /// A listening socket with a backlog of 0 that never accepts. When
    /// `filled`, its one queue slot is taken, so the kernel drops every
    /// further SYN and a connect to it hangs. Returns the port and the
    /// descriptors to close.
    static func fullListener(filled: Bool = true) -> (port: UInt16, fds: [Int32]) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(listener, $0, length)
                _ = getsockname(listener, $0, &length)
            }
        }
        listen(listener, 0)
        guard filled else { return (UInt16(bigEndian: address.sin_port), [listener]) }
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = Glibc.connect(filler, $0, length)
            }
        }
        return (UInt16(bigEndian: address.sin_port), [filler, listener])
    }

    /// Connects to `addresses` on `port` and runs the loop until the connect
    /// ends; returns the connection (closed if the connect failed).
    static func connect(
        _ loop: EventLoop, _ addresses: [NetworkAddress], port: UInt16,
        attemptTimeout: UInt64 = TCPConnection.defaultAttemptTimeout,
        then body: @escaping (TCPConnection) -> Void = { $0.close() }
    ) -> (TCPConnection, Result<Void, TCPConnectError>?) {
        let connection = TCPConnection(loop: loop, attemptTimeout: attemptTimeout)
        var outcome: Result<Void, TCPConnectError>?
        connection.connect(host: "test-host", addresses: addresses, port: port) { result in
            outcome = result
            if case .success = result { body(connection) } else { connection.close() }
        }
        NetTest.run(loop)
        return (connection, outcome)
    }

    /// Echoes `text` through a `tcp-echo` peer listening on `host`.
    static func echo(_ text: String, host: String, address: NetworkAddress) throws -> String {
        let peer = Peer(["tcp-echo", "--host", host])
        let loop = try EventLoop()
        var got: [UInt8] = []
        var writeError: UVError?? = .none
        var end: TCPConnection.End?
        let (_, outcome) = connect(loop, [address], port: peer.port) { connection in
            connection.onBytes = { bytes in
                got += bytes
                if got.count == text.utf8.count { connection.shutdown() }
            }
            connection.onEnd = { reason in
                end = reason
                connection.close()
            }
            connection.write(Array(text.utf8)) { writeError = .some($0) }
        }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(writeError == .some(nil))
        #expect(end == .endOfFile)
        #expect(peer.finish().contains { $0.hasPrefix("received \(text.utf8.count) ") })
        LoopTests.closeClean(loop)
        return String(decoding: got, as: UTF8.self)
    }

    @Test func echoesBytesOverIPv4Loopback() throws {
        #expect(
            try Self.echo("hello over tcp", host: "127.0.0.1", address: Self.v4) == "hello over tcp"
        )
    }

    @Test func echoesBytesOverIPv6Loopback() throws {
        #expect(
            try Self.echo("hello over ipv6", host: "::1", address: Self.v6) == "hello over ipv6")
    }

    @Test func refusedConnectNamesHostPortAndAddress() throws {
        let loop = try EventLoop()
        let port = NetTest.closedPort()
        let (_, outcome) = Self.connect(loop, [Self.v4], port: port)
        guard case .failure(let error) = outcome else {
            Issue.record("connect to a closed port succeeded")
            return
        }
        #expect(error.attempts.map(\.error.name) == ["ECONNREFUSED"])
        #expect(error.description.contains("cannot connect to test-host:\(port)"))
        #expect(error.description.contains("127.0.0.1:\(port): connection refused (ECONNREFUSED)"))
        LoopTests.closeClean(loop)
    }

    @Test func reportsEveryAddressTriedInOrder() throws {
        let loop = try EventLoop()
        let port = NetTest.closedPort()
        let (_, outcome) = Self.connect(loop, [Self.v6, Self.v4], port: port)
        guard case .failure(let error) = outcome else {
            Issue.record("connect to a closed port succeeded")
            return
        }
        #expect(error.attempts.map(\.address) == [Self.v6, Self.v4])
        #expect(error.description.contains("[::1]:\(port): "))
        LoopTests.closeClean(loop)
    }

    @Test func connectsToALaterAddressWhenAnEarlierOneRefuses() throws {
        // The peer listens on IPv4 only, so [::1] refuses first.
        let peer = Peer(["tcp-echo"])
        let loop = try EventLoop()
        var nodelay: Int32 = 0
        let (_, outcome) = Self.connect(loop, [Self.v6, Self.v4], port: peer.port) { connection in
            var fd: uv_os_fd_t = -1
            var length = socklen_t(MemoryLayout<Int32>.size)
            let raw = UnsafeMutableRawPointer(connection.handle!)
            _ = uv_fileno(raw.assumingMemoryBound(to: uv_handle_t.self), &fd)
            getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, &length)
            connection.close()
        }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(nodelay != 0)
        LoopTests.closeClean(loop)
    }

    @Test func attemptThatGetsNoAnswerTimesOut() throws {
        let (port, fds) = Self.fullListener()
        defer { fds.forEach { close($0) } }
        let loop = try EventLoop()
        let (_, outcome) = Self.connect(loop, [Self.v4], port: port, attemptTimeout: 200)
        guard case .failure(let error) = outcome else {
            Issue.record("connect to a full backlog succeeded")
            return
        }
        #expect(error.attempts.map(\.error.name) == ["ETIMEDOUT"])
        LoopTests.closeClean(loop)
    }

    @Test func closeCancelsAConnectInProgress() throws {
        let (port, fds) = Self.fullListener()
        defer { fds.forEach { close($0) } }
        let loop = try EventLoop()
        let connection = TCPConnection(loop: loop)
        var called = false
        connection.connect(host: "test-host", addresses: [Self.v4], port: port) { _ in
            called = true
        }
        let timer = Timer(loop: loop)
        timer.start(after: 50) {
            connection.close()
            timer.close()
        }
        NetTest.run(loop)
        #expect(!called)
        LoopTests.closeClean(loop)
    }

    @Test func pausedConnectionReadsNothingUntilResumed() throws {
        let peer = Peer(["greeter"])
        let loop = try EventLoop()
        var got: [UInt8] = []
        var whilePaused: Int?
        let greeting = "hello from target\n"
        let (_, outcome) = Self.connect(loop, [Self.v4], port: peer.port) { connection in
            connection.pause()
            connection.onBytes = { bytes in
                got += bytes
                if got.count == greeting.utf8.count { connection.shutdown() }
            }
            connection.onEnd = { _ in connection.close() }
            let timer = Timer(loop: loop)
            timer.start(after: 100) {
                whilePaused = got.count
                connection.resume()
                timer.close()
            }
        }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(whilePaused == 0)
        #expect(String(decoding: got, as: UTF8.self) == greeting)
        LoopTests.closeClean(loop)
    }

    @Test func unreadBytesQueueAndCloseCancelsThem() throws {
        // The peer is a backlog that is never accepted: the kernel takes a
        // few buffers' worth, then everything else waits in libuv's queue.
        let (port, fds) = Self.fullListener(filled: false)
        defer { fds.forEach { close($0) } }
        let loop = try EventLoop()
        var queued = 0
        var results: [UVError?] = []
        let (_, outcome) = Self.connect(loop, [Self.v4], port: port) { connection in
            let block = [UInt8](repeating: 0x61, count: 1024 * 1024)
            for _ in 0..<32 { connection.write(block) { results.append($0) } }
            queued = connection.queuedBytes
            connection.close()
        }
        #expect(throws: Never.self) { try outcome?.get() }
        #expect(queued > 0)
        #expect(results.count == 32)
        #expect(results.last??.name == "ECANCELED")
        LoopTests.closeClean(loop)
    }
}
