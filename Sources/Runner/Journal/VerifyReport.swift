/// A `seq:hash` pair a control plane recorded earlier: verification fails when
/// the journal no longer holds that line with that hash, which is the only way
/// to notice that the newest lines were deleted.
nonisolated public struct JournalAnchor: Equatable, Sendable {
    /// The anchored line's seq.
    public var seq: Int64
    /// The anchored line's hash.
    public var hash: String

    /// An anchor from its parts.
    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// Parses `SEQ:HASH` (the `--anchor` form); nil when it is not that shape.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int64(parts[0]), seq >= 1,
            JournalFormat.isHash(String(parts[1]))
        else { return nil }
        self.init(seq: seq, hash: String(parts[1]))
    }
}

/// The first thing wrong with a journal, and where.
nonisolated public struct JournalProblem: Equatable, Sendable {
    /// What kind of damage it is.
    public enum Kind: String, Sendable {
        /// A line's content changed after it was written (the next line's `prev`
        /// no longer matches its hash while seq runs on).
        case edited
        /// A seq gap: lines were deleted.
        case deleted
        /// Seq goes backwards or repeats: lines were moved or duplicated.
        case reordered
        /// The final line has no newline: an append was interrupted.
        case torn
        /// A line is not a JSON object with seq, time, prev and event.
        case malformed
        /// A `prev` is wrong at a place no edit explains: the first line of the
        /// journal, or the first line of a file against the file before it.
        case linkage
        /// The chain ends before the anchor's seq: the newest lines were deleted.
        case truncated
        /// The anchor's seq is present with another hash, or was pruned.
        case anchorMismatch = "anchor_mismatch"
    }

    /// What kind of damage it is.
    public var kind: Kind
    /// The file it is in.
    public var file: String
    /// 1-based line in `file`; 0 when the problem is about the end of the chain.
    public var line: Int
    /// The seq of that line, when it has one.
    public var seq: Int64?
    /// A sentence for people.
    public var message: String
}

/// The outcome of verifying a journal set.
nonisolated public struct VerifyReport: Equatable, Sendable {
    /// Number of files read.
    public var filesChecked: Int
    /// Number of lines that passed every check.
    public var linesChecked: Int
    /// Seq of the first retained line, when there is one.
    public var firstSeq: Int64?
    /// The newest line that passed, when there is one.
    public var head: JournalHead?
    /// Informational remarks that do not fail verification (pruned history).
    public var notes: [String]
    /// The first problem found, or nil.
    public var problem: JournalProblem?

    /// Whether the journal verified.
    public var ok: Bool { problem == nil }

    /// The report as a JSON object (for `ward journal verify --json`).
    public var json: JSONValue {
        var object = JSONObject()
        object["ok"] = .bool(ok)
        object["files"] = .int(Int64(filesChecked))
        object["lines"] = .int(Int64(linesChecked))
        object["first_seq"] = firstSeq.map { .int($0) } ?? .null
        object["head"] =
            head.map { .object(JSONObject([("seq", .int($0.seq)), ("hash", .string($0.hash))])) }
            ?? .null
        object["notes"] = .array(notes.map { .string($0) })
        if let problem {
            var p = JSONObject()
            p["kind"] = .string(problem.kind.rawValue)
            p["file"] = .string(problem.file)
            p["line"] = .int(Int64(problem.line))
            p["seq"] = problem.seq.map { .int($0) } ?? .null
            p["message"] = .string(problem.message)
            object["problem"] = .object(p)
        } else {
            object["problem"] = .null
        }
        return .object(object)
    }

    /// The report for a terminal, one fact per line.
    public var text: String {
        var out: String
        if let problem {
            let place = problem.line > 0 ? "\(problem.file):\(problem.line)" : problem.file
            out = "journal FAILED: \(place): \(problem.kind.rawValue): \(problem.message)\n"
            out +=
                "  \(VerifyReport.count(linesChecked, "line")) before it passed every check,"
                + " in \(VerifyReport.count(filesChecked, "file"))\n"
        } else {
            let span = firstSeq.map { first in "seq \(first)..\(head?.seq ?? first)" } ?? "empty"
            out =
                "journal OK: \(VerifyReport.count(linesChecked, "line")) in"
                + " \(VerifyReport.count(filesChecked, "file")), \(span)\n"
            if let head { out += "  head \(head.seq):\(head.hash)\n" }
        }
        for note in notes { out += "  note: \(note)\n" }
        return out
    }

    /// `n` and `noun`, plural when needed: "1 file", "4 lines".
    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }
}
