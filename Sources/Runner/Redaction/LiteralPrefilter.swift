import CPCRE2

/// A literal a regex rule cannot match without: the prefilter admits the rule
/// for a line only when one of its triggers occurs in it, with the
/// surroundings the rule demands of it.
nonisolated struct RuleTrigger: Sendable {
    /// The literal (at least `LiteralPrefilter.minimumLength` bytes; ASCII when
    /// caseless).
    var bytes: [UInt8]
    /// Whether ASCII letters match in either case (the rule is `(?i)` there).
    var caseless: Bool
    /// Whether the literal must start a word (`cpcre2_word_start`: no ASCII
    /// letter or digit before it, a colour escape's `m`, or a camelCase hump),
    /// where the rule's lookbehind accepts no more than that.
    var wordStart = false
    /// When set, the byte right after the literal must be one of these (the
    /// rule allows nothing else there); no byte after it does not count.
    var follow: [UInt8]? = nil

    /// A case-sensitive trigger.
    static func exact(_ literal: String) -> RuleTrigger {
        RuleTrigger(bytes: Array(literal.utf8), caseless: false)
    }

    /// An ASCII case-insensitive trigger.
    static func caseless(_ literal: String) -> RuleTrigger {
        RuleTrigger(bytes: Array(literal.utf8), caseless: true)
    }

    /// This trigger, counted only before one of `follow`'s bytes (ASCII letters
    /// in either case: the rules are caseless after their literals) and, when
    /// `wordStart`, only at a word start.
    func bounded(wordStart: Bool = true, follow: String) -> RuleTrigger {
        var t = self
        t.wordStart = wordStart
        var set = Set(follow.utf8)
        for b in set where (0x61...0x7A).contains(b | 0x20) { set.insert(b ^ 0x20) }
        t.follow = set.sorted()
        return t
    }
}

