import CPCRE2

/// A literal a regex rule cannot match without: the prefilter admits the rule
/// for a line only when one of its triggers occurs in it.
nonisolated struct RuleTrigger: Sendable {
    /// The literal (at least `LiteralPrefilter.minimumLength` bytes; ASCII when
    /// caseless).
    var bytes: [UInt8]
    /// Whether ASCII letters match in either case (the rule is `(?i)` there).
    var caseless: Bool

    /// A case-sensitive trigger.
    static func exact(_ literal: String) -> RuleTrigger {
        RuleTrigger(bytes: Array(literal.utf8), caseless: false)
    }

    /// An ASCII case-insensitive trigger.
    static func caseless(_ literal: String) -> RuleTrigger {
        RuleTrigger(bytes: Array(literal.utf8), caseless: true)
    }
}

/// One pass over a line that tells which rules can match in it at all, so that
/// the ~99 % of log lines holding none of a rule's literals skip its regex (the
/// regexes were a third of ward's streaming CPU). Sound by construction: every
/// trigger is a literal its rule's every match contains, and a line with a byte
/// of 0x80 or more admits every rule (PCRE2 folds U+017F and U+212A onto `s` and
/// `k` when caseless; an exact trigger with such a byte only occurs in such a
/// line). The scan itself is C (`cpcre2_prefilter`): a byte-pair filter at
/// every second position, a trigram filter, then a comparison at the few
/// positions they let through (4 KiB of tables per prefilter).
nonisolated final class LiteralPrefilter {
    /// Shortest trigger: the filter hashes the first three bytes.
    static let minimumLength = 3
    /// Most rules one prefilter can tell apart (one bit each).
    static let maximumRules = 64

    /// Bits of every rule the prefilter knows: what a non-ASCII line admits.
    let allRules: UInt64

    nonisolated(unsafe) private let pairs: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) private let trigrams: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) private let triggers: UnsafeMutablePointer<cpcre2_trigger>
    nonisolated(unsafe) private let storage: UnsafeMutablePointer<UInt8>
    private let count: Int

    /// A prefilter where `rules[i]`'s triggers admit bit `i`.
    init(rules: [[RuleTrigger]]) {
        precondition(rules.count <= LiteralPrefilter.maximumRules, "too many prefiltered rules")
        let flat = rules.enumerated().flatMap { i, list in list.map { (i, $0) } }
        let bytes = flat.map { _, trigger in
            trigger.caseless ? trigger.bytes.map { UInt8(cpcre2_lower($0)) } : trigger.bytes
        }
        count = flat.count
        let words = Int(CPCRE2_FILTER_WORDS)
        pairs = .allocate(capacity: words)
        pairs.initialize(repeating: 0, count: words)
        trigrams = .allocate(capacity: words)
        trigrams.initialize(repeating: 0, count: words)
        triggers = .allocate(capacity: max(1, flat.count))
        storage = .allocate(capacity: max(1, bytes.reduce(0) { $0 + $1.count }))
        var offset = 0
        var all: UInt64 = 0
        for (k, (rule, trigger)) in flat.enumerated() {
            let literal = bytes[k]
            precondition(
                literal.count >= LiteralPrefilter.minimumLength
                    && (!trigger.caseless || literal.allSatisfy { $0 < 0x80 }),
                "a trigger has at least 3 bytes, and only ASCII ones when caseless")
            (storage + offset).initialize(from: literal, count: literal.count)
            let (a, b, c) = (
                cpcre2_lower(literal[0]), cpcre2_lower(literal[1]), cpcre2_lower(literal[2])
            )
            for bit in [
                cpcre2_pair(literal[0], literal[1]), cpcre2_pair(literal[1], literal[2]),
            ] {
                pairs[Int(bit >> 6)] |= 1 << UInt64(bit & 63)
            }
            let t = cpcre2_trigram(literal[0], literal[1], literal[2])
            trigrams[Int(t >> 6)] |= 1 << UInt64(t & 63)
            let bit: UInt64 = 1 << UInt64(rule)
            all |= bit
            (triggers + k).initialize(
                to: cpcre2_trigger(
                    bytes: UnsafePointer(storage + offset), length: UInt32(literal.count),
                    caseless: trigger.caseless ? 1 : 0, key: cpcre2_key(a, b, c), rules: bit))
            offset += literal.count
        }
        allRules = all
    }

    deinit {
        pairs.deallocate()
        trigrams.deallocate()
        triggers.deallocate()
        storage.deallocate()
    }

    /// Bits of the rules that can match somewhere in `window`.
    func admitted(_ window: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = window.baseAddress, count > 0 else { return 0 }
        return cpcre2_prefilter(
            base.assumingMemoryBound(to: UInt8.self), window.count, pairs, trigrams, triggers,
            count, allRules)
    }
}
