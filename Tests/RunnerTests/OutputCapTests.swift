import Testing

@testable import Runner

@Suite struct OutputCapTests {
    func line(
        _ text: String, _ seq: Int, _ stream: OutputLine.Stream = .stdout, redactions: Int = 0,
        rules: [String] = [], invalid: Bool = false
    ) -> OutputLine {
        OutputLine(
            stream: stream, seq: seq, text: text, eol: .lf, redactions: redactions, rules: rules,
            invalidUTF8: invalid)
    }

    @Test func forwardsUntilTheLineCapThenKeepsTheTail() {
        var cap = OutputCap(maxBytes: 1_000, maxLines: 3)
        let decisions = (1...5).map { cap.offer(line("l\($0)", $0)) }
        #expect(decisions == [.forward, .forward, .forward, .withhold, .withhold])
        let end = cap.finish()
        #expect(end.gap == nil)
        #expect(end.tail.map(\.text) == ["l4", "l5"])
    }

    @Test func byteCapStopsForwardingForGood() {
        var cap = OutputCap(maxBytes: 12, maxLines: 100)
        #expect(cap.offer(line("123456789", 1)) == .forward)
        #expect(cap.offer(line("abcdef", 2)) == .withhold)
        // Small enough to fit, but forwarding has stopped: no holes in the stream.
        #expect(cap.offer(line("", 3)) == .withhold)
        #expect(cap.counts.forwarded == LineTally(lines: 1, bytes: 10))
        #expect(cap.counts.capReached)
    }

    @Test func tailRingKeepsTheLastLinesInOrder() {
        var cap = OutputCap(maxBytes: 1_000_000, maxLines: 0)
        for i in 1...100 { _ = cap.offer(line("n\(i)", i, i % 2 == 0 ? .stderr : .stdout)) }
        let end = cap.finish()
        #expect(end.tail.map(\.text) == (81...100).map { "n\($0)" })
        #expect(end.tail.map(\.seq) == Array(81...100))
        #expect(end.tail.first?.stream == .stdout)
        let droppedBytes = (1...80).reduce(0) { $0 + "n\($1)".utf8.count + 1 }
        #expect(end.gap == OutputCap.Gap(lines: 80, bytes: droppedBytes))
    }

    @Test func tailRingIsBoundedInBytes() {
        var cap = OutputCap(maxBytes: 0, maxLines: 1_000)
        let big = String(repeating: "b", count: 9_999)
        for i in 1...10 { _ = cap.offer(line(big, i)) }
        let end = cap.finish()
        #expect(end.tail.map(\.seq) == [5, 6, 7, 8, 9, 10])
        #expect(end.gap == OutputCap.Gap(lines: 4, bytes: 40_000))
        #expect(cap.counts.tail == LineTally(lines: 6, bytes: 60_000))
    }

    @Test func lineLargerThanTheRingIsDropped() {
        var cap = OutputCap(maxBytes: 0, maxLines: 1_000)
        _ = cap.offer(line(String(repeating: "h", count: OutputCap.tailMaxBytes), 1))
        let end = cap.finish()
        #expect(end.tail.isEmpty)
        #expect(end.gap?.lines == 1)
    }

    @Test func countsEverythingSeenPerStream() {
        var cap = OutputCap(maxBytes: 100, maxLines: 2)
        _ = cap.offer(line("a", 1, redactions: 2, rules: ["arg.x", "jwt"]))
        _ = cap.offer(line("\u{FFFD}", 1, .stderr, invalid: true))
        _ = cap.offer(line("c", 2, redactions: 1, rules: ["jwt"]))
        _ = cap.finish()
        let c = cap.counts
        #expect(c.stdout == LineTally(lines: 2, bytes: 4))
        #expect(c.stderr == LineTally(lines: 1, bytes: 4))
        #expect(c.forwarded == LineTally(lines: 2, bytes: 6))
        #expect(c.tail == LineTally(lines: 1, bytes: 2))
        #expect(c.dropped == LineTally())
        #expect(c.redactions == 3)
        #expect(c.rules == ["arg.x", "jwt"])
        #expect(c.invalidUTF8Lines == 1)
        #expect(
            JSONWriter.string(c.json)
                == #"{"stdout":{"lines":2,"bytes":4},"stderr":{"lines":1,"bytes":4},"#
                + #""forwarded":{"lines":2,"bytes":6},"tail":{"lines":1,"bytes":2},"#
                + #""dropped":{"lines":0,"bytes":0},"cap_reached":true,"redactions":3,"#
                + #""redaction_rules":["arg.x","jwt"],"invalid_utf8_lines":1}"#)
    }

    @Test func lineBytesIncludeTheEnding() {
        #expect(OutputLine(stream: .stdout, seq: 1, text: "é", eol: .crlf).byteCount == 4)
        #expect(OutputLine(stream: .stdout, seq: 1, text: "ab", eol: .split).byteCount == 2)
    }

    @Test func streamedLinesFlowThroughTheCap() throws {
        let r = try makeRedactor(secrets: [("s", "hunter2-secret")])
        let lines = process([Array("ok\nhunter2-secret\nthree\nfour\n".utf8)], with: r)
        var cap = OutputCap(maxBytes: 1_000, maxLines: 2)
        let forwarded = lines.filter { cap.offer($0) == .forward }
        let end = cap.finish()
        #expect(forwarded.map(\.text) == ["ok", marker("arg.s")])
        #expect(end.tail.map(\.text) == ["three", "four"])
        #expect(cap.counts.redactions == 1 && cap.counts.rules == ["arg.s"])
    }
}
