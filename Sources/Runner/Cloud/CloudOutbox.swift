/// What the link still has to send for one run, in order: messages (accepted,
/// the cap's gap, the result) and output lines. Lines are bounded while the
/// link is down: past `lineLimit` the oldest buffered lines are dropped and
/// counted, so the run keeps its newest output and honest counts of the rest.
/// While the link is up nothing is dropped: backpressure bounds the outbox
/// instead (the children are paused whenever the websocket is full, so it
/// holds at most one pipe read more than it could send), and one read can be
/// larger than `lineLimit` when the concurrent-run limit is high.
///
/// Lines are encoded once, straight into one buffer, each followed by a
/// comma: consecutive lines are then one contiguous, already joined slice
/// that a `run.output` copies whole, instead of an array per line.
struct RunOutbox {
    /// One thing to send.
    enum Item {
        /// A whole message, encoded; `isResult` for the run's `run.finished`.
        case message([UInt8], isResult: Bool)
        /// One output line, encoded as `run.output` carries it: `count`
        /// bytes (its comma included) at absolute offset `start` of the line
        /// buffer.
        case line(start: Int, count: Int, textBytes: Int)
    }

    /// Most line bytes (redacted text) held per run while they cannot be
    /// sent: 256 KiB keeps the last few thousand lines of a run through an
    /// outage.
    static let maxLineBytes = 256 * 1024
    /// Fewest line bytes held per run, whatever the run limit: the tail of a
    /// run is still worth having.
    static let minLineBytes = 16 * 1024
    /// What all runs' outboxes may hold together: 16 MiB, so the memory of a
    /// runner through an outage does not depend on its concurrent-run limit
    /// (up to 1024).
    static let totalLineBytes = 16 * 1024 * 1024

    /// The per-run bound for a runner allowing `maxConcurrentRuns` at once.
    static func lineLimit(maxConcurrentRuns: Int) -> Int {
        min(maxLineBytes, max(minLineBytes, totalLineBytes / max(1, maxConcurrentRuns)))
    }

    /// Line bytes held before the oldest are dropped.
    let lineLimit: Int

    /// An empty outbox holding at most `lineLimit` line bytes.
    init(lineLimit: Int) {
        self.lineLimit = lineLimit
    }

    private var items: [Item] = []
    private var start = 0
    /// Encoded lines, each with its comma; `lineData[0]` is at absolute
    /// offset `dataBase`, and everything before `dataConsumed` is sent or
    /// dropped.
    private var lineData: [UInt8] = []
    private var dataBase = 0
    private var dataConsumed = 0
    /// Text bytes of the lines held.
    private(set) var lineBytes = 0
    /// Lines dropped since the last `run.dropped` went out.
    private(set) var droppedLines = 0
    /// Their text bytes.
    private(set) var droppedBytes = 0

    /// Whether nothing is waiting (dropped counts included).
    var isEmpty: Bool { start == items.count && droppedLines == 0 }

    /// Queues a message.
    mutating func append(message: [UInt8], isResult: Bool = false) {
        items.append(.message(message, isResult: isResult))
    }

    /// Bytes a line's JSON adds to its text, for sizing the buffer up front:
    /// `{"stream":"stdout","seq":1234567,"text":"","eol":"crlf"},` is 58,
    /// and escapes are rare in logs (the buffer grows if they are not).
    static let lineOverheadEstimate = 64

    /// Room kept in the emptied line buffer of a live run: a 64 KiB pipe
    /// read encodes to about 80 KiB, so a stream reuses one buffer instead
    /// of faulting in a new one per read; more (after an outage) goes back.
    static let keptLineCapacity = 256 * 1024

    /// Frees the line buffer's room once nothing is queued: a finished run
    /// waits for its acknowledgement (up to 1024 of them) without it.
    mutating func releaseSpareCapacity() {
        guard dataConsumed - dataBase == lineData.count else { return }
        lineData = []
    }

