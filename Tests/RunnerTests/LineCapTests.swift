import Testing

@testable import Runner

@Suite struct LineCapTests {
    nonisolated static let secret = "key123key123"
    let cap = StreamProcessor.maxLineBytes

    func chunked(_ bytes: [UInt8], _ size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map {
            Array(bytes[$0..<min(bytes.count, $0 + size)])
        }
    }

    func secretRedactor() throws -> Redactor {
        try makeRedactor(secrets: [("s", LineCapTests.secret)])
    }

    // Case 09: a long line is delivered in ordered pieces and nothing after it is lost.
    @Test func longLineArrivesAsPiecesAndLaterLinesFollow() throws {
        let input = Array("1\n2\n3\n".utf8) + repeated("x", 70_000) + Array("\n4\n5\n6\n".utf8)
        let out = process(chunked(input, 65536), with: try makeRedactor())
        #expect(out.map(\.text.utf8.count) == [1, 1, 1, 65536, 4464, 1, 1, 1])
        #expect(out.map(\.eol) == [.lf, .lf, .lf, .split, .lf, .lf, .lf, .lf])
        #expect(
            rejoin(out) == ["1", "2", "3", String(repeating: "x", count: 70_000), "4", "5", "6"])
        #expect(out.map(\.seq) == Array(1...8))
    }

    @Test func tenMegabyteLineYieldsCappedPiecesAndTheNextLineIntact() throws {
        let total = 10_000_000
        let p = StreamProcessor(stream: .stdout, redactor: try makeRedactor())
        var out: [OutputLine] = []
        var sent = 0
        let block = repeated("y", 65536)
        while sent < total {
            let n = min(block.count, total - sent)
            out += p.feed(Array(block[0..<n]))
            sent += n
        }
        out += p.feed(Array("\nafter\n".utf8)) + p.finish()
        #expect(out.allSatisfy { $0.text.utf8.count <= cap })
        #expect(out.dropLast(2).allSatisfy { $0.eol == .split })
        #expect(rejoin(out) == [String(repeating: "y", count: total), "after"])
        #expect(p.peakBufferedBytes <= cap + p.holdback)
    }

    @Test func bufferedBytesStayBoundedWithoutAnyNewline() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try secretRedactor())
        let bound = p.lineCap + p.holdback
        let block = repeated("z", 65536)
        var pieces = 0
        for _ in 0..<(32 * 1024 * 1024 / block.count) {
            pieces += p.feed(block).count
            #expect(p.bufferedBytes <= bound)
        }
        pieces += p.finish().count
        #expect(p.peakBufferedBytes <= bound)
        #expect(p.bytesRead == 32 * 1024 * 1024)
        #expect(pieces == 32 * 1024 * 1024 / cap)
    }

    // Case 02, long-line variant: the cap falls inside the secret.
    @Test(arguments: [0] + Array(65520...65542))
    func capInsideSecretLeavesNoRemnant(_ readSplit: Int) throws {
        let input = repeated("x", 65530) + Array(LineCapTests.secret.utf8) + [0x0A]
        let chunks =
            readSplit == 0 ? [input] : [Array(input[..<readSplit]), Array(input[readSplit...])]
        let out = process(chunks, with: try secretRedactor())
        #expect(out.map(\.text) == [String(repeating: "x", count: 65530), marker("arg.s")])
        #expect(out.map(\.eol) == [.split, .lf])
    }

    @Test func forcedSplitDuringReadMovesBeforeTheSecret() throws {
        let input =
            repeated("x", 65530) + Array(LineCapTests.secret.utf8) + repeated("y", 5000) + [0x0A]
        let out = process(chunked(input, 4096), with: try secretRedactor())
        #expect(
            out.map(\.text) == [
                String(repeating: "x", count: 65530),
                marker("arg.s") + String(repeating: "y", count: 5000),
            ])
    }

    @Test func idleFlushOfALongPartialLineNeverCutsTheSecret() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try secretRedactor())
        var out = p.feed(repeated(",", 65530) + Array(LineCapTests.secret.utf8))
        out += p.idleFlush()
        #expect(out.count == 1 && out[0].eol == .split)
        out += p.feed([0x0A]) + p.finish()
        #expect(rejoin(out) == [String(repeating: ",", count: 65530) + marker("arg.s")])
        for line in out {
            #expect(!line.text.contains("key") && !line.text.contains("123"))
        }
    }

    // Case 02, rule 3: every split position of one short line.
    @Test func secretSplitAtEveryPositionIsRedacted() throws {
        let r = try secretRedactor()
        let input = Array("pre \(LineCapTests.secret) post\n".utf8)
        for k in 1..<input.count {
            let p = StreamProcessor(stream: .stdout, redactor: r)
            var out = p.feed(Array(input[..<k]))
            out += p.idleFlush()
            out += p.feed(Array(input[k...])) + p.finish()
            #expect(out.map(\.text) == ["pre \(marker("arg.s")) post"], "split at \(k)")
        }
    }

    @Test func secretLongerThanTheRegexWindowIsHeldBackWhole() throws {
        let secret = (0..<1500).map { "S\($0 % 10)" }.joined()
        let p = StreamProcessor(
            stream: .stdout, redactor: try makeRedactor(secrets: [("long", secret)]))
        let bytes = Array(secret.utf8)
        var out = p.feed(repeated("x", 3000) + Array(bytes[..<1400]))
        out += p.idleFlush()
        out += p.feed(Array(bytes[1400...]) + [0x0A]) + p.finish()
        #expect(rejoin(out) == [String(repeating: "x", count: 3000) + marker("arg.long")])
        #expect(!out.contains { $0.text.contains("S0S1") })
    }

    @Test func idleFlushEmitsNothingWithinTheHoldback() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try secretRedactor())
        #expect(p.feed(repeated(",", p.holdback)).isEmpty)
        #expect(p.idleFlush().isEmpty)
        #expect(p.hasPartialLine)
        #expect(p.feed(Array(",".utf8)).isEmpty)
        #expect(p.idleFlush().map(\.text) == [","])
        #expect(p.finish().map(\.text.utf8.count) == [p.holdback])
    }

    /// A JWT matches only once its second dot is there: a cut through one that
    /// has half arrived (the child paused, or the line reached the cap) would
    /// send both halves in the clear. The cut goes before the token instead.
    static let longJWT =
        "eyJhbGciOiJIUzI1NiJ9." + String(repeating: "A", count: 1500) + ".SIGsecret"

    @Test func idleFlushDoesNotCutAHalfArrivedToken() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try makeRedactor())
        let jwt = Array(LineCapTests.longJWT.utf8)
        var out = p.feed(Array("id ".utf8) + Array(jwt[..<1400]))
        out += p.idleFlush()
        out += p.feed(Array(jwt[1400...]) + [0x0A]) + p.finish()
        #expect(rejoin(out) == ["id " + marker("jwt")])
        for line in out { #expect(!line.text.contains("AAAA") && !line.text.contains("SIG")) }
    }

    @Test func capCutDoesNotCutAHalfArrivedToken() throws {
        let input =
            repeated("y", 65200) + Array((" " + LineCapTests.longJWT + "\n").utf8)
        let out = process(chunked(input, 4096), with: try makeRedactor())
        #expect(rejoin(out) == [String(repeating: "y", count: 65200) + " " + marker("jwt")])
        for line in out { #expect(!line.text.contains("AAAA") && !line.text.contains("SIG")) }
    }

    @Test func idleFlushMovesBeforeAStraddlingSecret() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try secretRedactor())
        _ = p.feed(
            repeated(",", 2000) + Array(LineCapTests.secret.utf8) + repeated(";", p.holdback - 5))
        #expect(p.idleFlush().map(\.text) == [String(repeating: ",", count: 2000)])
        let rest = p.feed([0x0A])
        #expect(
            rest.map(\.text) == [marker("arg.s") + String(repeating: ";", count: p.holdback - 5)])
    }

    @Test func idleFlushWaitsWhileARegexMatchRunsToTheEnd() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try makeRedactor())
        _ = p.feed(Array("password=".utf8) + repeated("z", 2000))
        #expect(p.idleFlush().isEmpty)
        #expect(p.feed([0x0A]).map(\.text) == ["password=\(marker("password-assignment"))"])
    }

    @Test func forcedSplitBacksOffToACharacterBoundary() throws {
        let r = try makeRedactor(builtIns: false)
        let accented = process([Array("aaaaaaaaaébbbbbbbbb\n".utf8)], with: r, lineCap: 10)
        #expect(accented.map(\.text) == ["aaaaaaaaa", "ébbbbbbbb", "b"])
        #expect(accented.allSatisfy { !$0.invalidUTF8 && $0.text.utf8.count <= 10 })
        let emoji = process([Array("aaaaaaaa😀\n".utf8)], with: r, lineCap: 10)
        #expect(emoji.map(\.text) == ["aaaaaaaa", "😀"])
    }

    @Test func invalidBytesAreCutAtTheCapAsTheyCome() throws {
        let r = try makeRedactor(builtIns: false)
        for byte: UInt8 in [0xFF, 0x80] {
            let out = process([[UInt8](repeating: byte, count: 25) + [0x0A]], with: r, lineCap: 10)
            #expect(
                out.map(\.text) == [10, 10, 5].map { String(repeating: "\u{FFFD}", count: $0) })
            #expect(out.allSatisfy { $0.invalidUTF8 })
        }
    }

    @Test func privateKeyBlockStaysRedactedAcrossPieces() throws {
        let pk = marker("private-key")
        let text =
            "-----BEGIN RSA PRIVATE KEY-----" + String(repeating: "A", count: 200)
            + "\nMIIE\n-----END RSA PRIVATE KEY-----\nafter\n"
        let out = process([Array(text.utf8)], with: try makeRedactor(), lineCap: 64)
        #expect(out.map(\.text) == [pk, pk, pk, pk, pk, pk, "after"])
        #expect(out.map(\.eol) == [.split, .split, .split, .lf, .lf, .lf, .lf])
    }

    @Test func privateKeyBlockStaysRedactedAcrossIdleFlushes() throws {
        let p = StreamProcessor(stream: .stdout, redactor: try makeRedactor())
        var out = p.feed(
            Array(("-----BEGIN PRIVATE KEY-----" + String(repeating: "B", count: 3000)).utf8))
        out += p.idleFlush()
        out += p.feed(Array("\nMIIE\n-----END PRIVATE KEY-----\nok\n".utf8)) + p.finish()
        #expect(out.count > 4)
        #expect(out.dropLast().allSatisfy { $0.text == marker("private-key") })
        #expect(out.last?.text == "ok")
    }

    @Test func matchLimitRedactsEveryPieceOfTheLine() throws {
        let r = try makeRedactor(builtIns: false, extra: [("bad", "(a+)+$")])
        let block = repeated("a", 30_000) + Array("!".utf8)
        let line = block + block + block + block + [0x0A]
        let out = process(chunked(line, 65536) + [Array("ok\n".utf8)], with: r)
        #expect(
            out.map(\.text) == ["[REDACTED:bad:match-limit]", "[REDACTED:bad:match-limit]", "ok"])
        #expect(out.map(\.eol) == [.split, .lf, .lf])
    }
}
