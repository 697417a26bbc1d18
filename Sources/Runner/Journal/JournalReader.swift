import Glibc

/// Reads journal lines back as stored, for `ward journal tail`: the newest
/// lines across rotated files, and a follow mode that keeps printing new lines.
/// It never takes the journal lock, so a reader cannot slow appenders down.
nonisolated public struct JournalReader {
    /// The files of the journal read.
    public let files: JournalSet

    /// Default pause between polls in follow mode: new lines show up within a
    /// fifth of a second, and an idle follower costs a few syscalls a second.
    public static let defaultPollMilliseconds = 200

    /// A reader for the journal whose active file is `path`.
    public init(path: String) {
        self.files = JournalSet(path: path)
    }

    /// The newest `count` whole lines (oldest first), exact bytes without the
    /// newline. A torn fragment at the end is not a line and is left out.
    public func lastLines(count: Int) throws(JournalError) -> [[UInt8]] {
        let active = try JournalFile.open(files.path, writable: false, create: false)
        let status = try active?.status()
        return try lastLines(count: count, active: active, activeEnd: status?.size ?? 0)
    }

    /// Prints (through `onLine`) the newest `initialLines` lines, then every
    /// line appended afterwards, polling every `pollMilliseconds`. Follows the
    /// active file across rotation (a new inode at the path) and across a torn
    /// tail being cut off. Returns when `shouldStop` answers true; it is asked
    /// after every poll.
    public func follow(
        initialLines: Int = 0, pollMilliseconds: Int = JournalReader.defaultPollMilliseconds,
        shouldStop: () -> Bool, onLine: ([UInt8]) -> Void
    ) throws(JournalError) {
        var state = FollowState()
        state.file = try JournalFile.open(files.path, writable: false, create: false)
        state.status = try state.file?.status()
        state.offset = state.status?.size ?? 0
        // At least the newest line is read, so that its seq tells later polls
        // which rotated files are news; only the requested ones are printed.
        let recent = try lastLines(
            count: max(initialLines, 1), active: state.file, activeEnd: state.offset)
        state.lastSeq = recent.last.flatMap(JournalFormat.leadingSeq(of:)) ?? 0
        for line in recent.suffix(initialLines) { state.emit(line, to: onLine) }

        while true {
            try poll(&state, onLine: onLine)
            if shouldStop() { return }
            var pause = timespec(
                tv_sec: pollMilliseconds / 1000, tv_nsec: (pollMilliseconds % 1000) * 1_000_000)
            var remaining = timespec()
            while nanosleep(&pause, &remaining) != 0 && errno == EINTR { pause = remaining }
        }
    }

    /// Where a follower is: the file it reads, how far, and the seq it last printed.
    private struct FollowState {
        var file: JournalFile?
        var status: JournalFile.Status?
        var offset: Int64 = 0
        var partial: [UInt8] = []
        var lastSeq: Int64 = 0

        /// Hands `line` on and remembers its seq.
        mutating func emit(_ line: [UInt8], to onLine: ([UInt8]) -> Void) {
            lastSeq = JournalFormat.leadingSeq(of: line) ?? lastSeq
            onLine(line)
        }
    }

    /// One poll: new lines of the current file, then, when the path now names
    /// another file (rotation), the rest of the old one, every rotated file
    /// newer than what was printed (several rotations can pass between two
    /// polls), and the new active file from its start.
    private func poll(_ state: inout FollowState, onLine: ([UInt8]) -> Void)
        throws(JournalError)
    {
        if let file = state.file {
            try drain(file, &state, onLine: onLine)
        }
        guard let now = try JournalFile.open(files.path, writable: false, create: false) else {
            return
        }
        let nowStatus = try now.status()
        if let status = state.status, status.inode == nowStatus.inode,
            status.device == nowStatus.device
        {
            return
        }
        if let file = state.file {
            // The old file may have gained lines after the drain above and
            // before the rename; finish it first.
            try drain(file, &state, onLine: onLine)
        }
        for rotated in try files.rotatedFiles() where rotated.firstSeq > state.lastSeq {
            guard let missed = try JournalFile.open(rotated.path, writable: false, create: false)
            else { continue }
            (state.offset, state.partial) = (0, [])
            try drain(missed, &state, onLine: onLine)
        }
        (state.file, state.status, state.offset, state.partial) = (now, nowStatus, 0, [])
        try drain(now, &state, onLine: onLine)
    }

    /// Emits the whole lines between the offset and the end of `file`, keeping
    /// an unterminated rest. When the bytes of that rest are no longer in the
    /// file (a torn tail was cut off and the space reused), reading starts
    /// again where the rest began, so a fragment is never glued to a later line.
    private func drain(
        _ file: JournalFile, _ state: inout FollowState, onLine: ([UInt8]) -> Void
    ) throws(JournalError) {
        if !state.partial.isEmpty {
            let start = state.offset - Int64(state.partial.count)
            if try file.read(at: start, count: state.partial.count) != state.partial {
                (state.offset, state.partial) = (start, [])
            }
        }
        let size = try file.status().size
        while state.offset < size {
            let chunk = try file.read(
                at: state.offset, count: Int(min(Int64(JournalFile.readChunk), size - state.offset))
            )
            if chunk.isEmpty { break }
            state.offset += Int64(chunk.count)
            state.partial.append(contentsOf: chunk)
            var start = 0
            while let newline = state.partial[start...].firstIndex(of: 0x0A) {
                state.emit(Array(state.partial[start..<newline]), to: onLine)
                start = newline + 1
            }
            state.partial.removeFirst(start)
            if state.partial.count > JournalFormat.maxLineBytes {
                // No ward line is this long: drop it rather than grow without bound.
                state.partial.removeAll()
            }
        }
    }

    private func lastLines(count: Int, active: JournalFile?, activeEnd: Int64)
        throws(JournalError) -> [[UInt8]]
    {
        guard count > 0 else { return [] }
        var newestFirst: [[UInt8]] = []
        let activeStatus = try active?.status()
        if let active {
            try collect(from: active, end: activeEnd, count: count, into: &newestFirst)
        }
        for rotated in try files.rotatedFiles().reversed() where newestFirst.count < count {
            guard let file = try JournalFile.open(rotated.path, writable: false, create: false)
            else { continue }
            let status = try file.status()
            // A rotation after `active` was opened: that file is `active` itself.
            if status.inode == activeStatus?.inode && status.device == activeStatus?.device {
                continue
            }
            try collect(from: file, end: status.size, count: count, into: &newestFirst)
        }
        return Array(newestFirst.prefix(count).reversed())
    }

    /// Adds whole lines of `file` before `end` to `lines`, newest first, until
    /// `lines` holds `count`. Reads backwards, so a long file costs only its tail.
    private func collect(
        from file: JournalFile, end: Int64, count: Int, into lines: inout [[UInt8]]
    ) throws(JournalError) {
        var position = end
        var rest: [UInt8] = []
        var sawNewline = false
        while position > 0 && lines.count < count {
            let start = max(0, position - Int64(JournalFile.readChunk))
            var bytes = try file.read(at: start, count: Int(position - start))
            bytes.append(contentsOf: rest)
            var upper = bytes.count
            while lines.count < count, let newline = bytes[..<upper].lastIndex(of: 0x0A) {
                // The bytes after the file's last newline are a torn fragment.
                if sawNewline { lines.append(Array(bytes[(newline + 1)..<upper])) }
                sawNewline = true
                upper = newline
            }
            rest = Array(bytes[..<upper])
            position = start
            if rest.count > JournalFormat.maxLineBytes { return }
        }
        if position == 0 && sawNewline && lines.count < count {
            lines.append(rest)
        }
    }
}
