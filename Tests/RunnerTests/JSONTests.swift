import Testing

@testable import Runner

@Suite struct JSONTests {
    @Test func keepsIntegersAndRealsApart() throws {
        let v = try JSONReader.parse(#"{"a":10,"b":10.0,"c":1e1}"#)
        #expect(v["a"] == .int(10))
        #expect(v["b"] == .real(10.0))
        #expect(v["c"] == .real(10.0))
    }

    @Test func keepsKeyOrderAndWritesCompactly() throws {
        let text = #"{"z":1,"a":[true,null,"x"],"m":{"k":-3}}"#
        let v = try JSONReader.parse(text)
        #expect(JSONWriter.string(v) == text)
    }

    @Test func rejectsDuplicateKeys() {
        #expect(throws: JSONReadError.self) { try JSONReader.parse(#"{"a":1,"a":2}"#) }
    }

    @Test func escapesControlCharactersAndNUL() throws {
        let s = JSONWriter.string(.string("a\u{0}b\n\"\\\u{1F}é"))
        #expect(s == #""a\u0000b\n\"\\\u001fé""#)
        #expect(try JSONReader.parse(s) == .string("a\u{0}b\n\"\\\u{1F}é"))
    }

    @Test func reportsPositionOfMalformedJSON() {
        do {
            _ = try JSONReader.parse("{\n\"a\": }")
            Issue.record("parsed malformed JSON")
        } catch {
            #expect(error.line == 2)
        }
    }
}

@Suite struct PatternTests {
    @Test func wholeValuePatternRefusesSubstringMatches() throws {
        let p = try Pattern("https?://[a-z0-9.-]+(/[A-Za-z0-9._/-]*)?", mode: .wholeValue)
        #expect(p.matches("http://a.example/"))
        #expect(!p.matches("--output=/etc/cron.d/job?x=http://a.example/"))
        #expect(!p.matches("http://a.example/ -K /etc/shadow"))
        #expect(!p.matches("http://a.example/\n"))
    }

    @Test func pathologicalPatternHitsItsLimit() throws {
        let p = try Pattern("(a+)+$", mode: .search)
        let line = Array(String(repeating: "a", count: 50_000).utf8) + Array("!".utf8)
        let outcome = line.withUnsafeBytes { p.firstMatch(in: $0, from: 0) }
        #expect(outcome != .match(0..<line.count))
    }

    @Test func compileErrorCarriesOffset() {
        #expect(throws: PatternError.self) { try Pattern("a(b", mode: .search) }
    }

    @Test func valueGroupNarrowsTheMatch() throws {
        let p = try Pattern("password=(?<value>\\S+)", mode: .search)
        let bytes = Array("x password=hunter22 y".utf8)
        #expect(bytes.withUnsafeBytes { p.firstMatch(in: $0, from: 0) } == .match(11..<19))
    }

    @Test(arguments: [
        "a\\nb", "x\\r", "\\R", "a\nb", "\\x0a", "\\x{0A}", "\\cJ", "\\012", "\\o{12}",
        "\\N{U+000A}", "\\x{000a}", "\\x{d}", "\\o{0015}", "[\\n]", "[a\\r]", "[^x]\\n",
        "[]\\n]", "[^]]\\r", "[^[:space:]]\\n",
    ])
    func detectsMultilinePatterns(_ source: String) {
        #expect(Pattern.needsMultilineInput(source))
    }

    @Test(arguments: [
        "\\\\n[a-z]+\\s", #"(?<value>[^"\\\r\n]++)"#, "[^\\r\\n]+", "[^[:space:]\\n]x",
        "[^\\x{000a}]", "\\x{0b}",
    ])
    func singleLinePatternIsNotMultiline(_ source: String) {
        #expect(!Pattern.needsMultilineInput(source))
    }

    /// The built-in patterns exclude line breaks in negated classes; each can
    /// be copied into a config rule.
    @Test func everyBuiltInPatternPassesTheCheck() {
        for rule in BuiltInRules.regexRules {
            #expect(!Pattern.needsMultilineInput(rule.source), "\(rule.id)")
        }
    }
}
