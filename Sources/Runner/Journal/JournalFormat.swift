/// The position of the newest line of the journal: its sequence number and the
/// SHA-256 of its exact bytes. A control plane keeps the latest one as an anchor.
nonisolated public struct JournalHead: Equatable, Hashable, Sendable {
    /// Sequence number of the line (1-based); 0 for an empty journal.
    public var seq: Int64
    /// SHA-256 of the line's bytes without its newline, 64 lowercase hex digits.
    public var hash: String

    /// A head at `seq` with `hash`.
    public init(seq: Int64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// The head of a journal with no lines: the first line's `prev` is this hash.
    public static let genesis = JournalHead(seq: 0, hash: JournalFormat.genesisHash)
}

/// The byte format of a journal line (see docs/journal.md, which pins it).
///
/// A line is the compact `JSONWriter` serialisation of an object whose first
/// members are `seq`, `time`, `prev` and `event`, followed by the caller's
/// members in the caller's order, then exactly one `\n`.
nonisolated public enum JournalFormat {
    /// Largest line, newline included. An event record is a few hundred bytes;
    /// 256 KiB leaves room for a generous redacted output excerpt while bounding
    /// what a reader or verifier must hold in memory for one line.
    public static let maxLineBytes = 256 * 1024
    /// The `prev` of the first line ever written: 64 zeros.
    public static let genesisHash = String(repeating: "0", count: 64)
    /// Members every line starts with, in this order; callers may not use them.
    public static let reservedKeys: Set<String> = ["seq", "time", "prev", "event"]
    /// Longest event name accepted; names are short identifiers like `started`.
    public static let maxEventNameLength = 64
    /// Zero-padded width of the first seq in a rotated file's name, so that
    /// names sort in seq order for the first 10^12 lines.
    public static let rotatedSeqDigits = 12

    /// Event recorded when a torn tail was cut off before an append.
    public static let recoveredEvent = "recovered"
    /// Write-ahead event: a run is about to start (carries run, ward_pid, ward_start).
    public static let startedEvent = "started"
    /// A run's outcome.
    public static let finishedEvent = "finished"
    /// A run whose ward process died between `started` and `finished`.
    public static let abandonedEvent = "abandoned"

    /// The hash of a line's bytes (without its newline) as lowercase hex.
    public static func hash(ofLine bytes: some Sequence<UInt8>) -> String {
        SHA256.hex(bytes)
    }

    /// The serialised members after the header, from `,"event":` to the closing
    /// brace. Built once, before the lock is taken, so size errors cost nothing.
    static func body(event: String, fields: JSONObject, path: String) throws(JournalError)
        -> [UInt8]
    {
        try validate(event: event, fields: fields, path: path)
        var out: [UInt8] = Array(#","event":"#.utf8)
        JSONWriter.writeString(event, into: &out)
        for member in fields.members {
            out.append(UInt8(ascii: ","))
            JSONWriter.writeString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.write(member.value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Longest header a line can have: `{"seq":` with 19 digits, a 24-character
    /// time, and a 64-digit prev.
    static let maxHeaderBytes = #"{"seq":,"time":"","prev":""#.utf8.count + 19 + 24 + 64

    /// The full line (without newline) for `body` at `seq` chained to `prev`.
    static func line(seq: Int64, time: String, prev: String, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = Array(#"{"seq":"#.utf8)
        out.reserveCapacity(maxHeaderBytes + body.count + 1)
        out.append(contentsOf: String(seq).utf8)
        out.append(contentsOf: #","time":"#.utf8)
        JSONWriter.writeString(time, into: &out)
        out.append(contentsOf: #","prev":"#.utf8)
        JSONWriter.writeString(prev, into: &out)
        out.append(contentsOf: body)
        return out
    }

    private static func validate(event: String, fields: JSONObject, path: String)
        throws(JournalError)
    {
        let nameOK =
            !event.isEmpty && event.utf8.count <= maxEventNameLength
            && event.utf8.allSatisfy {
                ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
            }
        guard nameOK else {
            throw .invalidEvent(
                path: path, reason: "event name \"\(event)\" is not [a-z0-9_]{1,64}")
        }
        for member in fields.members {
            if reservedKeys.contains(member.key) {
                throw .invalidEvent(path: path, reason: "member \"\(member.key)\" is reserved")
            }
            if containsReal(member.value) {
                // One canonical number form: durations and counts are integers.
                throw .invalidEvent(
                    path: path, reason: "member \"\(member.key)\" holds a real number")
            }
        }
    }

    private static func containsReal(_ value: JSONValue) -> Bool {
        switch value {
        case .real: true
        case .array(let items): items.contains(where: containsReal)
        case .object(let object): object.members.contains { containsReal($0.value) }
        default: false
        }
    }

    /// The header members of a parsed line, or a reason it is not a journal line.
    struct Header {
        /// The line's sequence number.
        var seq: Int64
        /// The hash of the line before it.
        var prev: String
        /// The event name.
        var event: String
        /// The whole parsed object.
        var object: JSONObject
    }

    /// Parses `bytes` (one line without its newline) as a journal line. With
    /// `strict`, `time` and `event` are required too (the verifier's view); the
    /// store only needs `seq` and `prev` to continue the chain.
    static func header(of bytes: [UInt8], strict: Bool) -> Result<Header, HeaderProblem> {
        let object: JSONObject
        do {
            guard let parsed = try JSONReader.parse(bytes).objectValue else {
                return .failure(HeaderProblem("not a JSON object"))
            }
            object = parsed
        } catch {
            return .failure(HeaderProblem("not valid JSON (\(error))"))
        }
        guard let seq = object["seq"]?.intValue, seq >= 1 else {
            return .failure(HeaderProblem("no integer \"seq\" >= 1"))
        }
        guard let prev = object["prev"]?.stringValue, isHash(prev) else {
            return .failure(HeaderProblem("no \"prev\" of 64 lowercase hex digits"))
        }
        let event = object["event"]?.stringValue
        if strict {
            guard object["time"]?.stringValue != nil else {
                return .failure(HeaderProblem("no string \"time\""))
            }
            guard event != nil else { return .failure(HeaderProblem("no string \"event\"")) }
        }
        return .success(Header(seq: seq, prev: prev, event: event ?? "", object: object))
    }

    /// Why a line is not a journal line.
    struct HeaderProblem: Error {
        /// A sentence fragment for messages.
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The seq of a line read straight from its pinned `{"seq":` prefix,
    /// without parsing the rest; nil when the line does not start that way.
    static func leadingSeq(of line: [UInt8]) -> Int64? {
        let prefix = Array(#"{"seq":"#.utf8)
        guard line.starts(with: prefix) else { return nil }
        let digits = line.dropFirst(prefix.count).prefix { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    /// Whether `s` is 64 lowercase hex digits.
    static func isHash(_ s: String) -> Bool {
        s.utf8.count == 64
            && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
