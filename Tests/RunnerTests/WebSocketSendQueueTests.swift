import Testing

@testable import Runner

/// Case 17: one writer, one outstanding transport write, frames cut into
/// writes resumed with the same bytes, control frames overtaking data only
/// between frames, and a bounded queue with water marks.
@Suite struct WebSocketSendQueueTests {
    typealias S = WebSocketTestSupport

    /// The texts and pong payloads in the client's stream, failing the test
    /// if it is not a sequence of well-formed masked frames.
    static func decoded(
        _ opened: OpenedClient, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> (texts: [String], pongs: [[UInt8]], frames: [S.ClientFrame]) {
        guard let frames = S.decode(Array(opened.transport.stream.dropFirst(opened.requestBytes)))
        else {
            Issue.record("client stream is not whole frames", sourceLocation: sourceLocation)
            return ([], [], [])
        }
        #expect(
            frames.allSatisfy { $0.masked && $0.fin && $0.rsv == 0 }, sourceLocation: sourceLocation
        )
        let texts = frames.filter { $0.opcode == 0x1 }.map {
            String(decoding: $0.payload, as: UTF8.self)
        }
        return (texts, frames.filter { $0.opcode == 0xA }.map(\.payload), frames)
    }

    static func line(_ n: Int) -> String {
        "line \(n) " + String(repeating: "x", count: n % 150)
    }

    @Test func exactlyOneTransportWriteIsOutstandingAtATime() throws {
        let opened = try OpenedClient()
        opened.transport.holdWrites = true
        var pings: [[UInt8]] = []
        for n in 0..<50 {
            try opened.client.send(text: Self.line(n))
            if n % 10 == 5 {
                pings.append(Array("ping \(n)".utf8))
                opened.feed(S.frame(0x9, pings.last!))
            }
            #expect(opened.transport.outstanding == 1)
        }
        while !opened.transport.pending.isEmpty {
            let before = opened.transport.writes.count
            opened.transport.completeWrite()
            // The next write starts only after the completion, and only one.
            #expect(opened.transport.writes.count <= before + 1)
            #expect(opened.transport.outstanding <= 1)
        }
        #expect(opened.transport.maxOutstanding == 1)
        let (texts, pongs, _) = Self.decoded(opened)
        #expect(texts == (0..<50).map(Self.line))
        #expect(pongs == pings)
        opened.finish()
    }

    @Test func framesCutIntoTinyWritesStayWholeAndInOrder() throws {
        let config = WebSocketConfiguration(writeChunkBytes: 7, heartbeatIntervalMilliseconds: nil)
        let opened = try OpenedClient(configuration: config)
        opened.transport.holdWrites = true
        for n in 0..<20 { try opened.client.send(text: Self.line(n * 17)) }
        opened.feed(S.frame(0x9, Array("mid".utf8)))
        for n in 20..<30 { try opened.client.send(text: Self.line(n * 17)) }
        opened.transport.drain()

        #expect(opened.transport.writes.dropFirst().allSatisfy { $0.count <= 7 })
        let (texts, pongs, frames) = Self.decoded(opened)
        #expect(texts == (0..<30).map { Self.line($0 * 17) })
        #expect(pongs == [Array("mid".utf8)])
        // The pong overtook the queued data at the first frame boundary: right
        // after the frame that was half written when the ping came.
        #expect(frames.firstIndex { $0.opcode == 0xA } == 1)
        opened.finish()
    }

    @Test func manyMessagesOverASynchronousTransportArriveInOrder() throws {
        let opened = try OpenedClient()
        for n in 0..<2000 { try opened.client.send(text: Self.line(n)) }
        let (texts, _, _) = Self.decoded(opened)
        #expect(texts == (0..<2000).map(Self.line))
        #expect(opened.transport.maxOutstanding == 1)
        opened.finish()
    }

    /// A message sent in parts is one frame whose mask runs on across the
    /// parts: parts of every length modulo 4, empty ones too, over small
    /// (7-byte) and default writes.
    @Test(arguments: [7, WebSocketConfiguration.defaultWriteChunkBytes])
    func partsOfAMessageArriveAsOneText(_ chunk: Int) throws {
        let config = WebSocketConfiguration(
            writeChunkBytes: chunk, heartbeatIntervalMilliseconds: nil)
        let opened = try OpenedClient(configuration: config)
        var expected: [String] = []
        for n in 0..<40 {
            let parts = (0..<(n % 5)).map { k in String(Self.line(n * 3 + k).prefix((n + k) % 9)) }
            try parts.map { Array($0.utf8) }.withUnsafeParts { try opened.client.send(utf8: $0) }
            expected.append(parts.joined())
        }
        let (texts, _, frames) = Self.decoded(opened)
        #expect(texts == expected)
        #expect(frames.count == 40)
        opened.finish()
    }

