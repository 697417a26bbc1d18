import Testing

@testable import Runner

/// Case 14 and the close handshake: masked server frames fail 1002 and never
/// yield a close code from mask bytes; received close frames are checked;
/// the client's own close is legal on the wire and bounded in time.
@Suite struct WebSocketCloseTests {
    typealias S = WebSocketTestSupport

    @Test(arguments: [
        ("M1: masked text", "81 82 11 22 33 44 79 4b"),
        ("M2: masked close", "88 82 03 e8 00 00 00 00"),
        ("masked ping", "89 80 01 02 03 04"),
    ])
    func maskedServerFrameFailsWith1002(name: String, hex: String) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.recorder.texts.isEmpty, "\(name), \(split)")
            #expect(opened.sentCloseCodes == [1002], "\(name), \(split)")
            guard case .protocolViolation(1002, let detail) = opened.recorder.ends.first else {
                Issue.record("\(name), \(split): ended \(opened.recorder.ends)")
                return
            }
            #expect(detail == "masked frame from the server", "\(name), \(split)")
        }
    }

    @Test(arguments: [
        ("C1: 1-byte payload", "88 01 03", UInt16(1002)),
        ("C2: 1005 on the wire", "88 02 03 ed", 1002),
        ("C3: 1006 on the wire", "88 02 03 ee", 1002),
        ("C5: 999", "88 02 03 e7", 1002),
        ("1004 reserved", "88 02 03 ec", 1002),
        ("1015 on the wire", "88 02 03 f7", 1002),
        ("2999 reserved", "88 02 0b b7", 1002),
        ("5000 out of range", "88 02 13 88", 1002),
        ("C6: invalid UTF-8 reason", "88 04 03 e8 c3 28", 1007),
        ("close payload over 125 bytes", "88 7e 00 7e", 1002),
    ])
    func invalidCloseFrameFailsTheConnection(name: String, hex: String, code: UInt16) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.sentCloseCodes == [code], "\(name), \(split)")
            guard case .protocolViolation(code, _) = opened.recorder.ends.first else {
                Issue.record("\(name), \(split): ended \(opened.recorder.ends)")
                return
            }
        }
    }

    @Test(arguments: [
        ("C4: application code", "88 02 0b b8", UInt16?(3000), ""),
        ("normal with reason", "88 05 03 e8 62 79 65", 1000, "bye"),
        ("1012 service restart", "88 02 03 f4", 1012, ""),
        ("1013 try again later", "88 02 03 f5", 1013, ""),
        ("4999 top of the range", "88 02 13 87", 4999, ""),
        ("no code at all", "88 00", nil, ""),
    ])
    func validServerCloseIsEchoedAndEndsClean(
        name: String, hex: String, code: UInt16?, reason: String
    )
        throws
    {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(
                opened.recorder.ends == [.serverClosed(code: code, reason: reason)],
                "\(name), \(split)")
            let closes = opened.frames.filter { $0.opcode == 0x8 }
            #expect(closes.count == 1 && closes[0].masked, "\(name), \(split)")
            // The echo carries the server's code; a close without one is
            // answered by a close without one, never by 1005.
            #expect(closes.first?.closeCode == code, "\(name), \(split)")
            #expect(closes.first?.payload.count == (code == nil ? 0 : 2), "\(name), \(split)")
            #expect(opened.transport.closeCount == 1, "\(name), \(split)")
        }
    }

    @Test func tryAgainLaterCloseAsksTheBackoffForAFloor() {
        #expect(WebSocketEnd.serverClosed(code: 1013, reason: "").backoffHint == .tryAgainLater)
        #expect(WebSocketEnd.serverClosed(code: 1000, reason: "").backoffHint == BackoffHint.none)
        #expect(WebSocketEnd.serverClosed(code: nil, reason: "").code == 1005)
    }

    @Test func nothingAfterTheServerCloseIsDelivered() throws {
        let opened = try OpenedClient()
        opened.feed(S.close(1000) + S.text("late"))
        #expect(opened.recorder.texts.isEmpty)
        #expect(opened.recorder.ends == [.serverClosed(code: 1000, reason: "")])
        opened.finish()
    }

    @Test(arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
    func closeCodesNeverSentAreUnrepresentable(code: UInt16) {
        #expect(WebSocketCloseCode(rawValue: code) == nil)
    }

    @Test(arguments: [
        UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ])
    func closeCodesAllowedOnTheWireAreRepresentable(code: UInt16) {
        #expect(WebSocketCloseCode(rawValue: code)?.rawValue == code)
    }

    @Test func longReasonIsCutToOneHundredTwentyThreeBytesOnACharacterBoundary() throws {
        // The case's 200-byte reason, in two-byte characters: the 123rd byte
        // is the first half of one, so the cut falls before it.
        let reason = String(repeating: "é", count: 100)
        let opened = try OpenedClient()
        opened.client.close(code: .goingAway, reason: reason)
        let close = opened.frames.last
        #expect(close?.opcode == 0x8 && close?.masked == true)
        #expect(close?.closeCode == 1001)
        let sentReason = Array(close?.payload.dropFirst(2) ?? [])
        #expect(sentReason.count == 122)
        let text = String(validating: sentReason, as: UTF8.self)
        #expect(text.map { reason.hasPrefix($0) } == true)
        opened.finish()
    }

    @Test func clientCloseWaitsForTheServerThenEnds() throws {
        let opened = try OpenedClient()
        opened.client.close(code: .goingAway, reason: "runner shutdown")
        #expect(opened.recorder.ends.isEmpty)
        #expect(opened.transport.closeCount == 0)
        #expect(throws: WebSocketSendError.notOpen) { try opened.client.send(text: "late") }
        opened.feed(S.text("dropped") + S.close(1001))
        #expect(opened.recorder.texts.isEmpty)
        #expect(
            opened.recorder.ends == [.clientClosed(code: 1001, serverCode: 1001, answered: true)])
        #expect(opened.transport.closeCount == 1)
        #expect(opened.sentCloseCodes == [1001])
        opened.finish()
    }

    @Test func clientCloseWithoutReplyTimesOutAndClosesTheTransport() throws {
        let opened = try OpenedClient(
            configuration: WebSocketConfiguration(
                closeTimeoutMilliseconds: 5, heartbeatIntervalMilliseconds: nil))
        opened.client.close(code: .normal, reason: "bye")
        opened.loop.run()
        #expect(
            opened.recorder.ends == [.clientClosed(code: 1000, serverCode: nil, answered: false)])
        #expect(opened.transport.closeCount == 1)
        opened.finish()
    }

    @Test func answerThatCannotBeWrittenStillEndsAtTheTimeout() throws {
        let opened = try OpenedClient(
            configuration: WebSocketConfiguration(
                closeTimeoutMilliseconds: 5, heartbeatIntervalMilliseconds: nil))
        opened.transport.holdWrites = true
        opened.feed(S.close(1000))
        #expect(opened.recorder.ends.isEmpty)
        opened.loop.run()
        #expect(opened.recorder.ends == [.serverClosed(code: 1000, reason: "")])
        #expect(opened.transport.closeCount == 1)
        opened.finish()
    }

    @Test func transportEndingWithoutACloseIsAbnormal() throws {
        let opened = try OpenedClient()
        opened.client.transportEnded("FIN without close_notify")
        #expect(opened.recorder.ends == [.transportLost("FIN without close_notify")])
        #expect(opened.recorder.ends.first?.code == 1006)
        #expect(opened.frames.isEmpty)
        opened.finish()
    }

    @Test func endIsReportedOnce() throws {
        let opened = try OpenedClient()
        opened.feed(S.close(1000))
        opened.client.transportEnded("peer closed")
        opened.client.close()
        #expect(opened.recorder.ends.count == 1)
        opened.finish()
    }
}
