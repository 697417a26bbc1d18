import Testing

@testable import Runner

@Suite struct LineSplittingTests {
    func rows(_ lines: [OutputLine]) -> [String] { lines.map { "\($0.text)|\($0.eol)" } }

    // Case 08: the unterminated rest is flushed at EOF with eol none.
    nonisolated static let case08: [(String, [String])] = [
        ("fatal: disk full", ["fatal: disk full|none"]),
        ("a\nb", ["a|lf", "b|none"]),
        ("", []),
        ("\n", ["|lf"]),
    ]

    @Test(arguments: case08)
    func finalLineWithoutNewlineIsKept(_ input: String, _ expected: [String]) throws {
        let out = process([Array(input.utf8)], with: try makeRedactor())
        #expect(rows(out) == expected)
        #expect(out.map(\.seq) == (0..<out.count).map { $0 + 1 })
    }

    @Test func stderrTailWithoutNewlineIsKept() throws {
        let out = process([Array("oops".utf8)], with: try makeRedactor(), stream: .stderr)
        #expect(out == [OutputLine(stream: .stderr, seq: 1, text: "oops", eol: .none)])
    }

    @Test func endingsAreReportedSoBytesCanBeRebuilt() throws {
        let out = process([Array("a\r\nb\rc\n\r\r\nd".utf8)], with: try makeRedactor())
        #expect(rows(out) == ["a|crlf", "b|cr", "c|lf", "|cr", "|crlf", "d|none"])
    }

    @Test func carriageReturnAtChunkEndWaitsForTheNextByte() throws {
        let r = try makeRedactor()
        #expect(
            rows(process([Array("a\r".utf8), Array("\nb".utf8)], with: r)) == ["a|crlf", "b|none"])
        #expect(
            rows(process([Array("a\r".utf8), Array("b\n".utf8)], with: r)) == ["a|cr", "b|lf"])
        #expect(rows(process([Array("a\r".utf8)], with: r)) == ["a|cr"])
    }

    @Test func idleFlushEndsALoneCarriageReturn() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try makeRedactor())
        #expect(p.feed(Array("50%\r".utf8)).isEmpty)
        #expect(rows(p.idleFlush()) == ["50%|cr"])
        #expect(rows(p.feed(Array("\n".utf8))) == ["|lf"])
        #expect(p.finish().isEmpty)
    }

    @Test func randomChunkingRebuildsTheExactBytes() throws {
        var rng = SplitMix64(seed: 0x0808)
        let alphabet = Array("ab \r\n\r\n".utf8)
        let r = try makeRedactor(builtIns: false)
        for _ in 0..<200 {
            let input = (0..<Int.random(in: 0...60, using: &rng)).map { _ in
                alphabet.randomElement(using: &rng)!
            }
            var chunks: [[UInt8]] = []
            var i = 0
            while i < input.count {
                let n = Int.random(in: 1...8, using: &rng)
                chunks.append(Array(input[i..<min(input.count, i + n)]))
                i += n
            }
            let out = process(chunks, with: r)
            let rebuilt = out.flatMap { Array($0.text.utf8) + $0.eol.bytes }
            #expect(rebuilt == input)
            #expect(out.map(\.seq) == (0..<out.count).map { $0 + 1 })
        }
    }

    // Case 11: binary output never breaks the pipeline; decoding is per line.
    @Test func binaryLinesAreDecodedWithReplacement() throws {
        let bytes: [UInt8] =
            Array("ok\n".utf8) + [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFE] + Array("abc\n".utf8)
            + [0xC3, 0xA9, 0x74, 0xC3, 0xA9, 0x0A]
        let out = process([bytes], with: try makeRedactor())
        #expect(out.map(\.text) == ["ok", "\u{1F}\u{FFFD}\u{08}\u{0}\u{FFFD}\u{FFFD}abc", "été"])
        #expect(out.map(\.invalidUTF8) == [false, true, false])
    }

    @Test func multiByteCharacterSplitAcrossReadsStaysWhole() throws {
        let out = process([Array("caf".utf8) + [0xC3], [0xA9, 0x0A]], with: try makeRedactor())
        #expect(out.map(\.text) == ["café"])
        #expect(out[0].invalidUTF8 == false)
    }

    @Test func redactionRunsBeforeTheLossyDecode() throws {
        let r = try makeRedactor(secrets: [("tok", "tok-PLACEHOLDER-99")])
        let out = process([[0x00] + Array("tok-PLACEHOLDER-99".utf8) + [0xFF, 0x0A]], with: r)
        #expect(out.map(\.text) == ["\u{0}\(marker("arg.tok"))\u{FFFD}"])
        #expect(out[0].redactions == 1 && out[0].invalidUTF8)
    }

    // Case 12: each stream has its own assembler and its own sequence.
    @Test func partialLinesOfTwoStreamsNeverMix() throws {
        let r = try makeRedactor()
        let out = StreamProcessor(stream: .stdout, redactor: r)
        let err = StreamProcessor(stream: .stderr, redactor: r)
        var lines: [OutputLine] = []
        lines += out.feed(Array("abc".utf8))
        lines += err.feed(Array("ERR-1\n".utf8))
        lines += out.feed(Array("def\n".utf8))
        lines += out.feed(Array("MARK:v=none\n".utf8))
        lines += err.feed(Array("ERR-2\n".utf8))
        lines += out.finish() + err.finish()
        #expect(lines.filter { $0.stream == .stdout }.map(\.text) == ["abcdef", "MARK:v=none"])
        #expect(lines.filter { $0.stream == .stderr }.map(\.text) == ["ERR-1", "ERR-2"])
        #expect(lines.filter { $0.stream == .stderr }.map(\.seq) == [1, 2])
    }

    @Test func burstOnBothStreamsKeepsContiguousSequences() throws {
        let r = try makeRedactor()
        let procs = [
            StreamProcessor(stream: .stdout, redactor: r),
            StreamProcessor(stream: .stderr, redactor: r),
        ]
        let inputs = ["out", "err"].map { name in
            Array((1...2000).map { "\(name)\($0)\n" }.joined().utf8)
        }
        var rng = SplitMix64(seed: 12)
        var offsets = [0, 0]
        var got: [[OutputLine]] = [[], []]
        while offsets[0] < inputs[0].count || offsets[1] < inputs[1].count {
            let s = Int.random(in: 0...1, using: &rng)
            guard offsets[s] < inputs[s].count else { continue }
            let end = min(inputs[s].count, offsets[s] + Int.random(in: 1...700, using: &rng))
            got[s] += procs[s].feed(Array(inputs[s][offsets[s]..<end]))
            offsets[s] = end
        }
        for s in 0..<2 {
            got[s] += procs[s].finish()
            let name = s == 0 ? "out" : "err"
            #expect(got[s].map(\.text) == (1...2000).map { "\(name)\($0)" })
            #expect(got[s].map(\.seq) == Array(1...2000))
            #expect(got[s].allSatisfy { $0.stream == procs[s].stream && $0.eol == .lf })
        }
    }
}
