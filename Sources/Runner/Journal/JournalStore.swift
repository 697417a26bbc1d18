import Glibc

/// Appends events to the hash-chained journal, safely shared by every ward
/// process on the host (daemon, CLI runs, MCP server).
///
/// Each append holds an exclusive `flock` on `<path>.lock` while it reads the
/// head, repairs a torn tail, writes and syncs the line and rotates: the lock
/// file never moves, the active file does. The calls block (disk I/O and lock
/// waits), so the type is nonisolated and meant for a worker thread. One
/// instance is used from one thread at a time; two instances, in one process
/// or several, exclude each other through the lock.
nonisolated public final class JournalStore {
    /// The files of this journal.
    public let files: JournalSet
    /// Size past which the active file is rotated before the next line.
    public let rotateBytes: Int
    /// How many rotated files are kept; older ones are deleted.
    public let keepFiles: Int

    private var lockFile: JournalFile?
    var cached: Cached?

    /// What is known about the active file at a given device, inode, size and
    /// mtime, so an unchanged file is not read again.
    struct Cached {
        var status: JournalFile.Status
        var head: JournalHead
        /// Seq of the active file's first line; nil when it holds no line.
        var firstSeq: Int64?
    }

    /// The active file while the lock is held.
    struct Active {
        var file: JournalFile
        var status: JournalFile.Status
        var head: JournalHead
        var firstSeq: Int64?
        /// The active file as this store last left it, when another process
        /// has written to the journal since (the file changed): what it wrote
        /// lies past this.
        var before: JournalFile.Status?
        /// The seq of the newest line this store knew of then.
        var beforeSeq: Int64?
    }

    /// A store for the journal whose active file is `path`.
    public init(path: String, rotateBytes: Int, keepFiles: Int) {
        precondition(rotateBytes > 0, "rotateBytes must be positive")
        precondition(keepFiles >= 0, "keepFiles must not be negative")
        self.files = JournalSet(path: path)
        self.rotateBytes = rotateBytes
        self.keepFiles = keepFiles
    }

    /// Appends one event and returns its head once the line is on disk
    /// (fdatasync done). `fields` follow the header members in their order.
    public func append(event: String, fields: JSONObject) throws(JournalError) -> JournalHead {
        let body = try JournalFormat.body(event: event, fields: fields, path: files.path)
        try checkSize(body)
        return try locked { (active: inout Active) throws(JournalError) in
            try write(body: body, to: &active)
        }
    }

    /// The newest line's head (the genesis head when the journal is empty),
    /// read under the lock after repairing a torn tail.
    public func currentHead() throws(JournalError) -> JournalHead {
        try locked { (active: inout Active) throws(JournalError) in active.head }
    }

    /// Runs `body` with the lock held and the active file open, its torn tail
    /// (if any) already repaired and recorded.
    func locked<T>(_ body: (inout Active) throws(JournalError) -> T) throws(JournalError) -> T {
        let lock = try openLock()
        try lock.lockExclusive()
        defer { lock.unlock() }

        guard let file = try JournalFile.open(files.path, writable: true, create: true) else {
            preconditionFailure("open with O_CREAT returned no file")
        }
        var active = try inspect(file)
        return try body(&active)
    }

    private func openLock() throws(JournalError) -> JournalFile {
        if let lockFile { return lockFile }
        // A journal path that names a folder or a device is refused before
        // anything (the lock file beside it, say) is created.
        var info = stat()
        if stat(files.path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG {
            let why = info.st_mode & S_IFMT == S_IFDIR ? "EISDIR" : "not a regular file"
            throw .cannotOpen(path: files.path, errno: why)
        }
        try JournalPaths.makeDirectories(files.directory)
        guard let file = try JournalFile.open(files.lockPath, writable: true, create: true) else {
            preconditionFailure("open with O_CREAT returned no file")
        }
        lockFile = file
        return file
    }

    func checkSize(_ body: [UInt8]) throws(JournalError) {
        let worst = JournalFormat.maxHeaderBytes + body.count + 1
        if worst > JournalFormat.maxLineBytes {
            throw .lineTooLarge(path: files.path, bytes: worst, limit: JournalFormat.maxLineBytes)
        }
    }

    /// Finds the head of the journal, using the cache when the file is unchanged,
    /// and cuts off a torn tail (recording it) when the last byte is not `\n`.
    private func inspect(_ file: JournalFile) throws(JournalError) -> Active {
        let status = try file.status()
        if let cached, cached.status == status {
            return Active(
                file: file, status: status, head: cached.head, firstSeq: cached.firstSeq)
        }

        let tail = try JournalTail.read(file, size: status.size)
        var active = Active(
            file: file, status: status, head: .genesis, firstSeq: nil, before: cached?.status,
            beforeSeq: cached?.head.seq)
        if let last = tail.lastLine {
            active.head = try head(ofLine: last, in: file.path)
            active.firstSeq = try firstSeq(of: file, status: status)
        } else {
            active.head = try headOfNewestRotated()
        }

        if !tail.torn.isEmpty {
            // Case 28: never append onto the fragment. Cut it off, keep its
            // length and hash in a `recovered` event, continue the chain from the
            // last whole line.
            try file.truncate(to: tail.wholeEnd)
            try file.sync(discardingAfter: tail.wholeEnd)
            active.status = try file.status()
            var fields = JSONObject()
            fields["torn_bytes"] = .int(Int64(tail.torn.count))
            fields["torn_sha256"] = .string(SHA256.hex(tail.torn))
            let body = try JournalFormat.body(
                event: JournalFormat.recoveredEvent, fields: fields, path: files.path)
            _ = try write(body: body, to: &active)
        }
        remember(active)
        return active
    }

    private func head(ofLine line: [UInt8], in path: String) throws(JournalError) -> JournalHead {
        switch JournalFormat.header(of: line, strict: false) {
        case .success(let header):
            return JournalHead(seq: header.seq, hash: JournalFormat.hash(ofLine: line))
        case .failure(let problem):
            throw .corruptHead(path: path, reason: problem.reason)
        }
    }

    private func firstSeq(of file: JournalFile, status: JournalFile.Status) throws(JournalError)
        -> Int64
    {
        if let cached, cached.status.device == status.device,
            cached.status.inode == status.inode, let seq = cached.firstSeq
        {
            return seq
        }
        guard let first = try JournalTail.firstLine(file, size: status.size) else {
            throw .corruptHead(path: file.path, reason: "first line longer than the line limit")
        }
        return try self.head(ofLine: first, in: file.path).seq
    }

    /// The head recorded at the end of the newest rotated file, or genesis when
    /// there is none (the active file is empty or was just rotated away).
    private func headOfNewestRotated() throws(JournalError) -> JournalHead {
        guard let newest = try files.rotatedFiles().last,
            let file = try JournalFile.open(newest.path, writable: false, create: false)
        else { return .genesis }
        let tail = try JournalTail.read(file, size: try file.status().size)
        guard tail.torn.isEmpty, let last = tail.lastLine else {
            throw .corruptHead(
                path: newest.path, reason: "rotated file does not end in a whole line")
        }
        return try head(ofLine: last, in: newest.path)
    }

    /// The chain's next line for `body` after `head` (newline included) and the
    /// head it makes; fails when the line is over `JournalFormat.maxLineBytes`.
    func nextLine(body: [UInt8], after head: JournalHead) throws(JournalError)
        -> (line: [UInt8], head: JournalHead)
    {
        let seq = head.seq + 1
        var line = JournalFormat.line(
            seq: seq, time: Clock.nowRFC3339(), prev: head.hash, body: body)
        let next = JournalHead(seq: seq, hash: JournalFormat.hash(ofLine: line))
        line.append(0x0A)
        if line.count > JournalFormat.maxLineBytes {
            throw .lineTooLarge(
                path: files.path, bytes: line.count, limit: JournalFormat.maxLineBytes)
        }
        return (line, next)
    }

    /// True when `bytes` more would take a non-empty active file past
    /// `rotateBytes`.
    func needsRotation(_ active: Active, toAdd bytes: Int) -> Bool {
        active.status.size > 0 && active.status.size + Int64(bytes) > Int64(rotateBytes)
    }

    /// Writes one line for `body` after the current head, rotating first when
    /// the active file would grow past `rotateBytes`.
    func write(body: [UInt8], to active: inout Active) throws(JournalError) -> JournalHead {
        let (line, head) = try nextLine(body: body, after: active.head)
        let seq = head.seq
        if needsRotation(active, toAdd: line.count) {
            try rotate(&active)
        }

        let size = active.status.size
        try active.file.append(line, at: size)
        try active.file.sync(discardingAfter: size)
        if size == 0 {
            // A new active file: its name must be durable along with its line.
            try JournalPaths.syncDirectory(files.directory)
            active.firstSeq = seq
        }
        // fstat again rather than adding: the cache key includes the mtime.
        active.status = try active.file.status()
        active.head = head
        remember(active)
        return head
    }

    /// Renames the active file after its first seq, opens a fresh one, and
    /// deletes rotated files beyond `keepFiles`.
    func rotate(_ active: inout Active) throws(JournalError) {
        guard let firstSeq = active.firstSeq else {
            preconditionFailure("rotating an active file with no line")
        }
        let target = files.rotatedPath(firstSeq: firstSeq)
        var st = stat()
        if stat(target, &st) == 0 {
            // Never overwrite history: two files claiming one first seq means
            // something outside ward renamed files.
            throw .cannotRotate(path: target, errno: errnoName(EEXIST))
        }
        if rename(files.path, target) != 0 {
            throw .cannotRotate(path: files.path, errno: errnoName(errno))
        }
        guard let fresh = try JournalFile.open(files.path, writable: true, create: true) else {
            preconditionFailure("open with O_CREAT returned no file")
        }
        active.file = fresh
        active.status = try fresh.status()
        active.firstSeq = nil

        let rotated = try files.rotatedFiles()
        for old in rotated.dropLast(keepFiles) where unlink(old.path) != 0 && errno != ENOENT {
            throw .cannotRotate(path: old.path, errno: errnoName(errno))
        }
        try JournalPaths.syncDirectory(files.directory)
    }

    func remember(_ active: Active) {
        cached = Cached(status: active.status, head: active.head, firstSeq: active.firstSeq)
    }
}
