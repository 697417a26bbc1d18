/// Group commit: several events written under one lock and made durable by
/// one `fdatasync`, so runs in flight together do not queue behind each
/// other's syncs. Each event still gets its own result, and a success means
/// its line was synced, exactly as with `append(event:fields:)`.
nonisolated extension JournalStore {
    /// One event of a batch.
    public struct BatchEvent: Sendable {
        /// The event name.
        public var event: String
        /// Its members, in order after the header.
        public var fields: JSONObject
        /// A run id no other ward process may have started: the event fails
        /// with `runAlreadyStarted` when one journaled a `started` for it
        /// since this store last wrote (checked under the lock, so two
        /// processes cannot both start it).
        public var uniqueRun: String?

        /// An event `event` with `fields`.
        public init(event: String, fields: JSONObject, uniqueRun: String? = nil) {
            self.event = event
            self.fields = fields
            self.uniqueRun = uniqueRun
        }
    }

    /// Lines written into the active file but not synced yet, and the active
    /// file as it was before the first of them (where a failed sync cuts
    /// back to, and whether the lines started a new file).
    struct Unsynced {
        /// Result index and head of each line, oldest first.
        var lines: [(index: Int, head: JournalHead)] = []
        /// The active file before the first unsynced line.
        var before: Active

        init(before: Active) { self.before = before }
    }

    /// Appends `events` in order, one line each, and syncs them together;
    /// returns one result per event, in the same order. An event that is
    /// invalid or too large fails alone; a failed write fails its own line; a
    /// failed sync fails every line it covered (they are cut off again), and
    /// the events after it fail with the same error.
    public func append(batch events: [BatchEvent]) -> [Result<JournalHead, JournalError>] {
        var results = [Result<JournalHead, JournalError>?](repeating: nil, count: events.count)
        var bodies: [(index: Int, body: [UInt8], uniqueRun: String?)] = []
        for (index, event) in events.enumerated() {
            do throws(JournalError) {
                let body = try JournalFormat.body(
                    event: event.event, fields: event.fields, path: files.path)
                try checkSize(body)
                bodies.append((index, body, event.uniqueRun))
            } catch {
                results[index] = .failure(error)
            }
        }
        if !bodies.isEmpty {
            do throws(JournalError) {
                try locked { (active: inout Active) throws(JournalError) in
                    try writeBatch(bodies, to: &active, results: &results)
                }
            } catch {
                for (index, _, _) in bodies where results[index] == nil {
                    results[index] = .failure(error)
                }
            }
        }
        return results.map { result in
            guard let result else { preconditionFailure("a batch event was left without a result") }
            return result
        }
    }

    /// Writes each body after the head, syncing before a rotation and at the
    /// end. Throws (for the events not yet settled) when a sync fails.
    private func writeBatch(
        _ bodies: [(index: Int, body: [UInt8], uniqueRun: String?)], to active: inout Active,
        results: inout [Result<JournalHead, JournalError>?]
    ) throws(JournalError) {
        let othersStarted =
            bodies.contains { $0.uniqueRun != nil } ? startedByOthers(active) : []
        var unsynced = Unsynced(before: active)
        for (index, body, uniqueRun) in bodies {
            if let run = uniqueRun, othersStarted.contains(run) {
                results[index] = .failure(.runAlreadyStarted(path: files.path, run: run))
                continue
            }
            let line: [UInt8]
            let head: JournalHead
            do {
                (line, head) = try nextLine(body: body, after: active.head)
            } catch {
                results[index] = .failure(error)
                continue
            }
            let seq = head.seq
            if needsRotation(active, toAdd: line.count) {
                // The lines so far belong to the file being rotated away:
                // they must be durable before it is renamed.
                try settle(&unsynced, active: &active, results: &results)
                var failure: JournalError?
                do {
                    try rotate(&active)
                } catch {
                    failure = error
                }
                // Whether or not it got through, the next line goes where
                // `active` now points.
                unsynced.before = active
                if let failure {
                    results[index] = .failure(failure)
                    continue
                }
            }
            let size = active.status.size
            do {
                // On failure the file is cut back to `size`: the unsynced
                // lines before it stay, and the head does not move.
                try active.file.append(line, at: size)
            } catch {
                results[index] = .failure(error)
                continue
            }
            if size == 0 { active.firstSeq = seq }
            active.status.size = size + Int64(line.count)
            active.head = head
            unsynced.lines.append((index, head))
        }
        try settle(&unsynced, active: &active, results: &results)
    }

    /// Syncs the unsynced lines and reports them durable, or, when the sync
    /// fails, fails them (the sync cut them off) and rethrows.
    private func settle(
        _ unsynced: inout Unsynced, active: inout Active,
        results: inout [Result<JournalHead, JournalError>?]
    ) throws(JournalError) {
        guard !unsynced.lines.isEmpty else { return }
        let from = unsynced.before.status.size
        do {
            try active.file.sync(discardingAfter: from)
            if from == 0 {
                // A new active file: its name must be durable along with its lines.
                try JournalPaths.syncDirectory(files.directory)
            }
        } catch {
            // Whether the lines are still there is for the next append to
            // find out: it reads the head again from the file.
            for line in unsynced.lines { results[line.index] = .failure(error) }
            unsynced.lines = []
            cached = nil
            throw error
        }
        for line in unsynced.lines { results[line.index] = .success(line.head) }
        unsynced.lines = []
        // fstat again rather than adding: the cache key includes the mtime.
        do {
            active.status = try active.file.status()
        } catch {
            // The lines are durable; only the cache cannot be trusted.
            cached = nil
            throw error
        }
        remember(active)
        unsynced.before = active
    }

    /// Run ids of the `started` events other processes wrote since this store
    /// last wrote: the part of the active file past where it left it, or,
    /// when the journal was rotated meanwhile (rare), the new active file and
    /// every rotated file that can hold a line after the newest this store
    /// knew: the one holding that line, and all named after a later seq.
    /// Empty when nothing changed or nothing is known of before.
    func startedByOthers(_ active: Active) -> Set<String> {
        guard let before = active.before, before != active.status else { return [] }
        var ids = Set<String>()
        func scan(_ file: JournalFile, from offset: Int64, to end: Int64) {
            var scanner = LineScanner(file: file, from: offset, end: end)
            while let line = try? scanner.next() {
                guard line.terminated,
                    ByteSearch.firstIndex(of: Self.startedMember, in: line.bytes) != nil,
                    case .object(let o)? = try? JSONReader.parse(line.bytes),
                    o["event"]?.stringValue == JournalFormat.startedEvent,
                    let run = o["run"]?.stringValue
                else { continue }
                ids.insert(run)
            }
        }
        let sameFile =
            before.device == active.status.device && before.inode == active.status.inode
            && before.size <= active.status.size
        if sameFile {
            scan(active.file, from: before.size, to: active.status.size)
            return ids
        }
        scan(active.file, from: 0, to: active.status.size)
        let rotated = (try? files.rotatedFiles()) ?? []
        let known = active.beforeSeq ?? 0
        // The last file that begins at or before the known line holds it.
        let holding = rotated.lastIndex { $0.firstSeq <= known } ?? 0
        for entry in rotated[holding...] {
            guard let file = try? JournalFile.open(entry.path, writable: false, create: false),
                let size = try? file.status().size
            else { continue }
            scan(file, from: 0, to: size)
        }
        return ids
    }

    /// The member every `started` line holds, as the journal writes it.
    static let startedMember =
        Array(#""event":""#.utf8) + Array(JournalFormat.startedEvent.utf8)
        + [UInt8(ascii: "\"")]
}
