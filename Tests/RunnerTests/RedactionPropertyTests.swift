import Testing

@testable import Runner

/// Random secrets in random text, cut into random reads with idle flushes in
/// between: no spelling of the secret may ever reach the emitted text.
@Suite struct RedactionPropertyTests {
    nonisolated static let iterations = 300

    /// Printable ASCII, space and every regex metacharacter included.
    nonisolated static let printable = Array(0x20...0x7E).map(UInt8.init)
    /// Filler for the text around the secrets.
    nonisolated static let filler = Array("abcdefghij KLMNOP 0123456789 .,;:-_=+/".utf8)

    struct Case {
        var secret: [UInt8]
        var input: [UInt8]
        var lineCap: Int
        var regexWindow: Int
        var chunks: [[UInt8]]
        var idle: [Bool]
    }

    static func makeCase(_ rng: inout SplitMix64) -> Case {
        var secret: [UInt8]
        repeat {
            secret = (0..<Int.random(in: 6...40, using: &rng)).map { _ in
                printable.randomElement(using: &rng)!
            }
        } while secret.allSatisfy {
            !(0x30...0x39).contains($0) && !(0x41...0x5A).contains($0)
                && !(0x61...0x7A).contains($0)
        }

        func text(_ max: Int) -> [UInt8] {
            (0..<Int.random(in: 0...max, using: &rng)).map { _ in filler.randomElement(using: &rng)!
            }
        }
        let spellings =
            [secret] + SecretEncoding.derivedForms(of: secret).filter { !$0.base64 }.map(\.bytes)
        var input: [UInt8] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let long = Bool.random(using: &rng)
            input += text(long ? 3000 : 40)
            switch Int.random(in: 0...2, using: &rng) {
            case 0: input += spellings.randomElement(using: &rng)!
            case 1: input += SecretEncoding.base64(text(4) + secret + text(4))
            default: input += secret + text(3) + secret
            }
            input += text(long ? 3000 : 40) + (Bool.random(using: &rng) ? [0x0A] : [0x0D, 0x0A])
        }

        let lineCap = [16, 64, 300, StreamProcessor.maxLineBytes].randomElement(using: &rng)!
        let regexWindow = [Redactor.minimumRegexWindow, Redactor.defaultRegexWindow]
            .randomElement(using: &rng)!
        var chunks: [[UInt8]] = []
        let maxChunk = [1, 7, 100, 5000, input.count].randomElement(using: &rng)!
        var i = 0
        while i < input.count {
            let n = Int.random(in: 1...max(1, maxChunk), using: &rng)
            chunks.append(Array(input[i..<min(input.count, i + n)]))
            i += n
        }
        let idle = chunks.map { _ in Int.random(in: 0..<4, using: &rng) == 0 }
        return Case(
            secret: secret, input: input, lineCap: lineCap, regexWindow: regexWindow,
            chunks: chunks, idle: idle)
    }

    @Test func noSpellingOfASecretSurvivesAnySplit() throws {
        for iteration in 0..<RedactionPropertyTests.iterations {
            let seed = 0xC0FFEE + UInt64(iteration)
            var rng = SplitMix64(seed: seed)
            let c = RedactionPropertyTests.makeCase(&rng)
            let secretText = String(decoding: c.secret, as: UTF8.self)
            let r = try makeRedactor(secrets: [("s", secretText)], regexWindow: c.regexWindow)
            #expect(r.secrets.registrations[0].reason == nil, "seed \(seed)")

            let p = StreamProcessor(stream: .stdout, redactor: r, lineCap: c.lineCap)
            var out: [OutputLine] = []
            for (chunk, idle) in zip(c.chunks, c.idle) {
                out += p.feed(chunk)
                if idle { out += p.idleFlush() }
                #expect(p.bufferedBytes <= c.lineCap + p.holdback, "seed \(seed)")
            }
            out += p.finish()

            let forbidden = [c.secret] + SecretEncoding.derivedForms(of: c.secret).map(\.bytes)
            let emitted = rejoin(out)
            for line in emitted {
                let bytes = Array(line.utf8)
                for form in forbidden {
                    #expect(
                        !contains(bytes, form),
                        "seed \(seed): \(String(decoding: form, as: UTF8.self)) in \(line)")
                }
            }
            // No remnant either: cut pieces rejoin to exactly what one read of the
            // whole input gives (the filler cannot form a built-in rule's match,
            // so a cut never creates or loses a regex match).
            // (Compared as rebuilt bytes: an idle flush may end a line at a CR
            // whose LF arrives later, which changes the lines but not the bytes.)
            let whole = process([c.input], with: r)
            #expect(rebuild(out) == rebuild(whole), "seed \(seed)")
            #expect(out.map(\.seq) == (0..<out.count).map { $0 + 1 }, "seed \(seed)")
            // An idle flush may end a line at a CR whose LF comes later, so
            // count the line feeds rather than the lines.
            let feeds = out.filter { $0.eol == .lf || $0.eol == .crlf }.count
            #expect(feeds == c.input.filter { $0 == 0x0A }.count, "seed \(seed)")
        }
    }

    private func rebuild(_ lines: [OutputLine]) -> [UInt8] {
        lines.flatMap { Array($0.text.utf8) + $0.eol.bytes }
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0]
            && haystack[start..<start + needle.count].elementsEqual(needle)
        {
            return true
        }
        return false
    }
}
