import Testing

@testable import Runner

/// Case 13: control frames between the fragments of a message are handled
/// and answered; fragmented control frames and stray fragments fail 1002.
@Suite struct WebSocketFragmentTests {
    typealias S = WebSocketTestSupport

    @Test func pingBetweenFragmentsIsAnsweredAndTheMessageKept() throws {
        // Case 13 A: text "ab" (FIN=0), ping (empty), continuation "cd".
        try OpenedClient.everySplit(S.hex("01 02 61 62 89 00 80 02 63 64")) { opened, name in
            #expect(opened.recorder.texts == ["abcd"], "\(name)")
            let sent = Array(opened.transport.stream.dropFirst(opened.requestBytes))
            // Exactly `8a 80 <4-byte key>`: a masked, empty pong.
            #expect(sent.count == 6 && sent[0] == 0x8a && sent[1] == 0x80, "\(name)")
            #expect(opened.recorder.ends.isEmpty, "\(name)")
        }
    }

    @Test func unsolicitedPongIsIgnoredAndPingEchoed() throws {
        // Case 13 B: fragment, unsolicited pong, ping "pin", final fragment.
        try OpenedClient.everySplit(S.hex("01 01 61 8a 00 89 03 70 69 6e 80 01 62")) {
            opened, name in
            #expect(opened.recorder.texts == ["ab"], "\(name)")
            let frames = opened.frames
            #expect(
                frames == [
                    .init(fin: true, rsv: 0, opcode: 0xA, masked: true, payload: Array("pin".utf8))
                ],
                "\(name)")
            let sent = Array(opened.transport.stream.dropFirst(opened.requestBytes))
            #expect(Array(sent.prefix(2)) == [0x8a, 0x83], "\(name)")
        }
    }

    @Test(arguments: [
        ("C: ping with FIN=0", "09 00"),
        ("D: continuation with no message", "80 01 78"),
        ("E: new text inside a fragmented message", "01 01 61 81 01 62"),
        ("fragmented close", "08 02 03 e8"),
        ("fragmented pong", "0a 00"),
        ("ping inside a message, itself fragmented", "01 01 61 09 00 80 01 62"),
    ])
    func badFragmentationFailsWith1002(name: String, hex: String) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.recorder.texts.isEmpty, "\(name), \(split)")
            #expect(opened.sentCloseCodes == [1002], "\(name), \(split)")
            guard case .protocolViolation(1002, _) = opened.recorder.ends.first else {
                Issue.record("\(name), \(split): ended \(opened.recorder.ends)")
                return
            }
            #expect(opened.transport.closeCount == 1, "\(name), \(split)")
        }
    }

    @Test func messagesBeforeAViolationAreDeliveredAndNothingAfter() throws {
        let bytes = S.text("before") + S.hex("80 01 78") + S.text("after")
        try OpenedClient.everySplit(bytes) { opened, name in
            #expect(opened.recorder.texts == ["before"], "\(name)")
            #expect(opened.sentCloseCodes == [1002], "\(name)")
        }
    }

    @Test func manyFragmentsWithControlFramesBetweenReassemble() throws {
        var bytes = S.text("a", fin: false)
        for letter in ["b", "c", "d"] {
            bytes += S.frame(0x9, Array("p\(letter)".utf8))
            bytes += S.frame(0x0, Array(letter.utf8), fin: false)
        }
        bytes += S.frame(0x0, Array("e".utf8))
        let opened = try OpenedClient()
        opened.feed(bytes)
        #expect(opened.recorder.texts == ["abcde"])
        #expect(opened.frames.map(\.payload) == ["pb", "pc", "pd"].map { Array($0.utf8) })
        opened.finish()
    }
}
