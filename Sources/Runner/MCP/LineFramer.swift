import Glibc

/// Splits MCP's stdio stream into messages: one JSON-RPC message per line,
/// lines ended by `\n` (a `\r` before it is dropped), as the stdio transport
/// defines. The size cap is checked as bytes arrive, so an oversized line is
/// never held in memory: the framer reports it once and skips everything up
/// to the next newline, where framing resynchronises.
nonisolated public struct LineFramer: Sendable {
    /// What one chunk of input amounted to, in order.
    public enum Event: Equatable, Sendable {
        /// One complete line without its ending. Blank lines are not reported.
        case line([UInt8])
        /// A line passed the cap; its bytes up to the next newline are dropped.
        case oversized
    }

    /// Where the framer is within the current line.
    enum State: Equatable, Sendable {
        /// Collecting a line that is still within the cap.
        case collecting
        /// Skipping the rest of a line that passed the cap.
        case discarding
    }

    /// Largest message accepted, in bytes. The largest useful request is a
    /// `tools/call` whose arguments are each at most 4096 bytes (a pack's
    /// `max_length` ceiling) plus a 1 KiB reason, so even an action with a
    /// hundred arguments stays far below 1 MiB; a hostile line costs at most
    /// this much memory before it is dropped.
    public static let defaultMaxLineBytes = 1 << 20
    /// Storage kept between lines: ordinary messages reuse it, while the
    /// storage of an unusually large one is freed so it does not stay pinned.
    static let retainedCapacity = 64 * 1024

    /// The cap this framer enforces, in bytes, not counting the line ending.
    public let maxLineBytes: Int
    /// Whether the current line is being kept or skipped.
    var state = State.collecting
    /// The current line's bytes so far.
    var buffer: [UInt8] = []

    /// A framer that refuses lines longer than `maxLineBytes`.
    public init(maxLineBytes: Int = LineFramer.defaultMaxLineBytes) {
        precondition(maxLineBytes > 0, "a line cap must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes of an unfinished line held right now (never above the cap).
    public var bufferedBytes: Int { buffer.count }

    /// Feeds one chunk read from the stream.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        guard let base = bytes.baseAddress else { return events }
        var offset = 0
        while offset < bytes.count {
            let rest = bytes.count - offset
            let found = memchr(base + offset, 0x0A, rest)
            let end = found.map { UnsafeRawPointer($0) - base } ?? bytes.count
            take(UnsafeRawBufferPointer(start: base + offset, count: end - offset), into: &events)
            guard found != nil else { break }
            endLine(into: &events)
            offset = end + 1
        }
        return events
    }

    /// Feeds bytes held in an array (tests, and the tail at end of input).
    public mutating func feed(_ bytes: [UInt8]) -> [Event] {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The input ended: an unterminated last line still counts as a message,
    /// since a client that closes stdin right after writing loses nothing.
    public mutating func finish() -> [Event] {
        var events: [Event] = []
        endLine(into: &events)
        return events
    }

    /// Adds a piece of the current line, switching to discarding at the cap.
    private mutating func take(_ piece: UnsafeRawBufferPointer, into events: inout [Event]) {
        guard state == .collecting, piece.count > 0 else { return }
        if buffer.count + piece.count > maxLineBytes {
            buffer.removeAll(keepingCapacity: false)
            state = .discarding
            events.append(.oversized)
            return
        }
        buffer.append(contentsOf: piece)
    }

    /// A newline (or the end of input) closes the current line.
    private mutating func endLine(into events: inout [Event]) {
        if state == .discarding {
            state = .collecting
            return
        }
        if buffer.last == 0x0D { buffer.removeLast() }
        let isBlank = buffer.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        if !isBlank { events.append(.line(buffer)) }
        buffer.removeAll(keepingCapacity: buffer.count <= LineFramer.retainedCapacity)
    }
}
