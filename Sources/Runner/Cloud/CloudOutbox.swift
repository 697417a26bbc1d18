/// What the link still has to send for one run, in order: messages (accepted,
/// the cap's gap, the result) and output lines. Lines are bounded: past
/// `lineLimit` the oldest buffered lines are dropped and counted, so a run
/// whose link is down keeps its newest output and honest counts of the rest.
struct RunOutbox {
    /// One thing to send.
    enum Item {
        /// A whole message, encoded; `isResult` for the run's `run.finished`.
        case message([UInt8], isResult: Bool)
        /// One output line, encoded as `run.output` carries it.
        case line([UInt8], textBytes: Int)
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

    /// Queues a line, dropping the oldest lines while over the bound.
    mutating func append(line: [UInt8], textBytes: Int) {
        items.append(.line(line, textBytes: textBytes))
        lineBytes += textBytes
        while lineBytes > lineLimit, let index = oldestLine() {
            guard case .line(_, let bytes) = items[index] else { break }
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

    /// Up to `maxLines` consecutive lines from the front whose encoded size
    /// stays within `maxBytes` (at least one line when the front is a line).
    func frontLines(maxLines: Int, maxBytes: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var size = 0
        var i = start
        while i < items.count, out.count < maxLines, case .line(let bytes, _) = items[i] {
            if !out.isEmpty && size + bytes.count > maxBytes { break }
            out.append(bytes)
            size += bytes.count + 1
            i += 1
        }
        return out
    }

    /// Removes `count` items from the front.
    mutating func removeFront(_ count: Int) {
        for i in start..<(start + count) {
            if case .line(_, let bytes) = items[i] { lineBytes -= bytes }
        }
        start += count
        compact()
    }

    /// Drops consumed items once they are the larger part of the array.
    private mutating func compact() {
        if start > 0 && start * 2 >= items.count {
            items.removeFirst(start)
            start = 0
        }
    }
}
