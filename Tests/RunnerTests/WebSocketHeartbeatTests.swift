import Testing

@testable import Runner

/// Liveness: a ping each interval, and a ping unanswered at the next tick
/// closes a half-open connection locally.
@Suite struct WebSocketHeartbeatTests {
    typealias S = WebSocketTestSupport

    @Test func pingThenHalfOpenWhenNoPongCame() {
        var beat = Heartbeat(intervalMilliseconds: 10)
        guard case .ping(let payload) = beat.tick() else {
            Issue.record("first tick did not ping")
            return
        }
        #expect(payload.count == 8)
        #expect(beat.tick() == .halfOpen)
    }

    @Test func pongForTheOutstandingPingKeepsItAlive() {
        var beat = Heartbeat(intervalMilliseconds: 10)
        var payloads: [[UInt8]] = []
        for _ in 0..<5 {
            guard case .ping(let payload) = beat.tick() else {
                Issue.record("answered heartbeat went half-open")
                return
            }
            payloads.append(payload)
            beat.received(pong: payload)
        }
        #expect(Set(payloads).count == 5)
    }

    @Test(arguments: [[UInt8](), Array("unsolicited".utf8), [0, 0, 0, 0, 0, 0, 0, 9]])
    func otherPongsDoNotAnswerThePing(pong: [UInt8]) {
        var beat = Heartbeat(intervalMilliseconds: 10)
        _ = beat.tick()
        beat.received(pong: pong)
        #expect(beat.tick() == .halfOpen)
    }

    @Test func clientWithASilentServerEndsWithNoPong() throws {
        let opened = try OpenedClient(
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: 2))
        // Only the heartbeat timer is live: the loop runs until it ends.
        opened.loop.run()
        #expect(opened.recorder.ends == [.noPong])
        #expect(opened.recorder.ends.first?.code == 1006)
        #expect(opened.transport.closeCount == 1)
        #expect(opened.frames.map(\.opcode) == [0x9])
        #expect(opened.frames.first?.masked == true)
        opened.finish()
    }

    @Test func pongIsNotAwaitedWhileOwnOutputIsStillQueued() throws {
        // A slow link: the ping sits behind queued output, so the peer has not
        // seen it. The verdict waits until the queue drains.
        let opened = try OpenedClient(
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: 2))
        opened.transport.holdWrites = true
        try opened.client.send(text: String(repeating: "x", count: 10_000))
        let ticks = Timer(loop: opened.loop)
        var turns = 0
        ticks.start(after: 1, repeating: 1) {
            turns += 1
            if turns == 20 { opened.loop.stop() }
        }
        opened.loop.run()
        // Many heartbeat intervals passed with the write held: still open.
        #expect(opened.recorder.ends.isEmpty)
        #expect(opened.client.isOpen)
        // Once the queue drains and the pong still does not come, it ends.
        opened.transport.drain()
        opened.transport.holdWrites = false
        ticks.close()
        opened.loop.run()
        #expect(opened.recorder.ends == [.noPong])
        opened.finish()
    }

    @Test func clientWithAnAnsweringServerStaysOpen() throws {
        let opened = try OpenedClient(
            configuration: WebSocketConfiguration(heartbeatIntervalMilliseconds: 2))
        var answered = 0
        let reply = Timer(loop: opened.loop)
        opened.transport.onWrite = { bytes in
            guard let frame = S.decode(bytes)?.first, frame.opcode == 0x9 else { return }
            // Answer from the loop, as a server's pong would arrive, not from
            // inside the client's write.
            reply.start(after: 0) {
                answered += 1
                opened.client.receive(S.frame(0xA, frame.payload))
                if answered == 5 {
                    opened.client.close()
                    opened.client.receive(S.close(1000))
                    reply.close()
                }
            }
        }
        opened.loop.run()
        #expect(answered == 5)
        #expect(
            opened.recorder.ends == [.clientClosed(code: 1000, serverCode: 1000, answered: true)])
        opened.finish()
    }
}
