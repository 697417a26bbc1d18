/// The output limits of one run, across both streams. Lines are forwarded until
/// the next one would pass `maxLines` or `maxBytes`; from then on nothing more is
/// forwarded live, but every line is still counted and the last few are kept in
/// a bounded ring, so that the end of the output (usually the error that
/// explains a failure) still arrives after a gap marker.
nonisolated public struct OutputCap: Sendable {
    /// Lines kept for the tail: enough for a stack trace's head or a summary.
    public static let tailMaxLines = 20
    /// Bytes kept for the tail: one full-size line piece's worth, so the ring
    /// cannot grow with what the child prints.
    public static let tailMaxBytes = 64 * 1024

    /// What to do with an offered line.
    public enum Decision: Equatable, Sendable {
        /// Send it now.
        case forward
        /// Do not send it; it may come back in the tail from `finish()`.
        case withhold
    }

    /// The lines left out between what was forwarded and the tail.
    public struct Gap: Equatable, Sendable {
        /// Lines dropped.
        public var lines: Int
        /// Bytes dropped.
        public var bytes: Int

        /// `{"lines":N,"bytes":N}` for the gap marker.
        public var json: JSONValue { LineTally(lines: lines, bytes: bytes).json }
    }

    /// What the end of the run delivers after the forwarded lines.
    public struct End: Equatable, Sendable {
        /// Nil when nothing was dropped.
        public var gap: Gap?
        /// The withheld lines that are delivered after the gap, in order.
        public var tail: [OutputLine]
    }

    /// Byte limit (clamped `max_output_bytes`).
    public let maxBytes: Int
    /// Line limit (clamped `max_output_lines`).
    public let maxLines: Int
    /// Counters so far (tail and dropped are final after `finish()`).
    public private(set) var counts = OutputCounts()

    private var withheld = LineTally()
    private var ring: [OutputLine] = []
    private var ringBytes = 0
    private var finished = false

    /// A cap of `maxBytes` bytes and `maxLines` lines.
    public init(maxBytes: Int, maxLines: Int) {
        precondition(maxBytes >= 0 && maxLines >= 0, "output caps cannot be negative")
        self.maxBytes = maxBytes
        self.maxLines = maxLines
    }

    /// Counts `line` and says whether to forward it.
    public mutating func offer(_ line: OutputLine) -> Decision {
        precondition(!finished, "offer after finish")
        switch line.stream {
        case .stdout: counts.stdout.add(line)
        case .stderr: counts.stderr.add(line)
        }
        counts.redactions += line.redactions
        for rule in line.rules where !counts.rules.contains(rule) { counts.rules.append(rule) }
        if line.invalidUTF8 { counts.invalidUTF8Lines += 1 }

        if !counts.capReached, counts.forwarded.lines + 1 <= maxLines,
            counts.forwarded.bytes + line.byteCount <= maxBytes
        {
            counts.forwarded.add(line)
            return .forward
        }
        counts.capReached = true
        withheld.add(line)
        keep(line)
        return .withhold
    }

    /// Ends the run's output: the gap (if any line was dropped) and the tail.
    public mutating func finish() -> End {
        precondition(!finished, "finish twice")
        finished = true
        counts.tail = LineTally(lines: ring.count, bytes: ringBytes)
        counts.dropped = LineTally(
            lines: withheld.lines - ring.count, bytes: withheld.bytes - ringBytes)
        let gap =
            counts.dropped.lines > 0
            ? Gap(lines: counts.dropped.lines, bytes: counts.dropped.bytes) : nil
        return End(gap: gap, tail: ring)
    }

    /// Adds `line` to the ring, evicting the oldest lines past either bound; the
    /// ring always holds a contiguous run of the newest withheld lines.
    private mutating func keep(_ line: OutputLine) {
        ring.append(line)
        ringBytes += line.byteCount
        while !ring.isEmpty,
            ring.count > OutputCap.tailMaxLines || ringBytes > OutputCap.tailMaxBytes
        {
            ringBytes -= ring.removeFirst().byteCount
        }
    }
}
