import Glibc
import Testing

@testable import Runner

/// SecureStream over real TLS servers (peer.py) on loopback.
@Suite struct TLSStreamTests {
    /// A context trusting only the test CA.
    static func testCA() throws -> TLSContext {
        try TLSContext(trust: .caBundle(path: TestCerts.path("ca.pem")))
    }

    /// A peer serving `mode` with the certificate named `cert` (`server`,
    /// `other`, `selfsigned`), plus extra options.
    static func tlsPeer(_ mode: String, cert: String = "server", _ options: [String] = []) -> Peer {
        Peer([mode, TestCerts.path(cert + ".pem"), TestCerts.path(cert + ".key")] + options)
    }

    /// What one opened stream saw.
    struct Seen {
        var opened: Result<Void, SecureStreamError>?
        var bytes: [UInt8] = []
        var end: SecureStream.End?
        var writeResults: [SecureStreamError?] = []
        var blockedWrites = 0
        var tlsVersion: String?
    }

    /// Opens a stream on a fresh loop; `body` runs once it is open, with the
    /// stream and the record it fills. Runs the loop until everything is
    /// closed and checks the loop closes clean.
    static func run(
        host: String, port: UInt16, tls: TLSContext?, proxy: ProxyTarget? = nil,
        sourceLocation: Testing.SourceLocation = #_sourceLocation,
        body: @escaping (SecureStream, Box<Seen>) -> Void = { stream, _ in stream.close() }
    ) throws -> Seen {
        let loop = try EventLoop()
        let seen = Box(Seen())
        SecureStream.open(loop: loop, host: host, port: port, tls: tls, proxy: proxy) { result in
            switch result {
            case .success(let stream):
                seen.value.opened = .success(())
                seen.value.tlsVersion = stream.tlsVersion
                stream.onBytes = { seen.value.bytes += $0 }
                stream.onEnd = { seen.value.end = $0 }
                body(stream, seen)
            case .failure(let error):
                seen.value.opened = .failure(error)
            }
        }
        NetTest.run(loop, sourceLocation: sourceLocation)
        LoopTests.closeClean(loop, sourceLocation: sourceLocation)
        return seen.value
    }

    /// The error a failed open reported, or nil.
    static func openError(_ seen: Seen) -> SecureStreamError? {
        if case .failure(let error) = seen.opened { return error }
        return nil
    }

