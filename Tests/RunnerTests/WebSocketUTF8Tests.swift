import Testing

@testable import Runner

/// Case 15: text is validated as UTF-8 over the whole message, across frame
/// and read boundaries; invalid text fails 1007 and reaches no one.
@Suite struct WebSocketUTF8Tests {
    typealias S = WebSocketTestSupport

    @Test(arguments: [
        ("V1: split inside a code point", "01 03 c3 a6 c3 80 05 b8 c3 a5 c3 a6", "æøåæ"),
        ("V2: one frame", "81 08 c3 a6 c3 b8 c3 a5 c3 a6", "æøåæ"),
        (
            "V3: U+10FFFF split 2/2", "01 07 31 32 33 34 35 f4 8f 80 07 bf bf 31 32 33 34 35",
            "12345\u{10FFFF}12345"
        ),
        ("four fragments of one character", "01 01 f0 00 01 9f 00 01 98 80 01 80", "😀"),
    ])
    func validTextSplitAnywhereIsDelivered(name: String, hex: String, expected: String) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.recorder.texts == [expected], "\(name), \(split)")
            #expect(opened.recorder.ends.isEmpty, "\(name), \(split)")
        }
    }

    @Test func readsOfSevenThenThreeBytesGiveTheMessage() throws {
        // Case 15 V2 exactly as the test server writes it: 7 bytes, then 3.
        let opened = try OpenedClient()
        opened.feed(S.hex("81 08 c3 a6 c3 b8 c3 a5 c3 a6"), splits: [7])
        #expect(opened.recorder.texts == ["æøåæ"])
        opened.finish()
    }

    @Test func runRequestSplitInsideACharacterParsesWhole() throws {
        let json = #"{"type":"run","action":"flood","args":{"comment":"café"}}"#
        let bytes = Array(json.utf8)
        let cut = bytes.firstIndex(of: 0xc3)! + 1
        let frames =
            S.frame(0x1, Array(bytes[..<cut]), fin: false) + S.frame(0x0, Array(bytes[cut...]))
        try OpenedClient.everySplit(frames) { opened, split in
            #expect(opened.recorder.texts == [json], "\(split)")
            let parsed = try? JSONReader.parse(opened.recorder.texts.first ?? "")
            #expect(parsed != nil, "\(split)")
        }
    }

    @Test(arguments: [
        ("X1: invalid sequence", "81 02 c3 28"),
        ("X2: message ends inside a code point", "01 01 c3 80 00"),
        ("X3: overlong encoding", "81 02 c0 af"),
        ("X4: UTF-16 surrogate", "81 03 ed a0 80"),
        ("surrogate split across fragments", "01 01 ed 80 02 a0 80"),
        ("invalid byte in the second fragment", "01 02 61 62 80 02 63 ff"),
        ("above U+10FFFF split across fragments", "01 02 f4 90 80 02 80 80"),
    ])
    func invalidTextFailsWith1007AndIsNotDelivered(name: String, hex: String) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.recorder.texts.isEmpty, "\(name), \(split)")
            #expect(opened.sentCloseCodes == [1007], "\(name), \(split)")
            guard case .protocolViolation(1007, _) = opened.recorder.ends.first else {
                Issue.record("\(name), \(split): ended \(opened.recorder.ends)")
                return
            }
        }
    }

    @Test func invalidTextInterruptedByAPingStillFails() throws {
        // The validator's state must survive the control frame in between.
        let opened = try OpenedClient()
        opened.feed(S.hex("01 01 ed 89 00 80 02 a0 80"))
        #expect(opened.recorder.texts.isEmpty)
        #expect(opened.sentCloseCodes == [1007])
        opened.finish()
    }
}
