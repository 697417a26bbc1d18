/// Reads a journal file forward, one line at a time, in bounded memory.
nonisolated struct LineScanner {
    /// One line as stored.
    struct Line {
        /// 1-based line number in the file.
        var number: Int
        /// Byte offset of the line's first byte.
        var offset: Int64
        /// The line's bytes without the newline (empty when `oversized`).
        var bytes: [UInt8]
        /// Whether a `\n` ended it; only the last line of a file can lack one.
        var terminated: Bool
        /// Whether it was longer than `JournalFormat.maxLineBytes`; its bytes are
        /// skipped rather than held.
        var oversized: Bool
        /// Length in bytes, newline included when there is one.
        var length: Int64
    }

    private let file: JournalFile
    private let end: Int64
    private var readOffset: Int64
    private var buffer: [UInt8] = []
    private var start = 0
    private var lineNumber = 0
    private var lineOffset: Int64

    /// A scanner over `file` from `offset` up to `end` (the size when it was opened).
    init(file: JournalFile, from offset: Int64 = 0, end: Int64) {
        self.file = file
        self.end = end
        self.readOffset = offset
        self.lineOffset = offset
    }

    /// The next line, or nil at the end.
    mutating func next() throws(JournalError) -> Line? {
        var skipping = false
        var skipped: Int64 = 0
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let bytes = skipping ? [] : Array(buffer[start..<newline])
                let length = skipped + Int64(newline - start) + 1
                start = newline + 1
                return emit(bytes, terminated: true, oversized: skipping, length: length)
            }
            if buffer.count - start > JournalFormat.maxLineBytes {
                // Keep the bound: drop what we hold and look for the newline.
                skipped += Int64(buffer.count - start)
                skipping = true
                start = buffer.count
            }
            if readOffset >= end {
                let rest = buffer.count - start
                if rest == 0 && !skipping { return nil }
                let bytes = skipping ? [] : Array(buffer[start...])
                start = buffer.count
                return emit(
                    bytes, terminated: false, oversized: skipping, length: skipped + Int64(rest))
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let want = Int(min(Int64(JournalFile.readChunk), end - readOffset))
            let chunk = try file.read(at: readOffset, count: want)
            if chunk.isEmpty {
                // The file shrank under us; treat the current size as the end.
                readOffset = end
                continue
            }
            readOffset += Int64(chunk.count)
            buffer.append(contentsOf: chunk)
        }
    }

    private mutating func emit(_ bytes: [UInt8], terminated: Bool, oversized: Bool, length: Int64)
        -> Line
    {
        lineNumber += 1
        let line = Line(
            number: lineNumber, offset: lineOffset, bytes: bytes, terminated: terminated,
            oversized: oversized, length: length)
        lineOffset += length
        return line
    }
}
