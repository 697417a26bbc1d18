/// A fixed-size Bloom filter of run ids: "certainly never started here" in
/// constant memory, whatever the journal's length.
///
/// 2^23 bits (1 MiB) with 7 probes keeps false positives near 1% up to about
/// 870,000 ids, more than the default retained journal holds; past that the
/// rate grows smoothly. A false positive costs one exact scan of the journal,
/// never a refusal, so the filter only has to be cheap, not perfect.
nonisolated public struct RunIDFilter: Sendable {
    /// Bits in the filter.
    public static let bitCount = 1 << 23
    /// Probes per id: the optimum for 10 bits per id.
    static let probes = 7

    private var words = [UInt64](repeating: 0, count: RunIDFilter.bitCount / 64)
    /// Ids inserted (duplicates counted again).
    public private(set) var count = 0

    /// An empty filter.
    public init() {}

    /// Adds `id`.
    public mutating func insert(_ id: String) {
        let (a, b) = Self.hashes(id)
        for i in 0..<Self.probes {
            let bit = Int((a &+ UInt64(i) &* b) % UInt64(Self.bitCount))
            words[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        count += 1
    }

    /// False when `id` was certainly never inserted.
    public func mightContain(_ id: String) -> Bool {
        let (a, b) = Self.hashes(id)
        for i in 0..<Self.probes {
            let bit = Int((a &+ UInt64(i) &* b) % UInt64(Self.bitCount))
            if words[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Two independent 64-bit FNV-1a hashes (different offset bases) for
    /// double hashing; the second is forced odd so probes never repeat.
    private static func hashes(_ id: String) -> (UInt64, UInt64) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in id.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return (a, b | 1)
    }
}

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
