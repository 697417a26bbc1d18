/// A number of lines and the bytes they weigh.
nonisolated public struct LineTally: Equatable, Sendable {
    /// Lines (pieces of split lines count one each).
    public var lines = 0
    /// Bytes as `OutputLine.byteCount` measures them.
    public var bytes = 0

    /// Zero lines, zero bytes.
    public init() {}

    /// A tally of `lines` lines weighing `bytes` bytes.
    public init(lines: Int, bytes: Int) {
        self.lines = lines
        self.bytes = bytes
    }

    /// Counts one more line.
    mutating func add(_ line: OutputLine) {
        lines += 1
        bytes += line.byteCount
    }

    /// `{"lines":N,"bytes":N}`.
    public var json: JSONValue {
        .object(JSONObject([("lines", .int(Int64(lines))), ("bytes", .int(Int64(bytes)))]))
    }
}

/// What a run's output amounted to, for the journal: everything seen per stream,
/// what was forwarded live, what arrived as the tail after the cap, what was
/// dropped in between, and how much was redacted.
nonisolated public struct OutputCounts: Equatable, Sendable {
    /// Lines seen on stdout.
    public var stdout = LineTally()
    /// Lines seen on stderr.
    public var stderr = LineTally()
    /// Lines forwarded before the cap.
    public var forwarded = LineTally()
    /// Lines held back by the cap and delivered as the tail at the end.
    public var tail = LineTally()
    /// Lines held back by the cap and never delivered (the gap).
    public var dropped = LineTally()
    /// Markers written into all seen lines.
    public var redactions = 0
    /// Ids of the rules that matched, in order of first match.
    public var rules: [String] = []
    /// Seen lines that held invalid UTF-8.
    public var invalidUTF8Lines = 0
    /// Whether the cap was reached.
    public var capReached = false

    /// All zero.
    public init() {}

    /// The counts as a JSON object for the journal (names and numbers only).
    public var json: JSONValue {
        .object(
            JSONObject([
                ("stdout", stdout.json),
                ("stderr", stderr.json),
                ("forwarded", forwarded.json),
                ("tail", tail.json),
                ("dropped", dropped.json),
                ("cap_reached", .bool(capReached)),
                ("redactions", .int(Int64(redactions))),
                ("redaction_rules", .array(rules.map { .string($0) })),
                ("invalid_utf8_lines", .int(Int64(invalidUTF8Lines))),
            ]))
    }
}
