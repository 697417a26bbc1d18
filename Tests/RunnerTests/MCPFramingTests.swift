import Testing

@testable import Runner

/// Feeds `chunks` through a framer with `cap`, then ends the input.
private func frame(_ chunks: [String], cap: Int = 16, finish: Bool = true) -> [LineFramer.Event] {
    var framer = LineFramer(maxLineBytes: cap)
    var events = chunks.flatMap { framer.feed(Array($0.utf8)) }
    if finish { events += framer.finish() }
    return events
}

nonisolated private func line(_ text: String) -> LineFramer.Event { .line(Array(text.utf8)) }

@Suite struct MCPFramingTests {
    nonisolated static let table: [(chunks: [String], events: [LineFramer.Event])] = [
        (["a\nb\n"], [line("a"), line("b")]),
        (["a", "b", "\nc\n"], [line("ab"), line("c")]),
        (["a\r\nb\r\n"], [line("a"), line("b")]),
        (["\n\r\n  \n\t\nx\n"], [line("x")]),
        (["tail"], [line("tail")]),
        (["0123456789abcdef\n"], [line("0123456789abcdef")]),
        (["0123456789abcdefg\nok\n"], [.oversized, line("ok")]),
        (["0123456789", "abcdefgh", "ijkl", "mnop\nok\n"], [.oversized, line("ok")]),
        (["0123456789abcdefXYZ"], [.oversized]),
        (["0123456789abcdefg\n0123456789abcdefg\n"], [.oversized, .oversized]),
    ]

    @Test(arguments: table.indices)
    func splitsLinesAtNewlinesWithinTheCap(_ index: Int) {
        let (chunks, events) = MCPFramingTests.table[index]
        #expect(frame(chunks) == events)
    }

    @Test func feedingByteByByteGivesTheSameMessages() {
        let text = "{\"a\":1}\r\n\n0123456789abcdefghij\n{\"b\":2}\nlast"
        let whole = frame([text])
        let bytes = frame(text.map { String($0) })
        #expect(whole == bytes)
        #expect(whole == [line("{\"a\":1}"), .oversized, line("{\"b\":2}"), line("last")])
    }

    @Test func reportsAnOversizedLineOnceHoweverLongItGrows() {
        var framer = LineFramer(maxLineBytes: 8)
        var events: [LineFramer.Event] = []
        for _ in 0..<1000 { events += framer.feed(Array(repeating: 0x78, count: 100)) }
        #expect(events == [.oversized])
        #expect(framer.bufferedBytes == 0)
        #expect(framer.feed(Array("\nping\n".utf8)) == [line("ping")])
    }

    @Test func neverHoldsMoreThanTheCap() {
        var framer = LineFramer(maxLineBytes: 32)
        for _ in 0..<100 {
            _ = framer.feed(Array(repeating: 0x79, count: 7))
            #expect(framer.bufferedBytes <= 32)
        }
    }

    @Test func keepsBytesThatAreNotUTF8ForTheParserToRefuse() {
        var framer = LineFramer()
        #expect(framer.feed([0x7B, 0xFF, 0xFE, 0x7D, 0x0A]) == [.line([0x7B, 0xFF, 0xFE, 0x7D])])
    }

    @Test func unfinishedOversizedLineAtEndOfInputIsDropped() {
        #expect(frame(["0123456789abcdefghijk"], finish: true) == [.oversized])
    }

    @Test func defaultCapIsOneMebibyte() {
        #expect(LineFramer().maxLineBytes == 1_048_576)
    }
}