    @Test func echoesOneMegabyteBothWaysThroughBlockedWrites() throws {
        let peer = Self.tlsPeer("tls-echo", ["--slow"])
        let total = 1024 * 1024
        let sent = NetTest.pattern(total)
        // Uneven sizes, one far larger than the session's buffers, so TLS
        // writes block and must be retried with the same bytes.
        let sizes = [1, 700, 16 * 1024, 300 * 1024, 5, 64 * 1024 + 3]
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            var offset = 0
            var index = 0
            while offset < total {
                let count = min(sizes[index % sizes.count], total - offset)
                stream.write(Array(sent[offset..<offset + count])) {
                    seen.value.writeResults.append($0)
                }
                offset += count
                index += 1
            }
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                if seen.value.bytes.count == total {
                    seen.value.blockedWrites = stream.session?.blockedWriteCount ?? 0
                    stream.close()
                }
            }
        }
        #expect(seen.tlsVersion == "TLSv1.3")
        #expect(seen.bytes.count == total)
        #expect(seen.bytes == sent)
        #expect(seen.blockedWrites > 0)
        #expect(!seen.writeResults.isEmpty && seen.writeResults.allSatisfy { $0 == nil })
        let events = peer.finish()
        #expect(events.contains("received \(total) sha256=\(SHA256.hex(sent))"))
        #expect(events.contains("unwrap ok"))
    }

    @Test func closeSendsCloseNotifyThePeerSees() throws {
        let peer = Self.tlsPeer("tls-echo")
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.write(Array("ping".utf8))
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "ping")
        let events = peer.finish()
        #expect(events.contains("close_notify received"))
        #expect(events.contains("unwrap ok"))
    }

    @Test func serverCloseNotifyEndsTheStreamCleanly() throws {
        let peer = Self.tlsPeer("tls-close")
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.onEnd = { end in
                seen.value.end = end
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "bye")
        #expect(seen.end == .closed)
        #expect(peer.finish().contains("unwrap ok"))
    }

    @Test func endWithoutCloseNotifyIsTruncation() throws {
        let peer = Self.tlsPeer("tls-truncate")
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.onEnd = { end in
                seen.value.end = end
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "bye")
        #expect(seen.end == .truncated)
    }

    @Test func callerTimerEndsAHandshakeTheServerNeverAnswers() throws {
        let peer = Peer(["silent"])
        let loop = try EventLoop()
        var outcome: Result<SecureStream, SecureStreamError>?
        let stream = SecureStream.open(
            loop: loop, host: "localhost", port: peer.port, tls: try Self.testCA(), proxy: nil
        ) { outcome = $0 }
        let timer = Timer(loop: loop)
        var closedCompletion = false
        timer.start(after: 300) {
            stream.close { closedCompletion = true }
            timer.close()
        }
        NetTest.run(loop)
        guard case .failure(let error) = outcome else {
            Issue.record("a server that never answers completed the handshake")
            return
        }
        #expect(error == .cancelled)
        #expect(closedCompletion)
        #expect(peer.finish().contains("client closed"))
        LoopTests.closeClean(loop)
    }

    @Test func refusedPortFailsNamingTheAddress() throws {
        let port = NetTest.closedPort()
        let seen = try Self.run(host: "127.0.0.1", port: port, tls: Self.testCA())
        guard case .connect(let error) = Self.openError(seen) else {
            Issue.record("expected a connect error, got \(String(describing: seen.opened))")
            return
        }
        #expect(error.attempts.map(\.error.name) == ["ECONNREFUSED"])
        #expect("\(error)".contains("127.0.0.1:\(port): connection refused (ECONNREFUSED)"))
    }

    @Test func unknownHostFailsNamingTheHost() throws {
        let seen = try Self.run(host: "no-such-host.invalid", port: 443, tls: Self.testCA())
        guard case .resolve(let error) = Self.openError(seen) else {
            Issue.record("expected a resolve error, got \(String(describing: seen.opened))")
            return
        }
        #expect(error.host == "no-such-host.invalid")
    }

    @Test func carriesTLSOverIPv6Loopback() throws {
        let peer = Self.tlsPeer("tls-echo", ["--host", "::1"])
        let seen = try Self.run(host: "::1", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.write(Array("over ipv6".utf8))
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "over ipv6")
        #expect(peer.finish().contains("unwrap ok"))
    }

    @Test func plainStreamEchoesWithoutTLS() throws {
        let peer = Peer(["tcp-echo"])
        let seen = try Self.run(host: "127.0.0.1", port: peer.port, tls: nil) { stream, seen in
            stream.write(Array("plain".utf8)) { seen.value.writeResults.append($0) }
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                stream.close()
            }
        }
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "plain")
        #expect(seen.writeResults.count == 1 && seen.writeResults[0] == nil)
        #expect(seen.tlsVersion == nil)
        #expect(peer.finish().contains("received 5 sha256=\(SHA256.hex(Array("plain".utf8)))"))
    }

    @Test func writeAfterCloseFailsAsClosed() throws {
        let peer = Self.tlsPeer("tls-echo")
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.close()
            stream.write(Array("late".utf8)) { seen.value.writeResults.append($0) }
        }
        #expect(seen.writeResults == [.closed])
        _ = peer.finish()
    }

    @Test func peerThatDoesNotReadBacksUpTheQueueWithinBounds() throws {
        let peer = Self.tlsPeer("tls-stall", ["--slow"])
        let block = [UInt8](repeating: 0x6C, count: 1024 * 1024)
        var queued = 0
        var sessionOutput = 0
        var socketQueue = 0
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            for _ in 0..<12 { stream.write(block) { seen.value.writeResults.append($0) } }
            // Past the hard limit: refused at once, nothing queued.
            stream.write(
                [UInt8](repeating: 0, count: SecureStream.maximumQueuedBytes)
            ) { seen.value.writeResults.append($0) }
            let timer = Timer(loop: stream.loop)
            timer.start(after: 300) {
                queued = stream.queuedBytes
                sessionOutput = stream.session?.pendingOutput ?? -1
                socketQueue = stream.tcp?.queuedBytes ?? -1
                stream.close()
                timer.close()
            }
        }
        // Most bytes wait as plaintext; what is already encrypted is bounded.
        #expect(queued > 8 * 1024 * 1024)
        #expect(sessionOutput <= TLSSession.bufferSize)
        #expect(socketQueue < SecureStream.socketHighWater + TLSSession.bufferSize)
        #expect(seen.writeResults.first == .queueFull(limit: SecureStream.maximumQueuedBytes))
        // The close gives up after its grace and fails what never went out.
        #expect(seen.writeResults.count == 13)
        #expect(seen.writeResults.last == .closed)
    }

    @Test func pausedStreamDeliversNothingUntilResumed() throws {
        let peer = Self.tlsPeer("tls-echo")
        var whilePaused: Int?
        let seen = try Self.run(host: "localhost", port: peer.port, tls: Self.testCA()) {
            stream, seen in
            stream.pause()
            stream.write(Array("held back".utf8))
            stream.onBytes = { bytes in
                seen.value.bytes += bytes
                if seen.value.bytes.count == 9 { stream.close() }
            }
            let timer = Timer(loop: stream.loop)
            timer.start(after: 200) {
                whilePaused = seen.value.bytes.count
                stream.resume()
                timer.close()
            }
        }
        #expect(whilePaused == 0)
        #expect(String(decoding: seen.bytes, as: UTF8.self) == "held back")
        _ = peer.finish()
    }

    @Test func closedStreamIsFreed() throws {
        let peer = Self.tlsPeer("tls-echo")
        let loop = try EventLoop()
        weak var weakStream: SecureStream?
        do {
            let stream = SecureStream.open(
                loop: loop, host: "localhost", port: peer.port, tls: try Self.testCA(), proxy: nil
            ) { result in
                if case .success(let stream) = result {
                    stream.onBytes = { _ in stream.close() }
                    stream.write(Array("x".utf8))
                }
            }
            weakStream = stream
        }
        #expect(weakStream != nil)
        NetTest.run(loop)
        LoopTests.closeClean(loop)
        #expect(weakStream == nil)
        #expect(peer.finish().contains("unwrap ok"))
    }
}

/// A mutable box, so callbacks can fill in what a test checks afterwards.
final class Box<Value> {
    /// The value.
    var value: Value

    /// A box holding `value`.
    init(_ value: Value) {
        self.value = value
    }
}
