import CUV

/// A run whose `started` event is in the journal with no `finished` (or
/// `abandoned`) after it, and whose ward process is gone: it died mid-run.
nonisolated public struct AbandonedRun: Equatable, Sendable {
    /// The run id from the `started` event.
    public var run: String
    /// The ward process that wrote `started`.
    public var process: ProcessIdentity
    /// Seq of the `started` line.
    public var startedSeq: Int64
}

/// An `abandoned` event appended for a run.
nonisolated public struct AbandonedRecord: Equatable, Sendable {
    /// The run it closes.
    public var run: AbandonedRun
    /// Where the `abandoned` line went.
    public var head: JournalHead
}

extension JournalStore {
    /// The abandoned runs in the active file and the newest rotated one, in the
    /// order they started. Scanned under the lock, so no run finishes mid-scan;
    /// like any locked step it first repairs a torn tail (appending `recovered`).
    ///
    /// A `started` event older than the newest rotated file is not seen: a run
    /// that outlived two rotations and then lost its process is never marked
    /// abandoned, and only a reader of the older file can tell it never finished.
    public func abandonedRuns() throws(JournalError) -> [AbandonedRun] {
        try locked { (active: inout Active) throws(JournalError) in
            try scanAbandoned(active)
        }
    }

    /// Scans for abandoned runs and appends an `abandoned` event for each, all
    /// under one hold of the lock, so two ward processes starting together do
    /// not both record the same run. Returns what was appended.
    public func appendAbandonedEvents() throws(JournalError) -> [AbandonedRecord] {
        try locked { (active: inout Active) throws(JournalError) in
            var records: [AbandonedRecord] = []
            for run in try scanAbandoned(active) {
                var fields = JSONObject()
                fields["run"] = .string(run.run)
                fields["ward_pid"] = .int(Int64(run.process.pid))
                fields["ward_start"] = .int(run.process.start)
                fields["started_seq"] = .int(run.startedSeq)
                let body = try JournalFormat.body(
                    event: JournalFormat.abandonedEvent, fields: fields, path: files.path)
                let head = try write(body: body, to: &active)
                records.append(AbandonedRecord(run: run, head: head))
            }
            return records
        }
    }

    private func scanAbandoned(_ active: Active) throws(JournalError) -> [AbandonedRun] {
        var open: [String: AbandonedRun] = [:]
        var order: [String] = []

        var sources: [(JournalFile, Int64)] = []
        if let newest = try files.rotatedFiles().last,
            let file = try JournalFile.open(newest.path, writable: false, create: false)
        {
            sources.append((file, try file.status().size))
        }
        sources.append((active.file, active.status.size))

        for (file, size) in sources {
            var scanner = LineScanner(file: file, end: size)
            while let line = try scanner.next() {
                guard line.terminated, !line.oversized, mayHoldRunEvent(line.bytes),
                    case .success(let header) = JournalFormat.header(of: line.bytes, strict: false),
                    let run = header.object["run"]?.stringValue
                else { continue }
                switch header.event {
                case JournalFormat.startedEvent:
                    let pid = header.object["ward_pid"]?.intValue ?? 0
                    let start = header.object["ward_start"]?.intValue ?? 0
                    guard let pid32 = Int32(exactly: pid) else { continue }
                    if open[run] == nil { order.append(run) }
                    open[run] = AbandonedRun(
                        run: run, process: ProcessIdentity(pid: pid32, start: start),
                        startedSeq: header.seq)
                case JournalFormat.finishedEvent, JournalFormat.abandonedEvent:
                    open[run] = nil
                default:
                    continue
                }
            }
        }
        return order.compactMap { open[$0] }.filter { !$0.process.isAlive }
    }

    /// Whether a line may hold a run event, judged by bytes so that most lines
    /// are never parsed; the parsed `event` member decides.
    private func mayHoldRunEvent(_ line: [UInt8]) -> Bool {
        for name in [
            JournalFormat.startedEvent, JournalFormat.finishedEvent, JournalFormat.abandonedEvent,
        ] {
            let needle = Array(#","event":"\#(name)""#.utf8)
            let found = line.withUnsafeBytes { hay in
                needle.withUnsafeBytes { n in
                    cuv_memmem(hay.baseAddress, hay.count, n.baseAddress, n.count) != nil
                }
            }
            if found { return true }
        }
        return false
    }
}
