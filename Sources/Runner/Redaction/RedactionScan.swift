/// One match of one rule in a scanned buffer, before overlaps are merged.
nonisolated struct RedactionMatch {
    /// Bytes replaced by the marker.
    var start: Int
    /// End of the replaced bytes.
    var end: Int
    /// Start of everything the rule needs to see to find the match again (its
    /// key, for a rule that replaces only a `value` group); a forced line split
    /// must not fall inside it.
    var extentStart: Int
    /// End of that extent.
    var extentEnd: Int
    /// Index of the rule in the redactor's rule table.
    var rule: Int
    /// A private-key block still open at the end of the buffer.
    var open: Bool
}

/// A stretch of a buffer replaced by one marker: overlapping and adjacent
/// matches merged, named after the rule whose match starts first.
nonisolated struct RedactionSpan {
    /// First replaced byte.
    var start: Int
    /// End of the replaced bytes.
    var end: Int
    /// Rule that names the marker.
    var rule: Int
    /// Every rule that contributed a match.
    var hits: [Int]
}

/// A stretch of a buffer that a forced split must not cut. An unfinished
/// private-key block is not one: every byte from its start on is redacted
/// whichever piece it lands in, and the stream carries the block state.
nonisolated struct RedactionExtent {
    /// First byte.
    var start: Int
    /// End.
    var end: Int
}

/// Everything the redactor found in one buffer: spans to replace, extents a cut
/// must respect, and whether a rule ran out of its match budget.
nonisolated struct RedactionScan {
    /// Merged replacement spans, sorted and disjoint.
    var spans: [RedactionSpan] = []
    /// Merged extents of the closed matches, sorted and disjoint.
    var extents: [RedactionExtent] = []
    /// The first rule that hit its match limit; the buffer must be redacted whole.
    var limitRule: Int?
    /// Where a private-key block that the buffer does not close begins.
    var privateKeyOpenStart: Int?
    /// True when the prefilter found the line all ASCII (false: not known).
    var knownASCII = false

    /// Builds the merged spans and extents from raw matches (reordering them).
    init(merging matches: inout [RedactionMatch], limitRule: Int?, privateKeyOpenStart: Int?) {
        self.limitRule = limitRule
        self.privateKeyOpenStart = privateKeyOpenStart
        guard !matches.isEmpty else { return }

        // Ties go to the lower rule index: literals, then action, config and
        // built-in rules, in that order.
        matches.sort { $0.start != $1.start ? $0.start < $1.start : $0.rule < $1.rule }
        for m in matches {
            if let i = spans.indices.last, m.start <= spans[i].end {
                spans[i].end = max(spans[i].end, m.end)
                if !spans[i].hits.contains(m.rule) { spans[i].hits.append(m.rule) }
            } else {
                spans.append(
                    RedactionSpan(start: m.start, end: m.end, rule: m.rule, hits: [m.rule]))
            }
        }

        matches.sort { $0.extentStart < $1.extentStart }
        for m in matches where !m.open {
            if let i = extents.indices.last, m.extentStart <= extents[i].end {
                extents[i].end = max(extents[i].end, m.extentEnd)
            } else {
                extents.append(RedactionExtent(start: m.extentStart, end: m.extentEnd))
            }
        }
    }

    /// The extent strictly around position `c` (starting before it, ending after).
    func extent(straddling c: Int) -> RedactionExtent? {
        extents.first { $0.start < c && $0.end > c }
    }

    /// End of the last extent that ends at or before `c`, or nil.
    func extentEnd(before c: Int) -> Int? {
        extents.last { $0.end <= c }?.end
    }
}
