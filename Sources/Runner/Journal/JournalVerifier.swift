import Glibc

/// Verifies a journal set from its stored bytes: rotated files in seq order,
/// then the active file. A line's hash is always computed over the bytes on
/// disk; nothing is re-serialised (case 30).
nonisolated public enum JournalVerifier {
    /// Verifies the journal whose active file is `path`, optionally against an
    /// anchor. Throws only when a file cannot be read at all; damage to the
    /// content is reported in the `VerifyReport`.
    public static func verify(path: String, anchor: JournalAnchor? = nil) throws(JournalError)
        -> VerifyReport
    {
        let set = JournalSet(path: path)
        let rotated = try set.rotatedFiles()
        var paths = rotated.map(\.path)
        if try JournalFile.open(path, writable: false, create: false) != nil || paths.isEmpty {
            paths.append(path)
        }
        var walk = ChainWalk(anchor: anchor)
        for file in rotated { walk.namedFirstSeq[file.path] = file.firstSeq }
        for file in paths {
            guard let handle = try JournalFile.open(file, writable: false, create: false) else {
                throw .cannotOpen(path: file, errno: errnoName(ENOENT))
            }
            walk.report.filesChecked += 1
            var scanner = LineScanner(file: handle, end: try handle.status().size)
            while let line = try scanner.next() {
                if walk.step(line, file: file) { return walk.report }
            }
        }
        walk.finish()
        return walk.report
    }
}

/// One line that passed the checks, as the next line needs it.
nonisolated private struct Link {
    var file: String
    var line: Int
    var seq: Int64
    var hash: String
}

