/// Why a run ended. Written to the journal's `finished` event as `outcome`.
nonisolated public enum Outcome: String, Sendable {
    /// The child exited by itself (see the exit code or signal).
    case exited
    /// The run passed its `timeout_s` and its process group was killed.
    case timedOut = "timed_out"
    /// A cancel request (or shutdown) killed the run.
    case cancelled
    /// The executable could not be started; nothing ran.
    case failedToStart = "failed_to_start"
    /// The child hit one of the action's resource limits and the kernel ended
    /// it (`RunResult.limit` names which).
    case limitExceeded = "limit_exceeded"
}

/// The end of one run, as faces report it.
public struct RunResult {
    /// The run's id.
    public var runID: String
    /// The action's name.
    public var action: String
    /// Why it ended.
    public var outcome: Outcome
    /// The exit code when the child exited normally.
    public var exitCode: Int32?
    /// The signal name (`KILL`, `TERM`) when the child was ended by a signal.
    public var signal: String?
    /// Wall time from spawn to the end of output, in milliseconds.
    public var durationMilliseconds: Int64
    /// Options with the values used.
    public var options: [ClampedOption]
    /// Line, byte, drop and redaction counts.
    public var counts: JSONValue
    /// A sentence for humans when something went wrong (spawn error), redacted.
    public var error: String?
    /// Secret values that could not be registered for redaction, by name only.
    public var warnings: [JSONValue]
    /// The limit that ended the run (`cpu_s`), for `limitExceeded`.
    public var limit: String? = nil
    /// Sequence number of the journal's `finished` event, when it was written.
    public var journalSeq: Int64?
    /// Hash of the journal's `finished` event, when it was written.
    public var journalHash: String?
    /// Why the `finished` event could not be written, when it was not.
    public var journalError: String?

    /// True when the action ran and exited 0.
    public var succeeded: Bool { outcome == .exited && exitCode == 0 }

    /// How the run ended, as a verb phrase for summaries: "exited 0",
    /// "was killed by SIGTERM", "timed out after 30 s", ...
    public var endPhrase: String {
        switch outcome {
        case .exited:
            signal.map { "was killed by SIG\($0)" } ?? "exited \(exitCode ?? -1)"
        case .timedOut:
            "timed out after \(options.first { $0.name == .timeoutS }?.value ?? 0) s"
        case .cancelled: "was cancelled"
        case .failedToStart: "failed to start: \(error ?? "unknown error")"
        case .limitExceeded: "was stopped by its \(limit ?? "resource") limit"
        }
    }

    /// The result as one JSON object (the CLI's `--json`, later the wire protocol).
    public var json: JSONValue {
        var o = JSONObject()
        o["run"] = .string(runID)
        o["action"] = .string(action)
        o["outcome"] = .string(outcome.rawValue)
        o["exit_code"] = exitCode.map { .int(Int64($0)) } ?? .null
        o["signal"] = signal.map { .string($0) } ?? .null
        o["duration_ms"] = .int(durationMilliseconds)
        o["options"] = .object(JSONObject(options.map { ($0.name.rawValue, $0.json) }))
        o["counts"] = counts
        if let error { o["error"] = .string(error) }
        if let limit { o["limit"] = .string(limit) }
        if !warnings.isEmpty { o["warnings"] = .array(warnings) }
        var journal = JSONObject()
        if let journalSeq { journal["seq"] = .int(journalSeq) }
        if let journalHash { journal["hash"] = .string(journalHash) }
        if let journalError { journal["error"] = .string(journalError) }
        o["journal"] = .object(journal)
        return .object(o)
    }
}

/// Signal numbers to the names ward reports (`KILL`, not `9`).
nonisolated public enum SignalName {
    /// The name of signal `number` without the SIG prefix, or its number as text.
    public static func of(_ number: Int32) -> String {
        let names: [Int32: String] = [
            1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE",
            9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM",
            24: "XCPU", 25: "XFSZ",
        ]
        return names[number] ?? String(number)
    }
}
