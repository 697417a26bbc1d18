import Testing

@testable import Runner

/// Frame headers: the three length forms at their boundaries, the message
/// cap checked from the header, reserved bits, opcodes, and masking of
/// everything the client sends.
@Suite struct WebSocketFramingTests {
    typealias S = WebSocketTestSupport

    /// A text of `count` bytes that is not all one letter.
    static func payload(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65535, 65536, 70000])
    func payloadLengthsAtEveryFormBoundaryArrive(count: Int) throws {
        let body = Self.payload(count)
        let frame = S.frame(0x1, body)
        let headerLength = count < 126 ? 2 : count < 65536 ? 4 : 10
        #expect(frame.count == headerLength + count)
        // Splits across the header and the first payload bytes, the middle
        // and the end: where the length form is read and where it runs out.
        let cuts = Set(
            Array(0...min(frame.count, 14)) + [frame.count / 2, frame.count - 1, frame.count])
        for cut in cuts.sorted() {
            let opened = try OpenedClient()
            opened.feed(frame, splits: [cut])
            #expect(
                opened.recorder.texts == [String(decoding: body, as: UTF8.self)],
                "\(count) at \(cut)")
            #expect(opened.recorder.ends.isEmpty, "\(count) at \(cut)")
            opened.finish()
        }
    }

    @Test(arguments: [
        ("5 bytes in the 16-bit form", S.frame(0x1, Array("hello".utf8), length: .sixteen)),
        (
            "125 bytes in the 16-bit form",
            S.frame(0x1, [UInt8](repeating: 0x61, count: 125), length: .sixteen)
        ),
        (
            "65535 bytes in the 64-bit form",
            S.frame(0x1, [UInt8](repeating: 0x61, count: 65535), length: .sixtyFour)
        ),
        ("64-bit length with the top bit set", S.frame(0x2, [], claimedLength: 1 << 63)),
    ])
    func badLengthEncodingFailsWith1002(name: String, frame: [UInt8]) throws {
        let opened = try OpenedClient()
        opened.feed(frame)
        #expect(opened.recorder.texts.isEmpty, "\(name)")
        #expect(opened.sentCloseCodes == [1002], "\(name)")
        opened.finish()
    }

    static let capped = WebSocketConfiguration(
        maxMessageBytes: 1000, heartbeatIntervalMilliseconds: nil)

    @Test func messageAtTheCapArrives() throws {
        let opened = try OpenedClient(configuration: Self.capped)
        opened.feed(S.frame(0x1, Self.payload(1000)))
        #expect(opened.recorder.texts.count == 1)
        opened.finish()
    }

    @Test(arguments: [UInt64(1001), UInt64(1) << 32, UInt64(1) << 40, UInt64.max >> 1])
    func claimedLengthOverTheCapFailsWith1009FromTheHeaderAlone(claimed: UInt64) throws {
        // Only the header arrives: the refusal cannot wait for the payload,
        // and nothing the size of the claim is ever allocated.
        try OpenedClient.everySplit(
            S.frame(0x2, [], claimedLength: claimed), configuration: Self.capped
        ) {
            opened, split in
            #expect(opened.sentCloseCodes == [1009], "\(claimed), \(split)")
            guard case .protocolViolation(1009, _) = opened.recorder.ends.first else {
                Issue.record("\(claimed), \(split): ended \(opened.recorder.ends)")
                return
            }
        }
    }

    @Test func fragmentsAddingUpPastTheCapFailWith1009() throws {
        let opened = try OpenedClient(configuration: Self.capped)
        opened.feed(S.frame(0x1, Self.payload(600), fin: false))
        #expect(opened.recorder.ends.isEmpty)
        opened.feed(Array(S.frame(0x0, Self.payload(600)).prefix(4)))
        #expect(opened.recorder.texts.isEmpty)
        #expect(opened.sentCloseCodes == [1009])
        opened.finish()
    }

    @Test(arguments: [
        ("RSV1", "c1 01 61"), ("RSV2", "a1 01 61"), ("RSV3", "91 01 61"),
        ("RSV on a ping", "c9 00"),
        ("opcode 3", "83 00"), ("opcode 7", "87 00"), ("opcode B", "8b 00"), ("opcode F", "8f 00"),
        ("ping over 125 bytes", "89 7e 00 7e"),
    ])
    func reservedBitsAndUnknownOpcodesFailWith1002(name: String, hex: String) throws {
        try OpenedClient.everySplit(S.hex(hex)) { opened, split in
            #expect(opened.sentCloseCodes == [1002], "\(name), \(split)")
            guard case .protocolViolation(1002, _) = opened.recorder.ends.first else {
                Issue.record("\(name), \(split): ended \(opened.recorder.ends)")
                return
            }
        }
    }

    @Test func guardForwardsDataAndControlFramesByteForByte() {
        let stream = S.text("a", fin: false) + S.frame(0x9, [1, 2]) + S.frame(0x0, Array("b".utf8))
        for cut in 0...stream.count {
            var guardian = FrameGuard(maxMessageBytes: 100)
            let events = guardian.scan(Array(stream[..<cut])) + guardian.scan(Array(stream[cut...]))
            let forwarded = events.flatMap { event -> [UInt8] in
                if case .forward(let bytes) = event { return bytes }
                Issue.record("split \(cut): unexpected \(event)")
                return []
            }
            #expect(forwarded == stream, "split \(cut)")
        }
    }

    @Test func guardTakesTheCloseFrameOutOfTheStream() {
        var guardian = FrameGuard(maxMessageBytes: 100)
        let events = guardian.scan(S.text("x") + S.close(1013, "later") + S.text("ignored"))
        #expect(events == [.forward(S.text("x")), .close(code: 1013, reason: "later")])
    }

    @Test func binaryMessageIsRefusedWith1003() throws {
        let opened = try OpenedClient()
        opened.feed(S.frame(0x2, [1, 2, 3]) + S.text("after"))
        #expect(opened.recorder.texts.isEmpty)
        #expect(opened.sentCloseCodes == [1003])
        opened.finish()
    }

    @Test func everyClientFrameIsMaskedWithItsOwnKey() throws {
        let opened = try OpenedClient()
        try opened.client.send(text: "one")
        try opened.client.send(text: String(repeating: "long ", count: 40))
        opened.feed(S.frame(0x9, Array("p".utf8)))
        opened.client.close(code: .normal, reason: "done")
        let frames = opened.frames
        #expect(frames.map(\.opcode) == [0x1, 0x1, 0xA, 0x8])
        #expect(frames.allSatisfy { $0.masked && $0.rsv == 0 && $0.fin })
        #expect(frames[0].payload == Array("one".utf8))
        #expect(frames[2].payload == Array("p".utf8))

        // Mask keys sit after the 2- or 4-byte header of each frame.
        var keys: [[UInt8]] = []
        var stream = Array(opened.transport.stream.dropFirst(opened.requestBytes))
        for frame in frames {
            let header = frame.payload.count < 126 ? 2 : 4
            keys.append(Array(stream[header..<(header + 4)]))
            stream.removeFirst(header + 4 + frame.payload.count)
        }
        #expect(Set(keys).count == keys.count)
        opened.finish()
    }
}
