import Testing

@testable import Runner

/// `[REDACTED:id]`, as ward writes it.
nonisolated func marker(_ id: String) -> String { "[REDACTED:\(id)]" }

/// A redactor with the given argument secrets (name, value), built-in rules
/// unless told otherwise, and extra config rules (id, pattern).
func makeRedactor(
    secrets: [(String, String)] = [], authKey: String? = nil, builtIns: Bool = true,
    extra: [(String, String)] = [], minimum: Int = SecretSet.defaultMinimumLength,
    regexWindow: Int = Redactor.defaultRegexWindow, prefiltered: Bool = true
) throws -> Redactor {
    var set = SecretSet(minimumLength: minimum)
    for (name, value) in secrets { set.register(value, as: .argument(name)) }
    if let authKey { set.register(authKey, as: .authKey) }
    let specs = try extra.map { id, source in
        RedactionRuleSpec(
            id: id, pattern: try Pattern(source, mode: .search),
            location: SourceLocation(file: "config.yaml", line: 1, column: 1))
    }
    let rules = RedactionRuleSet(extra: specs, builtIns: builtIns)
    return Redactor(
        rules: rules, secrets: set, regexWindow: regexWindow, prefiltered: prefiltered)
}

/// Feeds `chunks` to a fresh stdout processor, then finishes it.
func process(
    _ chunks: [[UInt8]], with redactor: Redactor, stream: OutputLine.Stream = .stdout,
    lineCap: Int = StreamProcessor.maxLineBytes
) -> [OutputLine] {
    let p = StreamProcessor(stream: stream, redactor: redactor, lineCap: lineCap)
    var lines: [OutputLine] = []
    for chunk in chunks { lines += p.feed(chunk) }
    return lines + p.finish()
}

/// Output lines of `text` fed whole (one chunk) and finished.
func processText(_ text: String, with redactor: Redactor) -> [String] {
    process([Array(text.utf8)], with: redactor).map(\.text)
}

/// Logical lines rebuilt from pieces: `.split` pieces joined to what follows.
func rejoin(_ lines: [OutputLine]) -> [String] {
    var result: [String] = []
    var current = ""
    for line in lines {
        current += line.text
        if line.eol != .split {
            result.append(current)
            current = ""
        }
    }
    if !current.isEmpty { result.append(current) }
    return result
}

/// Bytes of `count` copies of `character`.
func repeated(_ character: Character, _ count: Int) -> [UInt8] {
    Array(String(repeating: character, count: count).utf8)
}

/// A tiny seeded generator (SplitMix64), so a failing random case reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RedactionSupportTests {
    @Test func splitMixIsDeterministic() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        #expect(Set(first).count == 4)
    }

    @Test func rejoinGluesSplitPieces() {
        let lines = [
            OutputLine(stream: .stdout, seq: 1, text: "ab", eol: .split),
            OutputLine(stream: .stdout, seq: 2, text: "c", eol: .lf),
            OutputLine(stream: .stdout, seq: 3, text: "d", eol: .none),
        ]
        #expect(rejoin(lines) == ["abc", "d"])
    }
}