    /// Encodes and queues `lines` in order (one access to the outbox for a
    /// whole pipe read's worth). An empty buffer is sized for them at once.
    /// With `dropping` (the link is down) the oldest lines go while over the
    /// bound; without it every line is kept.
    mutating func append(lines: [OutputLine], dropping: Bool) {
        if lineData.isEmpty {
            var estimate = 0
            for i in lines.indices {
                estimate += lines[i].text.utf8.count + Self.lineOverheadEstimate
            }
            lineData.reserveCapacity(estimate)
        }
        for i in lines.indices { append(line: lines[i], dropping: dropping) }
    }

    /// Encodes and queues a line; with `dropping`, drops the oldest lines
    /// while over the bound.
    mutating func append(line: OutputLine, dropping: Bool) {
        let offset = dataBase + lineData.count
        WireEncoder.appendLine(line, into: &lineData)
        lineData.append(UInt8(ascii: ","))
        let count = dataBase + lineData.count - offset
        items.append(.line(start: offset, count: count, textBytes: line.byteCount))
        lineBytes += line.byteCount
        while dropping, lineBytes > lineLimit, let index = oldestLine() {
            guard case .line(let from, let count, let bytes) = items[index] else { break }
            dataConsumed = from + count
            // Only a few messages (accepted, the cap's gap) can sit before the
            // oldest line: shift them over it, so a drop costs O(1) lines.
            var i = index
            while i > start {
                items[i] = items[i - 1]
                i -= 1
            }
            start += 1
            lineBytes -= bytes
            droppedLines += 1
            droppedBytes += bytes
        }
        compact()
    }

    /// Index of the oldest line still held.
    private func oldestLine() -> Int? {
        var i = start
        while i < items.count {
            if case .line = items[i] { return i }
            i += 1
        }
        return nil
    }

    /// Takes the dropped counts, resetting them.
    mutating func takeDropped() -> (lines: Int, bytes: Int)? {
        guard droppedLines > 0 else { return nil }
        defer {
            droppedLines = 0
            droppedBytes = 0
        }
        return (droppedLines, droppedBytes)
    }

    /// The next item, without removing it.
    var first: Item? { start < items.count ? items[start] : nil }

    /// How many consecutive lines from the front (up to `maxLines`) fit in
    /// `maxBytes` of encoded size (at least one line when the front is a
    /// line; zero when it is not).
    func frontLineCount(maxLines: Int, maxBytes: Int) -> Int {
        var n = 0
        var size = 0
        var i = start
        while i < items.count, n < maxLines, case .line(_, let count, _) = items[i] {
            if n > 0 && size + count - 1 > maxBytes { break }
            size += count
            n += 1
            i += 1
        }
        return n
    }

    /// Calls `body` with the encoded front `count` lines joined by commas
    /// (valid only during the call); they must all be lines.
    func withFrontLines<R>(_ count: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        precondition(count > 0, "no lines asked for")
        guard case .line(let first, _, _) = items[start],
            case .line(let last, let lastCount, _) = items[start + count - 1]
        else { preconditionFailure("front items are not lines") }
        // Drop the last line's comma.
        let range = (first - dataBase)..<(last + lastCount - 1 - dataBase)
        return lineData.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Removes `count` items from the front.
    mutating func removeFront(_ count: Int) {
        for i in start..<(start + count) {
            if case .line(let from, let length, let bytes) = items[i] {
                lineBytes -= bytes
                dataConsumed = from + length
            }
        }
        start += count
        compact()
    }

    /// Drops consumed items once they are the larger part of the array, and
    /// sent or dropped line bytes once they are the larger part of theirs.
    /// When no line is left the buffer is emptied, keeping up to
    /// `keptLineCapacity` of room for the next batch.
    private mutating func compact() {
        if start > 0 && start * 2 >= items.count {
            items.removeFirst(start)
            start = 0
        }
        let dead = dataConsumed - dataBase
        if dead > 0 && dead == lineData.count {
            lineData.removeAll(keepingCapacity: lineData.capacity <= Self.keptLineCapacity)
            dataBase = dataConsumed
        } else if dead > 0 && dead * 2 >= lineData.count {
            lineData.removeFirst(dead)
            dataBase = dataConsumed
        }
    }
}
