/// Builds the runner's messages (docs/wire-protocol.md). Everything handed in is
/// already redacted by the engine.
public enum WireEncoder {
    /// `{"seq":…,"hash":…}` of a journal head, or null.
    public static func journal(_ head: JournalHead?) -> JSONValue {
        guard let head else { return .null }
        return ["seq": .int(head.seq), "hash": .string(head.hash)]
    }

    /// The `hello` sent at the start of every connection.
    public static func hello(
        session: String, state: JSONValue, head: JournalHead?, inFlight: [String],
        unacknowledged: [String] = []
    ) -> JSONValue {
        var o = JSONObject()
        o["type"] = "hello"
        o["protocol"] = .int(WireProtocol.version)
        o["session"] = .string(session)
        o["runner"] = state["runner"] ?? .null
        o["journal"] = journal(head)
        o["in_flight"] = .array(inFlight.map { .string($0) })
        o["unacknowledged"] = .array(unacknowledged.map { .string($0) })
        o["state"] = state
        return .object(o)
    }

    /// `run.accepted`: the `started` event is on disk and the child runs.
    public static func accepted(_ run: RunInfo) -> JSONValue {
        var o = JSONObject()
        o["type"] = "run.accepted"
        o["run"] = .string(run.id)
        o["action"] = .string(run.action)
        o["argv"] = .array(run.argv.map { .string($0) })
        o["options"] = .object(JSONObject(run.options.map { ($0.name.rawValue, $0.json) }))
        o["journal"] = journal(run.journal)
        return .object(o)
    }

    /// `run.refused`: nothing ran.
    public static func refused(runID: String, _ refusal: Refusal, head: JournalHead?) -> JSONValue {
        var o = JSONObject()
        o["type"] = "run.refused"
        o["run"] = .string(runID)
        o["code"] = .string(refusal.code.rawValue)
        o["message"] = .string(refusal.message)
        o["errors"] = .array(refusal.errors.map(\.json))
        o["journal"] = journal(head)
        return .object(o)
    }

    /// `run.dropped`: lines not forwarded, with exact counts.
    public static func dropped(runID: String, lines: Int, bytes: Int, reason: String) -> JSONValue {
        [
            "type": "run.dropped", "run": .string(runID), "lines": .int(Int64(lines)),
            "bytes": .int(Int64(bytes)), "reason": .string(reason),
        ]
    }

    /// `run.finished`: exactly once per accepted run.
    public static func finished(_ result: RunResult, replayed: Bool = false) -> JSONValue {
        guard case .object(var o) = result.json else { preconditionFailure("result is an object") }
        var out = JSONObject()
        out["type"] = "run.finished"
        for member in o.members where member.key != "journal" { out[member.key] = member.value }
        o = out
        o["journal"] =
            result.journalSeq.map { seq in
                ["seq": .int(seq), "hash": .string(result.journalHash ?? "")]
            } ?? .null
        if replayed { o["replayed"] = true }
        return .object(o)
    }

    /// A `heartbeat` with the chain head and the number of runs in flight.
    public static func heartbeat(head: JournalHead?, inFlight: Int) -> JSONValue {
        ["type": "heartbeat", "journal": journal(head), "in_flight": .int(Int64(inFlight))]
    }
}