/// One pass over a line that tells which rules can match in it at all, so that
/// the ~99 % of log lines holding none of a rule's literals skip its regex (the
/// regexes were a third of ward's streaming CPU). Sound by construction: every
/// trigger is a literal its rule's every match contains (with the surroundings
/// every match gives it), and a line with a byte of 0x80 or more admits every
/// rule (PCRE2 folds U+017F and U+212A onto `s` and `k` when caseless; an exact
/// trigger with such a byte only occurs in such a line). The scan itself is C:
/// on x86-64, a nibble-table bucket filter over 32 positions at a time with
/// AVX2 (`cpcre2_prefilter_avx2`) or 16 with SSSE3; elsewhere a byte-pair filter at every
/// second position and a trigram filter (`cpcre2_prefilter`). Either way the
/// few positions let through are compared with the triggers that could start
/// there. About 4.5 KiB of tables per prefilter.
nonisolated final class LiteralPrefilter {
    /// Shortest trigger: the filters look at the first three bytes.
    static let minimumLength = 3
    /// Most rules one prefilter can tell apart (one bit each).
    static let maximumRules = 64
    /// Buckets of the vector scan (one bit of a byte each).
    static let bucketCount = 8

    /// Bits of every rule the prefilter knows: what a non-ASCII line admits.
    let allRules: UInt64

    nonisolated(unsafe) private let pairs: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) private let trigrams: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) private let buckets: UnsafeMutablePointer<cpcre2_buckets>
    nonisolated(unsafe) private let triggers: UnsafeMutablePointer<cpcre2_trigger>
    nonisolated(unsafe) private let storage: UnsafeMutablePointer<UInt8>
    nonisolated(unsafe) private let follows: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) private let groups: UnsafeMutablePointer<cpcre2_group>
    private let count: Int

    /// A prefilter where `rules[i]`'s triggers admit bit `i`.
    init(rules: [[RuleTrigger]]) {
        precondition(rules.count <= LiteralPrefilter.maximumRules, "too many prefiltered rules")
        let listed = rules.enumerated().flatMap { i, list in list.map { (rule: i, trigger: $0) } }
        let keys = listed.map { entry in
            let b = entry.trigger.bytes
            return cpcre2_key(cpcre2_lower(b[0]), cpcre2_lower(b[1]), cpcre2_lower(b[2]))
        }
        let bucketOf = LiteralPrefilter.assignBuckets(listed.map(\.trigger), keys: keys)
        let order = listed.indices.sorted {
            (bucketOf[$0], keys[$0], $0) < (bucketOf[$1], keys[$1], $1)
        }
        let flat = order.map { listed[$0] }
        let bytes = flat.map { entry in
            entry.trigger.caseless
                ? entry.trigger.bytes.map { UInt8(cpcre2_lower($0)) } : entry.trigger.bytes
        }
        count = flat.count
        let words = Int(CPCRE2_FILTER_WORDS)
        pairs = .allocate(capacity: words)
        pairs.initialize(repeating: 0, count: words)
        trigrams = .allocate(capacity: words)
        trigrams.initialize(repeating: 0, count: words)
        buckets = .allocate(capacity: 1)
        buckets.initialize(to: cpcre2_buckets())
        triggers = .allocate(capacity: max(1, flat.count))
        storage = .allocate(capacity: max(1, bytes.reduce(0) { $0 + $1.count }))
        follows = .allocate(capacity: max(1, 4 * flat.count))
        follows.initialize(repeating: 0, count: max(1, 4 * flat.count))
        var offset = 0
        var all: UInt64 = 0
        // Runs of triggers with the same bucket and first three bytes form the
        // groups; bucket b's groups start after those of the buckets before it.
        var runs: [(bucket: Int, group: cpcre2_group)] = []
        for (k, i) in order.enumerated() {
            if let last = runs.last, last.bucket == bucketOf[i], last.group.key == keys[i] {
                runs[runs.count - 1].group.end = UInt32(k + 1)
            } else {
                runs.append(
                    (bucketOf[i], cpcre2_group(key: keys[i], first: UInt32(k), end: UInt32(k + 1))))
            }
        }
        groups = .allocate(capacity: max(1, runs.count))
        groups.initialize(from: runs.map(\.group), count: runs.count)
        buckets.pointee.groups = UnsafePointer(groups)
        let starts = (0...LiteralPrefilter.bucketCount).map { b in
            UInt32(runs.filter { $0.bucket < b }.count)
        }
        for (k, entry) in flat.enumerated() {
            let (rule, trigger) = entry
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
            LiteralPrefilter.mark(
                literal.prefix(3), caseless: trigger.caseless, bucket: bucketOf[order[k]],
                in: buckets)
            var follow: UnsafePointer<UInt64>?
            if let set = trigger.follow {
                let words = follows + 4 * k
                for byte in set { words[Int(byte >> 6)] |= 1 << UInt64(byte & 63) }
                follow = UnsafePointer(words)
            }
            let bit: UInt64 = 1 << UInt64(rule)
            all |= bit
            (triggers + k).initialize(
                to: cpcre2_trigger(
                    bytes: UnsafePointer(storage + offset), length: UInt32(literal.count),
                    caseless: trigger.caseless ? 1 : 0, key: cpcre2_key(a, b, c),
                    word_start: trigger.wordStart ? 1 : 0, follow: follow, rules: bit,
                    head: LiteralPrefilter.word(literal.prefix(8)),
                    head_mask: LiteralPrefilter.word(literal.prefix(8).map { _ in 0xFF }),
                    fold: LiteralPrefilter.word(
                        literal.prefix(8).map {
                            trigger.caseless && (0x61...0x7A).contains($0) ? 0x20 : 0
                        })))
            offset += literal.count
        }
        withUnsafeMutableBytes(of: &buckets.pointee.start) { raw in
            let start = raw.bindMemory(to: UInt32.self)
            for b in 0...LiteralPrefilter.bucketCount { start[b] = starts[b] }
        }
        allRules = all
    }

    deinit {
        pairs.deallocate()
        trigrams.deallocate()
        buckets.deallocate()
        triggers.deallocate()
        storage.deallocate()
        follows.deallocate()
        groups.deallocate()
    }

    /// A bucket for each trigger. Triggers with the same first three bytes
    /// share one; each new prefix goes where it widens the nibble tables
    /// least, counted as the number of 3-byte strings the bucket would let
    /// through, so similar prefixes (`AKIA`, `ASIA`; `ghp_`, `gho_`) end up
    /// together and few ordinary words pass a bucket's three tables.
    private static func assignBuckets(_ triggers: [RuleTrigger], keys: [UInt32]) -> [Int] {
        // Per bucket, per position: the low and high nibbles it lets through.
        var nibbles = [[(lo: UInt16, hi: UInt16)]](
            repeating: Array(repeating: (0, 0), count: 3), count: bucketCount)
        var prefixes: [UInt32: Int] = [:]
        var members = [Int](repeating: 0, count: bucketCount)
        func accepted(_ n: [(lo: UInt16, hi: UInt16)]) -> Int {
            n.reduce(1) { $0 * $1.lo.nonzeroBitCount * $1.hi.nonzeroBitCount }
        }
        return zip(triggers, keys).map { trigger, key in
            let b = trigger.bytes
            if let known = prefixes[key] { return known }
            let mine = (0..<3).map { q -> (lo: UInt16, hi: UInt16) in
                variants(b[q], caseless: trigger.caseless).reduce((0, 0)) {
                    ($0.0 | 1 << UInt16($1 & 15), $0.1 | 1 << UInt16($1 >> 4))
                }
            }
            let costs = nibbles.map { n in
                let widened = zip(n, mine).map { ($0.lo | $1.lo, $0.hi | $1.hi) }
                return accepted(widened) - (n[0].lo == 0 ? 0 : accepted(n))
            }
            // Equal widening goes to the bucket with the fewest prefixes: fewer
            // comparisons at a candidate.
            let chosen = costs.indices.min {
                (costs[$0], members[$0]) < (costs[$1], members[$1])
            }!
            members[chosen] += 1
            nibbles[chosen] = zip(nibbles[chosen], mine).map { ($0.lo | $1.lo, $0.hi | $1.hi) }
            prefixes[key] = chosen
            return chosen
        }
    }

    /// Up to 8 bytes as one little-endian word (the first in the lowest byte).
    private static func word<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var w: UInt64 = 0
        for (k, b) in bytes.enumerated() { w |= UInt64(b) << UInt64(8 * k) }
        return w
    }

    /// The bytes a trigger byte stands for: both cases of a caseless letter.
    private static func variants(_ byte: UInt8, caseless: Bool) -> [UInt8] {
        let folded = byte | 0x20
        return caseless && (0x61...0x7A).contains(folded) ? [folded, folded ^ 0x20] : [byte]
    }

    /// Marks `prefix`'s three bytes (both cases of a caseless letter) in the
    /// vector scan's nibble tables for `bucket`.
    private static func mark(
        _ prefix: ArraySlice<UInt8>, caseless: Bool, bucket: Int,
        in buckets: UnsafeMutablePointer<cpcre2_buckets>
    ) {
        let bit = UInt8(1) << UInt8(bucket)
        withUnsafeMutableBytes(of: &buckets.pointee) { raw in
            // lo[3][16] then hi[3][16]: 48 bytes each.
            for (q, byte) in prefix.enumerated() {
                for value in variants(byte, caseless: caseless) {
                    raw[16 * q + Int(value & 15)] |= bit
                    raw[48 + 16 * q + Int(value >> 4)] |= bit
                }
            }
        }
    }

    /// Bits of the rules that can match somewhere in `window`.
    func admitted(_ window: UnsafeRawBufferPointer) -> UInt64 {
        admitted(window, scan: LiteralPrefilter.bestScan)
    }

    /// The fastest scan this machine runs (every scan gives the same answer).
    static let bestScan = cpcre2_best_scan()

    /// The scans this machine runs, slowest first (the tests hold each to
    /// the others).
    static var availableScans: [Int32] {
        [CPCRE2_SCAN_PAIRS, CPCRE2_SCAN_SSSE3, CPCRE2_SCAN_AVX2].map(Int32.init).filter {
            $0 <= bestScan
        }
    }

    /// The same answer from one particular scan (one this machine runs).
    func admitted(_ window: UnsafeRawBufferPointer, scan: Int32) -> UInt64 {
        guard let base = window.baseAddress, count > 0 else { return 0 }
        return cpcre2_prefilter_by(
            scan, base.assumingMemoryBound(to: UInt8.self), window.count, pairs, trigrams,
            buckets, triggers, count, allRules)
    }
}
