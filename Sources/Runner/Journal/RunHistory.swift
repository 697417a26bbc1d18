/// What the journal holds about one run id.
nonisolated public struct RecordedRun: Sendable {
    /// The `started` event's members, when one was found.
    public var started: JSONObject?
    /// The last `finished` or `abandoned` event's members (`event` included).
    public var ended: JSONObject?
    /// The head of that last event.
    public var endedHead: JournalHead?
}

/// Reads run ids back out of the retained journal files, for "at most once
/// per run id". Reads never take the journal lock; a file rotated during a
/// scan may be missed, which the callers treat like any unseen id.
nonisolated public enum RunHistory {
    /// Every file of the journal, oldest first: rotated files, then the active one.
    static func paths(_ files: JournalSet) -> [String] {
        ((try? files.rotatedFiles()) ?? []).map(\.path) + [files.path]
    }

    /// A filter holding the id of every `started` event retained. Reads
    /// each line's fixed header only (docs/journal.md: `seq`, `time`, `prev`,
    /// `event`, then the engine writes `run` first), so no line is parsed.
    public static func startedIDs(in files: JournalSet) -> RunIDFilter {
        var filter = RunIDFilter()
        let marker = Array(#","event":"started","run":""#.utf8)
        for path in paths(files) {
            forEachLine(path) { line in
                // seq, time and prev take at most 160 bytes before `event`.
                guard let at = ByteSearch.firstIndex(of: marker, in: line, startingWithin: 256)
                else { return }
                let start = at + marker.count
                guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return }
                filter.insert(String(decoding: line[start..<end], as: UTF8.self))
            }
        }
        return filter
    }

    /// The journal's record of `runID`: its `started` event and the last
    /// `finished` or `abandoned` event, scanning every retained file.
    public static func lookup(_ runID: String, in files: JournalSet) -> RecordedRun {
        var record = RecordedRun()
        // Run ids need no JSON escaping (docs/wire-protocol.md), so this is
        // the exact member as the engine writes it.
        let needle = Array(#""run":""#.utf8) + Array(runID.utf8) + [UInt8(ascii: "\"")]
        for path in paths(files) {
            forEachLine(path) { line in
                guard ByteSearch.firstIndex(of: needle, in: line) != nil,
                    case .object(let o)? = try? JSONReader.parse(line),
                    o["run"]?.stringValue == runID,
                    let event = o["event"]?.stringValue
                else { return }
                switch event {
                case "started": record.started = o
                case "finished", "abandoned":
                    record.ended = o
                    if let seq = o["seq"]?.intValue {
                        record.endedHead = JournalHead(
                            seq: seq, hash: JournalFormat.hash(ofLine: line))
                    }
                default: return
                }
            }
        }
        return record
    }

    /// Calls `body` with each whole line of the file at `path`; a missing or
    /// unreadable file has no lines.
    static func forEachLine(_ path: String, _ body: ([UInt8]) -> Void) {
        guard let file = try? JournalFile.open(path, writable: false, create: false),
            let size = try? file.status().size
        else { return }
        var scanner = LineScanner(file: file, end: size)
        while let line = try? scanner.next() {
            if line.terminated && !line.oversized { body(line.bytes) }
        }
    }
}