/// The verifier's state machine over the lines of the set, in order.
///
/// Two findings need one line of lookahead to be named right: a seq jump
/// (`deleted` if seq keeps rising after it, `reordered` if it comes back) and
/// a `prev` that does not match (the line before was `edited`, unless the next
/// line also rejects this one, in which case this line's own `prev` was).
nonisolated private struct ChainWalk {
    let anchor: JournalAnchor?
    var report = VerifyReport(
        filesChecked: 0, linesChecked: 0, firstSeq: nil, head: nil, notes: [], problem: nil)
    var previous: Link?
    var pendingGap: (at: Link, expected: Int64)?
    var pendingMismatch: (line: Link, before: Link)?
    var anchorProblem: JournalProblem?
    var anchorSeen = false
    var currentFile = ""
    /// The seq each rotated file's name says its first line has.
    var namedFirstSeq: [String: Int64] = [:]

    init(anchor: JournalAnchor?) {
        self.anchor = anchor
    }

    /// Checks one line; returns true once a problem is settled.
    mutating func step(_ line: LineScanner.Line, file: String) -> Bool {
        let firstInFile = file != currentFile
        currentFile = file

        if !line.terminated {
            if settlePending() { return true }
            return fail(
                .torn, file, line.number, nil,
                "torn tail: the final line has no newline"
                    + " (an append was interrupted; the next append cuts it off and records it)")
        }
        guard !line.oversized else {
            if settlePending() { return true }
            return fail(
                .malformed, file, line.number, nil,
                "malformed line: longer than \(JournalFormat.maxLineBytes) bytes")
        }
        let header: JournalFormat.Header
        switch JournalFormat.header(of: line.bytes, strict: true) {
        case .success(let h): header = h
        case .failure(let problem):
            if settlePending() { return true }
            return fail(.malformed, file, line.number, nil, "malformed line: \(problem.reason)")
        }
        let link = Link(
            file: file, line: line.number, seq: header.seq,
            hash: JournalFormat.hash(ofLine: line.bytes))

        // Rotation names a file after its first line, and retention deletes
        // whole files: a rotated file that begins later than its name lost
        // lines from its start, whatever comes before it.
        if firstInFile, let named = namedFirstSeq[file], link.seq != named {
            if settlePending() { return true }
            return fail(
                link.seq > named ? .deleted : .reordered, file, line.number, link.seq,
                "the first line is seq \(link.seq), but the file's name says it begins at seq"
                    + " \(named): "
                    + (link.seq > named
                        ? "lines were deleted from its start" : "lines were moved into it"))
        }
        if let gap = pendingGap {
            return settleGap(gap, next: link.seq)
        }
        if let mismatch = pendingMismatch {
            let ownPrevChanged =
                link.seq == mismatch.line.seq + 1 && header.prev != mismatch.line.hash
            return settleMismatch(mismatch, ownPrevChanged: ownPrevChanged)
        }

        if let previous {
            if link.seq <= previous.seq {
                return fail(
                    .reordered, file, line.number, link.seq,
                    "seq \(link.seq) follows seq \(previous.seq): lines were moved or duplicated")
            }
            if link.seq > previous.seq + 1 {
                pendingGap = (link, previous.seq + 1)
            } else if header.prev != previous.hash {
                if firstInFile {
                    return fail(
                        .linkage, file, line.number, link.seq,
                        "linkage mismatch: prev of seq \(link.seq) is not the hash of the last"
                            + " line of \(previous.file)")
                }
                pendingMismatch = (link, previous)
            }
        } else if link.seq == 1 {
            if header.prev != JournalFormat.genesisHash {
                return fail(
                    .linkage, file, line.number, 1,
                    "linkage mismatch: seq 1 does not carry the genesis prev (64 zeros)")
            }
        } else {
            report.notes.append("history before seq \(link.seq) was pruned by retention")
        }

        checkAnchor(link)
        accept(link)
        return false
    }

    /// Settles what is still pending at the end of the chain and checks the anchor.
    mutating func finish() {
        if settlePending() { return }
        if let anchorProblem {
            report.problem = anchorProblem
            return
        }
        guard let anchor, !anchorSeen else { return }
        let last = report.head?.seq ?? 0
        if anchor.seq > last {
            report.problem = JournalProblem(
                kind: .truncated, file: currentFile, line: 0, seq: nil,
                message: "the chain ends at seq \(last), before the anchor seq \(anchor.seq):"
                    + " the newest lines were deleted")
        } else {
            report.problem = JournalProblem(
                kind: .anchorMismatch, file: currentFile, line: 0, seq: anchor.seq,
                message: "anchor seq \(anchor.seq) is older than the retained history"
                    + " (first seq \(report.firstSeq ?? 0)); it cannot be checked")
        }
    }

    /// Settles a pending finding with no usable next line.
    private mutating func settlePending() -> Bool {
        if let gap = pendingGap { return settleGap(gap, next: nil) }
        if let mismatch = pendingMismatch {
            return settleMismatch(mismatch, ownPrevChanged: false)
        }
        return false
    }

    private mutating func accept(_ link: Link) {
        if report.firstSeq == nil { report.firstSeq = link.seq }
        previous = link
        report.linesChecked += 1
        report.head = JournalHead(seq: link.seq, hash: link.hash)
    }

    private mutating func checkAnchor(_ link: Link) {
        guard let anchor, anchor.seq == link.seq else { return }
        anchorSeen = true
        if anchor.hash != link.hash && anchorProblem == nil {
            anchorProblem = JournalProblem(
                kind: .anchorMismatch, file: link.file, line: link.line, seq: link.seq,
                message: "anchor mismatch: seq \(link.seq) hashes to \(link.hash),"
                    + " the anchor says \(anchor.hash)")
        }
    }

    /// A seq jump followed by `next`: a later line coming back below the jump
    /// means the lines were moved; otherwise they are gone.
    private mutating func settleGap(_ gap: (at: Link, expected: Int64), next: Int64?) -> Bool {
        let at = gap.at
        countOnlyBefore(seq: gap.expected)
        if let next, next <= at.seq {
            return fail(
                .reordered, at.file, at.line, at.seq,
                "seq \(at.seq) where seq \(gap.expected) was expected, and a lower seq follows:"
                    + " lines were moved")
        }
        return fail(
            .deleted, at.file, at.line, at.seq,
            "seq gap: seq \(at.seq) where seq \(gap.expected) was expected: lines were deleted")
    }

    /// A `prev` that does not match the line before it. When the following
    /// line rejects this line too, this line's own `prev` was edited; otherwise
    /// the line before changed.
    private mutating func settleMismatch(
        _ mismatch: (line: Link, before: Link), ownPrevChanged: Bool
    ) -> Bool {
        let edited = ownPrevChanged ? mismatch.line : mismatch.before
        countOnlyBefore(seq: edited.seq)
        let evidence =
            ownPrevChanged
            ? "its prev does not match seq \(edited.seq - 1), nor its hash the next line's prev"
            : "its hash is not the prev recorded by seq \(edited.seq + 1)"
        return fail(
            .edited, edited.file, edited.line, edited.seq,
            "content mismatch: seq \(edited.seq) changed after it was written (\(evidence))")
    }

    /// Makes `linesChecked` count only the lines before seq `seq`: lines after
    /// a break may have been read (to tell an edit from a move) but did not
    /// pass.
    private mutating func countOnlyBefore(seq: Int64) {
        guard let first = report.firstSeq else { return }
        report.linesChecked = min(report.linesChecked, max(0, Int(seq - first)))
    }

    private mutating func fail(
        _ kind: JournalProblem.Kind, _ file: String, _ line: Int, _ seq: Int64?, _ message: String
    ) -> Bool {
        report.problem = JournalProblem(
            kind: kind, file: file, line: line, seq: seq, message: message)
        return true
    }
}
