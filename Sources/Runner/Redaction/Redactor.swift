import CPCRE2
import CUV

/// Whether a stream is inside a PEM private-key block; kept per stream by its
/// owner, because the block spans lines.
nonisolated public struct PrivateKeyState: Equatable, Sendable {
    /// True between a `BEGIN ... PRIVATE KEY` line and its `END` line.
    public internal(set) var inBlock = false

    /// Outside any block.
    public init() {}
}

/// One redacted line of bytes.
nonisolated public struct RedactedBytes: Equatable, Sendable {
    /// The line with every match replaced by its marker.
    public var bytes: [UInt8]
    /// Markers written (merged matches count once).
    public var redactions: Int
    /// Ids of the rules that matched, in order of first match.
    public var rules: [String]
}

/// The redactor of one run: the shared rule set, the action's own rules and the
/// run's literal secrets. Every byte and string that leaves ward passes through
/// it. Matches of every rule are gathered on the original line, merged where they
/// overlap or touch, and each merged stretch becomes `[REDACTED:<rule-id>]`.
nonisolated public final class Redactor {
    /// Longest regex match a forced line split is guaranteed not to cut: JWTs,
    /// bearer tokens and key=value pairs fit in 1 KiB, and every byte of it is
    /// held back before a split, so it must stay small against the 64 KiB cap.
    public static let defaultRegexWindow = 1024
    /// Smallest allowed window: the PEM BEGIN/END markers (up to 70 bytes) must
    /// always be seen whole.
    public static let minimumRegexWindow = 128
    /// How far a base64 match is widened over the surrounding base64 run on each
    /// side: enough for the edge characters (which carry bits of the secret), the
    /// padding and a few neighbouring bytes such as a trailing newline.
    static let base64Widening = 64

    /// The regex window this redactor was built with.
    public let regexWindow: Int
    /// Bytes a stream must hold back before a forced split so that no literal
    /// (longest spelling, widened) and no regex match up to `regexWindow` bytes
    /// can straddle the cut unseen.
    public let holdback: Int
    /// The run's literal secrets and their registrations (for the run event).
    public let secrets: SecretSet
    /// Rule ids by index: secret owners, action rules, shared rules, PEM rule.
    public let ruleIDs: [String]

    private let ruleSet: RedactionRuleSet
    private let regexRules: [RegexRedactionRule]
    private let markers: [[UInt8]]
    private let regexBase: Int
    private let privateKeyIndex: Int
    private let prefiltered: Bool
    /// The rule set's prefilter, or this run's own when it has literal secrets:
    /// their spellings are triggers too, so a line holding none of them skips
    /// every `memmem`.
    private let prefilter: LiteralPrefilter?
    /// Each literal's bit in `prefilter`; 0 for one searched on every line.
    private let literalBits: [UInt64]
    private var scratch: [RedactionMatch] = []
    /// A line's copy with its invalid UTF-8 bytes replaced (see `scan`).
    private var sanitized: [UInt8] = []

    /// A redactor over `rules` (shared), `actionRules` (the action's and its
    /// pack's) and `secrets` (this run's). Nothing is compiled here.
    public convenience init(
        rules: RedactionRuleSet, actionRules: [RedactionRuleSpec] = [],
        secrets: SecretSet = SecretSet(), regexWindow: Int = Redactor.defaultRegexWindow
    ) {
        self.init(
            rules: rules, actionRules: actionRules, secrets: secrets, regexWindow: regexWindow,
            prefiltered: true)
    }

    /// The same, with `prefiltered` false running every regex and literal search
    /// on every line (the tests and the fuzz target compare the two).
    init(
        rules: RedactionRuleSet, actionRules: [RedactionRuleSpec] = [],
        secrets: SecretSet = SecretSet(), regexWindow: Int = Redactor.defaultRegexWindow,
        prefiltered: Bool
    ) {
        precondition(regexWindow >= Redactor.minimumRegexWindow, "regex window too small")
        self.ruleSet = rules
        self.prefiltered = prefiltered
        self.secrets = secrets
        self.regexWindow = regexWindow
        self.regexRules =
            actionRules.map { RegexRedactionRule(id: $0.id, pattern: $0.pattern) }
            + rules.regexRules
        self.regexBase = secrets.owners.count
        self.privateKeyIndex = regexBase + regexRules.count
        self.ruleIDs =
            secrets.owners.map(\.ruleID) + regexRules.map(\.id) + [BuiltInRules.privateKeyID]
        self.markers = ruleIDs.map { Array("[REDACTED:\($0)]".utf8) }
        let widest = secrets.literals.reduce(0) {
            max($0, $1.bytes.count + ($1.base64 ? 2 * Redactor.base64Widening : 0))
        }
        self.holdback = max(0, widest - 1) + regexWindow
        var added: [[UInt8]] = []
        var bits: [UInt64] = []
        for literal in secrets.literals {
            let bit = rules.triggers.count + added.count
            if bit < LiteralPrefilter.maximumRules,
                literal.bytes.count >= LiteralPrefilter.minimumLength
            {
                bits.append(1 << UInt64(bit))
                added.append(literal.bytes)
            } else {
                bits.append(0)
            }
        }
        self.literalBits = bits
        // With built-ins off the literals still get a prefilter of their own.
        self.prefilter = added.isEmpty ? rules.prefilter : rules.prefilter(adding: added)
    }

    /// True when no line of `value` reaches `minimum` bytes (never below 4), so
    /// registering it would mask nothing; validation refuses such a secret.
    public static func secretIsTooShort(_ value: String, minimum: Int) -> Bool {
        let floor = max(SecretSet.lowestMinimumLength, minimum)
        return !SecretSet.lines(of: Array(value.utf8)).contains { $0.count >= floor }
    }

    /// Redacts one line, carrying the PEM block state across lines of a stream.
    public func redact(line: UnsafeRawBufferPointer, privateKey: inout PrivateKeyState)
        -> RedactedBytes
    {
        let scan = self.scan(line, inPrivateKey: privateKey.inBlock)
        privateKey.inBlock = scan.privateKeyOpenStart != nil
        if let rule = scan.limitRule {
            return RedactedBytes(bytes: limitMarker(rule), redactions: 1, rules: [ruleIDs[rule]])
        }
        var out: [UInt8] = []
        let (count, hits) = render(line, scan, 0..<line.count, into: &out)
        return RedactedBytes(bytes: out, redactions: count, rules: hits.map { ruleIDs[$0] })
    }

    /// Redacts text for anywhere else it leaves ward (error messages, journal
    /// fields, log lines). Stateless: a `BEGIN ... PRIVATE KEY` marker redacts
    /// the rest of the string unless an END marker follows in it.
    public func redact(_ text: String) -> String {
        var state = PrivateKeyState()
        let result = Array(text.utf8).withUnsafeBytes { redact(line: $0, privateKey: &state) }
        return result.redactions == 0 ? text : String(decoding: result.bytes, as: UTF8.self)
    }

    /// Every match of every rule in `window`, merged.
    func scan(_ window: UnsafeRawBufferPointer, inPrivateKey: Bool) -> RedactionScan {
        scratch.removeAll(keepingCapacity: true)
        // Bits of the built-in rules that can match here; the others are skipped.
        let admitted = prefiltered ? prefilter?.admitted(window) ?? 0 : UInt64.max
        let openStart = scanPrivateKey(
            window, inBlock: inPrivateKey, begins: admitted & ruleSet.privateKeyBit != 0)
        scanLiterals(window, admitted: admitted)
        var limitRule = scanRegexes(window, admitted: admitted)
        // PCRE2 matches nothing at an invalid UTF-8 byte, so `password=M\xfcller`
        // would keep `ller` (case 11 decodes it to U+FFFD afterwards). Such lines
        // are scanned a second time with each invalid byte read as `?`, offsets
        // unchanged, and both passes' matches count: never less than either.
        // A prefiltered ASCII line cannot be invalid: skip the check for it.
        let knownASCII = prefiltered && prefilter.map { admitted != $0.allRules } ?? false
        if limitRule == nil, !knownASCII {
            limitRule = scanSanitized(window, admitted: admitted)
        }
        var scan = RedactionScan(
            merging: &scratch, limitRule: limitRule, privateKeyOpenStart: openStart)
        scan.knownASCII = knownASCII
        return scan
    }

    /// Appends `window[range]` to `out` with every span replaced by its marker
    /// (spans clipped to the range); returns markers written and rules hit. The
    /// caller deals with `scan.limitRule` first.
    func render(
        _ window: UnsafeRawBufferPointer, _ scan: RedactionScan, _ range: Range<Int>,
        into out: inout [UInt8]
    ) -> (count: Int, hits: [Int]) {
        var pos = range.lowerBound
        var count = 0
        var hits: [Int] = []
        for span in scan.spans where span.end > range.lowerBound && span.start < range.upperBound {
            let start = max(span.start, range.lowerBound)
            out.append(contentsOf: window[pos..<start])
            out.append(contentsOf: markers[span.rule])
            count += 1
            for h in span.hits where !hits.contains(h) { hits.append(h) }
            pos = min(span.end, range.upperBound)
        }
        out.append(contentsOf: window[pos..<range.upperBound])
        return (count, hits)
    }

    /// `[REDACTED:<id>:match-limit]`: the marker for a whole line whose scan ran
    /// out of budget (fail closed).
    func limitMarker(_ rule: Int) -> [UInt8] {
        Array("[REDACTED:\(ruleIDs[rule]):match-limit]".utf8)
    }

    /// Finds PEM private-key blocks; returns where an unclosed block starts.
    /// `begins` is false when the window holds no BEGIN marker.
    private func scanPrivateKey(_ window: UnsafeRawBufferPointer, inBlock: Bool, begins: Bool)
        -> Int?
    {
        guard let markers = ruleSet.privateKey, inBlock || begins else { return nil }
        var pos = 0
        var blockStart: Int? = inBlock ? 0 : nil
        while true {
            if let start = blockStart {
                // An END the budget cannot confirm counts as missing: stay closed.
                guard case .match(let end) = markers.end.firstMatch(in: window, from: pos) else {
                    if start < window.count {
                        append(
                            start..<window.count, extent: start, rule: privateKeyIndex, open: true)
                    }
                    return start
                }
                append(start..<end.upperBound, extent: start, rule: privateKeyIndex, open: false)
                pos = end.upperBound
                blockStart = nil
            } else {
                guard case .match(let begin) = markers.begin.firstMatch(in: window, from: pos)
                else { return nil }
                blockStart = begin.lowerBound
                pos = begin.upperBound
            }
        }
    }

    /// Finds every occurrence of every literal spelling the prefilter
    /// `admitted`, as bytes (memmem).
    private func scanLiterals(_ window: UnsafeRawBufferPointer, admitted: UInt64) {
        guard let base = window.baseAddress else { return }
        let n = window.count
        for (k, literal) in secrets.literals.enumerated()
        where literalBits[k] == 0 || admitted & literalBits[k] != 0 {
            literal.bytes.withUnsafeBytes { needle in
                var from = 0
                while n - from >= needle.count {
                    guard
                        let hit = cuv_memmem(
                            base + from, n - from, needle.baseAddress!, needle.count)
                    else { break }
                    let start = base.distance(to: hit)
                    var lo = start
                    var hi = start + needle.count
                    if literal.base64 {
                        let floor = max(0, lo - Redactor.base64Widening)
                        while lo > floor, SecretEncoding.isBase64Character(window[lo - 1]) {
                            lo -= 1
                        }
                        let ceiling = min(n, hi + Redactor.base64Widening)
                        while hi < ceiling, SecretEncoding.isBase64Character(window[hi]) { hi += 1 }
                    }
                    append(lo..<hi, extent: lo, rule: literal.owner, open: false)
                    // Overlapping occurrences (`aaaaaaa` holding `aaaaaa` twice) all count.
                    from = start + 1
                }
            }
        }
    }

    /// The regex pass over a copy of `window` whose invalid UTF-8 bytes read as
    /// `?`, when it has any.
    private func scanSanitized(_ window: UnsafeRawBufferPointer, admitted: UInt64) -> Int? {
        guard let base = window.baseAddress, !ByteSearch.isASCII(window) else { return nil }
        if sanitized.count < window.count {
            sanitized = [UInt8](repeating: 0, count: window.count)
        }
        return sanitized.withUnsafeMutableBytes { copy in
            let replaced = cpcre2_utf8_sanitize(
                base.assumingMemoryBound(to: UInt8.self), window.count,
                copy.baseAddress!.assumingMemoryBound(to: UInt8.self))
            guard replaced > 0 else { return nil }
            return scanRegexes(
                UnsafeRawBufferPointer(rebasing: copy[..<window.count]), admitted: admitted)
        }
    }

    /// Runs every regex rule the prefilter `admitted` over the window; returns
    /// the first rule that ran out of its match budget, after which scanning
    /// stops (the line goes whole).
    private func scanRegexes(_ window: UnsafeRawBufferPointer, admitted: UInt64) -> Int? {
        let n = window.count
        for (k, rule) in regexRules.enumerated()
        where rule.prefilterBit == 0 || admitted & rule.prefilterBit != 0 {
            let index = regexBase + k
            let grouped = rule.pattern.valueGroup > 0
            var from = 0
            search: while from <= n {
                switch rule.pattern.firstMatch(in: window, from: from) {
                case .noMatch:
                    break search
                case .limitExceeded:
                    return index
                case .match(let range):
                    let wholeEnd = max(rule.pattern.lastMatchEnd, range.upperBound)
                    if !range.isEmpty {
                        // Pattern does not report where a grouped match starts.
                        // Its key (the part before the value) is assumed to fit in
                        // the regex window, so the match starts no earlier than this.
                        let extent =
                            grouped ? max(0, range.lowerBound - regexWindow) : range.lowerBound
                        append(range, extent: extent, extentEnd: wholeEnd, rule: index, open: false)
                    }
                    var next = wholeEnd > from ? wholeEnd : from + 1
                    // After an empty match, resume on a character boundary.
                    while next < n, window[next] & 0xC0 == 0x80 { next += 1 }
                    from = next
                }
            }
        }
        return nil
    }

    private func append(
        _ range: Range<Int>, extent: Int, extentEnd: Int? = nil, rule: Int, open: Bool
    ) {
        scratch.append(
            RedactionMatch(
                start: range.lowerBound, end: range.upperBound, extentStart: extent,
                extentEnd: extentEnd ?? range.upperBound, rule: rule, open: open))
    }
}
