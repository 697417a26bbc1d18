import Testing

@testable import Runner

/// The `run.output` path: lines encoded straight into the outbox's one
/// buffer, batches cut from it, and the eight-bytes-at-a-time JSON escaping.
@MainActor @Suite struct CloudOutputEncodingTests {
    /// Texts that put every escaped byte before, inside and after an
    /// eight-byte word, and multi-byte characters across word edges.
    nonisolated static let texts: [String] = [
        "", "a", "plain ascii line of some length, longer than one word",
        "\"", "\\", "\u{7F}", "\u{00}", "\u{1F}", "\t", "\n", "\r",
        "1234567\"", "12345678\"", "123456789\\", "abc\u{7F}defghij\u{01}klmnop",
        "héllo wörld ünïcödé 日本語のテキスト 🙂 and more", "\u{1B}[31mred\u{1B}[0m",
        "\u{FFFD}\u{FFFD}", "0123456789abcdef0123\"456789abcdef\\0123456789abcdef\u{7F}z\u{1}",
        String(repeating: "sixteen  bytes. ", count: 3) + "\u{1F}",
        String(repeating: "é", count: 20) + "\"" + String(repeating: "日", count: 9) + "\n",
        " !#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~",
    ]

    @Test(arguments: texts)
    func encodesLinesAsJSONWriterDoes(text: String) {
        let line = OutputLine(
            stream: .stderr, seq: 1_234_567, text: text, eol: .crlf, redactions: 3,
            rules: ["r"], invalidUTF8: true)
        #expect(WireEncoder.lineBytes(line) == JSONWriter.bytes(line.json))
    }

    @Test func everyASCIIByteAtEveryPositionEscapesAsJSONWriterDoes() {
        var mismatches: [String] = []
        for byte in UInt8(0)..<0x80 {
            for position in 0..<41 {
                var bytes = [UInt8](repeating: UInt8(ascii: "k"), count: 41)
                bytes[position] = byte
                var encoded: [UInt8] = []
                bytes.withUnsafeBytes { WireEncoder.appendString($0, into: &encoded) }
                var expected: [UInt8] = []
                JSONWriter.writeString(String(decoding: bytes, as: UTF8.self), into: &expected)
                if encoded != expected { mismatches.append("byte \(byte) at \(position)") }
            }
        }
        #expect(mismatches == [])
    }

    @Test(arguments: [0, 7, 9, 10, 99, 100, 65535, Int.max])
    func writesDecimalsAsStringDoes(n: Int) {
        var out: [UInt8] = []
        WireEncoder.appendDecimal(n, into: &out)
        #expect(out == Array(String(n).utf8))
    }