    static let bounded = WebSocketConfiguration(
        maxQueuedBytes: 1000, highWaterBytes: 600, lowWaterBytes: 200, writeChunkBytes: 100,
        heartbeatIntervalMilliseconds: nil)

    /// Sends 100-byte messages until the queue refuses one; returns how many
    /// it took and the refusal.
    static func fill(_ opened: OpenedClient) -> (Int, WebSocketSendError?) {
        let message = String(repeating: "m", count: 100)
        for n in 0..<100 {
            do throws(WebSocketSendError) {
                try opened.client.send(text: message)
            } catch {
                return (n, error)
            }
        }
        return (100, nil)
    }

    @Test func sendRefusesPastTheQueueBoundAndReportsWaterMarks() throws {
        let opened = try OpenedClient(configuration: Self.bounded)
        opened.transport.holdWrites = true
        let (accepted, refusal) = Self.fill(opened)
        guard case .queueFull(let queued, 1000) = refusal else {
            Issue.record("no refusal after \(accepted) messages: \(String(describing: refusal))")
            return
        }
        #expect(queued + 100 > 1000 && queued <= 1000)
        #expect(opened.client.queuedBytes <= 1000)
        #expect(!opened.client.isWritable)
        #expect(opened.recorder.writability == [false])

        opened.transport.drain()
        #expect(opened.recorder.writability == [false, true])
        #expect(opened.client.isWritable)
        #expect(Self.decoded(opened).texts.count == accepted)
        try opened.client.send(text: "after the drain")
        opened.finish()
    }

    @Test func writabilityReturnsOnlyBelowTheLowMark() throws {
        let opened = try OpenedClient(configuration: Self.bounded)
        opened.transport.holdWrites = true
        _ = Self.fill(opened)
        while opened.client.queuedBytes > Self.bounded.lowWaterBytes {
            #expect(opened.recorder.writability == [false])
            opened.transport.completeWrite()
        }
        #expect(opened.recorder.writability == [false, true])
        opened.transport.drain()
        opened.finish()
    }

    @Test func pingsAreAnsweredWhileTheQueueIsFull() throws {
        let opened = try OpenedClient(configuration: Self.bounded)
        opened.transport.holdWrites = true
        _ = Self.fill(opened)
        opened.feed(S.frame(0x9, Array("are you there".utf8)))
        opened.transport.drain()
        #expect(Self.decoded(opened).pongs == [Array("are you there".utf8)])
        opened.finish()
    }

    @Test func pingFloodPausesReadingUntilTheQueueDrains() throws {
        let opened = try OpenedClient(configuration: Self.bounded)
        opened.transport.holdWrites = true
        _ = Self.fill(opened)
        #expect(opened.transport.pauses == 0)
        for n in 0..<10 { opened.feed(S.frame(0x9, [UInt8](repeating: UInt8(n), count: 125))) }
        #expect(opened.transport.pauses == 1)
        #expect(opened.transport.resumes == 0)
        opened.transport.drain()
        #expect(opened.transport.resumes == 1)
        #expect(Self.decoded(opened).pongs.count == 10)
        opened.finish()
    }

    @Test func sendRefusesAMessageLargerThanTheWholeQueue() throws {
        let opened = try OpenedClient(configuration: Self.bounded)
        #expect(throws: WebSocketSendError.messageTooLarge(bytes: 1001, limit: 1000)) {
            try opened.client.send(text: String(repeating: "z", count: 1001))
        }
        opened.finish()
    }

    @Test func sendBeforeTheHandshakeIsRefused() throws {
        let loop = try EventLoop()
        let client = WebSocketClient(transport: MemoryTransport(), request: S.request(), loop: loop)
        #expect(throws: WebSocketSendError.notOpen) { try client.send(text: "early") }
        client.start()
        #expect(throws: WebSocketSendError.notOpen) { try client.send(text: "early") }
        client.transportEnded("test over")
        LoopTests.closeClean(loop)
    }

    @Test func failedWriteEndsTheConnection() throws {
        let opened = try OpenedClient()
        opened.transport.writeSucceeds = false
        try opened.client.send(text: "doomed")
        #expect(opened.recorder.ends == [.transportLost("transport write failed")])
        #expect(opened.transport.closeCount == 1)
        #expect(throws: WebSocketSendError.notOpen) { try opened.client.send(text: "after") }
        opened.finish()
    }
}

extension Array where Element == [UInt8] {
    /// Calls `body` with raw views of every array at once.
    func withUnsafeParts<R>(_ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        func nest(_ i: Int, _ views: [UnsafeRawBufferPointer]) throws -> R {
            guard i < count else { return try body(views) }
            return try self[i].withUnsafeBytes { try nest(i + 1, views + [$0]) }
        }
        return try nest(0, [])
    }
}
