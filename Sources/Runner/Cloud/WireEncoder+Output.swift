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
        out.append(contentsOf: #"{"stream":""#.utf8)
        out.append(contentsOf: line.stream.rawValue.utf8)
        out.append(contentsOf: #"","seq":"#.utf8)
        out.append(contentsOf: String(line.seq).utf8)
        out.append(contentsOf: #","text":"#.utf8)
        JSONWriter.writeString(line.text, into: &out)
        out.append(contentsOf: #","eol":""#.utf8)
        out.append(contentsOf: line.eol.rawValue.utf8)
        out.append(UInt8(ascii: "\""))
        if line.redactions > 0 {
            out.append(contentsOf: #","redactions":"#.utf8)
            out.append(contentsOf: String(line.redactions).utf8)
        }
        if line.invalidUTF8 { out.append(contentsOf: #","invalid_utf8":true"#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A `run.output` message around already encoded lines.
    public static func outputBytes(runID: String, frame: Int, encodedLines: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLines.reduce(96) { $0 + $1.count + 1 })
        out.append(contentsOf: #"{"type":"run.output","run":"#.utf8)
        JSONWriter.writeString(runID, into: &out)
        out.append(contentsOf: #","frame":"#.utf8)
        out.append(contentsOf: String(frame).utf8)
        out.append(contentsOf: #","lines":["#.utf8)
        for (i, line) in encodedLines.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: line)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

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