    @Test func batchesAreTheFrontLinesJoinedByCommas() throws {
        var outbox = RunOutbox(lineLimit: 1 << 20)
        let lines = (1...5).map {
            OutputLine(stream: .stdout, seq: $0, text: "line \($0)", eol: .lf)
        }
        for line in lines { outbox.append(line: line, dropping: true) }

        let count = outbox.frontLineCount(maxLines: 3, maxBytes: 1 << 20)
        let message = outbox.withFrontLines(count) {
            WireEncoder.outputBytes(runID: "r", frame: 1, joinedLines: $0)
        }
        outbox.removeFront(count)

        let sent = try JSONReader.parse(message)
        #expect(sent["lines"] == .array(lines[0..<3].map(\.json)))
        #expect(outbox.frontLineCount(maxLines: 256, maxBytes: 1 << 20) == 2)
        #expect(
            outbox.withFrontLines(2) { Array($0) }
                == Array(
                    (WireEncoder.lineBytes(lines[3]) + [UInt8(ascii: ",")]
                        + WireEncoder.lineBytes(lines[4]))))
    }

    @Test func batchStopsBeforeTheByteBound() {
        var outbox = RunOutbox(lineLimit: 1 << 20)
        let line = OutputLine(stream: .stdout, seq: 1, text: "x", eol: .lf)
        let size = WireEncoder.lineBytes(line).count
        for _ in 0..<4 { outbox.append(line: line, dropping: true) }
        // Two lines and their comma fit exactly; a third does not.
        #expect(outbox.frontLineCount(maxLines: 256, maxBytes: 2 * size + 1) == 2)
        #expect(outbox.frontLineCount(maxLines: 256, maxBytes: 2 * size) == 1)
        #expect(outbox.frontLineCount(maxLines: 256, maxBytes: 1) == 1)
    }

    @Test func droppedOldestLinesLeaveTheNewestInOrder() {
        let line = { (seq: Int) in
            OutputLine(stream: .stdout, seq: seq, text: String(repeating: "z", count: 99), eol: .lf)
        }
        var outbox = RunOutbox(lineLimit: 1000)
        outbox.append(message: Array("accepted".utf8))
        for seq in 1...25 { outbox.append(line: line(seq), dropping: true) }

        #expect(outbox.droppedLines == 15)
        #expect(outbox.droppedBytes == 1500)
        #expect(outbox.lineBytes == 1000)
        guard case .message = outbox.first else {
            Issue.record("the accepted message no longer leads")
            return
        }
        outbox.removeFront(1)
        let count = outbox.frontLineCount(maxLines: 256, maxBytes: 1 << 20)
        #expect(count == 10)
        let joined = outbox.withFrontLines(count) { Array($0) }
        let expected = (16...25).map { WireEncoder.lineBytes(line($0)) }
        #expect(joined == Array(expected.joined(separator: [UInt8(ascii: ",")])))
    }

    @Test func withTheLinkUpABatchLargerThanTheBoundIsKeptWhole() {
        // One pipe read can hold more text than a run's bound when the
        // concurrent-run limit is high (16 KiB each at 1024 runs): with the
        // link up none of it may be dropped; with it down the oldest go.
        let lines = (1...40).map {
            OutputLine(stream: .stdout, seq: $0, text: String(repeating: "k", count: 99), eol: .lf)
        }
        var up = RunOutbox(lineLimit: 1000)
        up.append(lines: lines, dropping: false)
        #expect(up.droppedLines == 0)
        #expect(up.lineBytes == 4000)
        #expect(up.frontLineCount(maxLines: 256, maxBytes: 1 << 20) == 40)

        var down = RunOutbox(lineLimit: 1000)
        down.append(lines: lines, dropping: true)
        #expect(down.droppedLines == 30)
        #expect(down.lineBytes == 1000)
        // Once the link is down again, the next line trims the kept surplus.
        up.append(line: lines[0], dropping: true)
        #expect(up.lineBytes == 1000)
        #expect(up.droppedLines == 31)
    }

    @Test func outboxEmptiesEachTimeEverythingIsSent() {
        var outbox = RunOutbox(lineLimit: 1 << 20)
        for round in 1...100 {
            for seq in 1...50 {
                outbox.append(
                    line: OutputLine(stream: .stdout, seq: seq, text: "round \(round)", eol: .lf),
                    dropping: true)
            }
            let count = outbox.frontLineCount(maxLines: 256, maxBytes: 1 << 20)
            #expect(count == 50)
            outbox.removeFront(count)
            #expect(outbox.isEmpty)
            #expect(outbox.lineBytes == 0)
        }
    }

    @Test func releasingTheBufferKeepsWhatIsStillQueued() {
        var outbox = RunOutbox(lineLimit: 1 << 20)
        let first = OutputLine(stream: .stdout, seq: 1, text: "kept", eol: .lf)
        outbox.append(lines: [first], dropping: true)
        outbox.releaseSpareCapacity()
        #expect(outbox.withFrontLines(1) { Array($0) } == WireEncoder.lineBytes(first))

        outbox.removeFront(1)
        outbox.releaseSpareCapacity()
        let second = OutputLine(stream: .stderr, seq: 1, text: "after", eol: .none)
        outbox.append(lines: [second], dropping: true)
        #expect(outbox.frontLineCount(maxLines: 256, maxBytes: 1 << 20) == 1)
        #expect(outbox.withFrontLines(1) { Array($0) } == WireEncoder.lineBytes(second))
    }
}
