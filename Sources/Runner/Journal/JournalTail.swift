/// What the end of the active file looks like: where the last whole line is,
/// and whether a torn (unterminated) fragment follows it.
nonisolated struct JournalTail {
    /// Offset just past the last `\n`: the size after cutting a torn tail off.
    var wholeEnd: Int64
    /// The last whole line without its newline, or nil when there is none.
    var lastLine: [UInt8]?
    /// The torn fragment after `wholeEnd` (empty when the file ends in `\n`).
    var torn: [UInt8]

    /// Bytes read per backward step while looking for a newline: one page,
    /// which holds the typical journal line whole.
    static let backwardChunk = 4096

    /// Reads the tail of `file`, which is `size` bytes long. A fragment or a
    /// last line longer than any line ward writes is refused as corrupt: no torn
    /// write of ward's can produce it.
    static func read(_ file: JournalFile, size: Int64) throws(JournalError) -> JournalTail {
        if size == 0 { return JournalTail(wholeEnd: 0, lastLine: nil, torn: []) }
        let limit = Int64(JournalFormat.maxLineBytes)

        guard let lastNewline = try findNewline(in: file, before: size, within: limit) else {
            throw .corruptHead(
                path: file.path, reason: "unterminated tail longer than \(limit) bytes")
        }
        let wholeEnd = lastNewline + 1
        let torn = try file.read(at: wholeEnd, count: Int(size - wholeEnd))
        if wholeEnd == 0 { return JournalTail(wholeEnd: 0, lastLine: nil, torn: torn) }

        guard let previous = try findNewline(in: file, before: lastNewline, within: limit) else {
            throw .corruptHead(path: file.path, reason: "last line longer than \(limit) bytes")
        }
        let start = previous + 1
        let line = try file.read(at: start, count: Int(lastNewline - start))
        return JournalTail(wholeEnd: wholeEnd, lastLine: line, torn: torn)
    }

    /// The first line of `file` (without newline), or nil when it has no whole line.
    static func firstLine(_ file: JournalFile, size: Int64) throws(JournalError) -> [UInt8]? {
        let want = Int(min(size, Int64(JournalFormat.maxLineBytes)))
        let bytes = try file.read(at: 0, count: want)
        guard let newline = bytes.firstIndex(of: 0x0A) else { return nil }
        return Array(bytes[..<newline])
    }

    /// Offset of the last `\n` before `end`; -1 when the file start is reached
    /// first; nil when none lies within `limit` bytes.
    private static func findNewline(in file: JournalFile, before end: Int64, within limit: Int64)
        throws(JournalError) -> Int64?
    {
        var chunkEnd = end
        while chunkEnd > 0 {
            if end - chunkEnd > limit { return nil }
            let chunkStart = max(0, chunkEnd - Int64(backwardChunk))
            let chunk = try file.read(at: chunkStart, count: Int(chunkEnd - chunkStart))
            if let index = chunk.lastIndex(of: 0x0A) {
                let found = chunkStart + Int64(index)
                return end - found - 1 > limit ? nil : found
            }
            chunkEnd = chunkStart
        }
        return end > limit ? nil : -1
    }
}
