import CUV

/// The messages the cloud link builds most often, written straight to bytes,
/// and the ones it rebuilds from the journal.
extension WireEncoder {
    /// Largest encoded `lines` payload of one `run.output`: a quarter of the
    /// message cap, so a batch plus its envelope is always far below it. One
    /// line alone may pass it (a 64 KiB line of control bytes escapes to
    /// 384 KiB) and is then sent on its own, still below the cap.
    public static let maxOutputBatchBytes = 256 * 1024
    /// Most lines in one `run.output`.
    public static let maxOutputBatchLines = 256

    /// One line as JSON bytes, the same members as `OutputLine.json`.
    public static func lineBytes(_ line: OutputLine) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.text.utf8.count + 64)
        appendLine(line, into: &out)
        return out
    }

    /// Appends one line as JSON, the same members as `OutputLine.json`, with
    /// no intermediate copy: the outbox encodes every line straight into its
    /// one buffer.
    nonisolated public static func appendLine(_ line: OutputLine, into out: inout [UInt8]) {
        appendLiteral(
            line.stream == .stdout ? #"{"stream":"stdout","seq":"# : #"{"stream":"stderr","seq":"#,
            into: &out)
        appendDecimal(line.seq, into: &out)
        appendLiteral(#","text":"#, into: &out)
        var text = line.text
        text.withUTF8 { appendString(UnsafeRawBufferPointer($0), into: &out) }
        switch line.eol {
        case .lf: appendLiteral(#","eol":"lf""#, into: &out)
        case .crlf: appendLiteral(#","eol":"crlf""#, into: &out)
        case .cr: appendLiteral(#","eol":"cr""#, into: &out)
        case .none: appendLiteral(#","eol":"none""#, into: &out)
        case .split: appendLiteral(#","eol":"split""#, into: &out)
        }
        if line.redactions > 0 {
            appendLiteral(#","redactions":"#, into: &out)
            appendDecimal(line.redactions, into: &out)
        }
        if line.invalidUTF8 { appendLiteral(#","invalid_utf8":true"#, into: &out) }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends valid UTF-8 `bytes` as a JSON string literal with exactly the
    /// escapes of `JSONWriter.writeString`, copying plain runs whole; the runs
    /// are found eight bytes at a time, since nearly every byte of a log line
    /// is plain.
    nonisolated public static func appendString(
        _ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]
    ) {
        out.append(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            out.append(UInt8(ascii: "\""))
            return
        }
        var i = 0
        while i < bytes.count {
            let plain = cuv_json_plain_prefix_wide(base + i, bytes.count - i)
            if plain > 0 {
                out.append(contentsOf: UnsafeBufferPointer(start: base + i, count: plain))
                i += plain
            }
            guard i < bytes.count else { break }
            appendEscape(base[i], into: &out)
            i += 1
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the escape of one byte a JSON string cannot hold as it is.
    nonisolated private static func appendEscape(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: "u00".utf8)
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        }
    }

    nonisolated private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10
    }

    /// Appends a non-negative `n` in decimal, without building a String.
    nonisolated static func appendDecimal(_ n: Int, into out: inout [UInt8]) {
        precondition(n >= 0, "sequence numbers and counts are not negative")
        // Int.max has 19 digits.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var v = n
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                count += 1
                buffer[24 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Appends the bytes of a literal without going through `String`.
    nonisolated private static func appendLiteral(_ s: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// A `run.output` message around already encoded lines, joined by commas.
    public static func outputBytes(runID: String, frame: Int, joinedLines: UnsafeRawBufferPointer)
        -> [UInt8]
    {
        outputPrefix(runID: runID, frame: frame) + joinedLines + outputSuffix
    }

    /// What comes before the joined lines of a `run.output` (see `outputBytes`).
    public static func outputPrefix(runID: String, frame: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(runID.utf8.count + 64)
        out.append(contentsOf: #"{"type":"run.output","run":"#.utf8)
        JSONWriter.writeString(runID, into: &out)
        out.append(contentsOf: #","frame":"#.utf8)
        appendDecimal(frame, into: &out)
        out.append(contentsOf: #","lines":["#.utf8)
        return out
    }

    /// What comes after the joined lines of a `run.output`.
    public static let outputSuffix: [UInt8] = Array("]}".utf8)

    /// `plan.result` for a plan that validated: the exact argv, environment and
    /// clamped options a run of the same request would use; nothing ran.
    public static func planResult(_ plan: Plan) -> JSONValue {
        guard case .object(let body) = plan.json else { preconditionFailure("plan is an object") }
        var o = JSONObject()
        o["type"] = "plan.result"
        for member in body.members { o[member.key] = member.value }
        return .object(o)
    }

    /// `plan.result` for a plan refused as the run would be.
    public static func planRefused(runID: String, _ refusal: Refusal, head: JournalHead?)
        -> JSONValue
    {
        var o = JSONObject()
        o["type"] = "plan.result"
        o["run"] = .string(runID)
        o["outcome"] = "refused"
        o["code"] = .string(refusal.code.rawValue)
        o["message"] = .string(refusal.message)
        o["errors"] = .array(refusal.errors.map(\.json))
        o["journal"] = journal(head)
        return .object(o)
    }

    /// `state`: the runner's packs changed (SIGHUP reload); the same document
    /// as in `hello`.
    public static func state(_ state: JSONValue, head: JournalHead?) -> JSONValue {
        ["type": "state", "journal": journal(head), "state": state]
    }

    /// `run.finished` rebuilt from the journal for a run id already recorded:
    /// the `finished` (or `abandoned`) event's members, the options from the
    /// `started` event, and that event's head. `replayed` is always true.
    public static func replayed(_ record: RecordedRun, runID: String) -> JSONValue {
        let ended = record.ended ?? JSONObject()
        var o = JSONObject()
        o["type"] = "run.finished"
        o["run"] = .string(runID)
        o["action"] = ended["action"] ?? record.started?["action"] ?? .null
        if ended["event"]?.stringValue == "abandoned" {
            // The ward process running it died; nothing knows how it ended.
            o["outcome"] = "abandoned"
            o["exit_code"] = .null
            o["signal"] = .null
        } else {
            o["outcome"] = ended["outcome"] ?? .null
            o["exit_code"] = ended["exit_code"] ?? .null
            o["signal"] = ended["signal"] ?? .null
            o["duration_ms"] = ended["duration_ms"] ?? .null
        }
        o["options"] = record.started?["options"] ?? .object(JSONObject())
        o["counts"] = ended["output"] ?? .object(JSONObject())
        o["journal"] = journal(record.endedHead)
        o["replayed"] = true
        return .object(o)
    }
}
