/// Builds `tools/call` results from what the engine delivered: the redacted
/// output as text with each line labelled by its stream, a one-line summary,
/// and (from 2025-06-18) structured content with the exit code, outcome and
/// counts. Nothing here redacts: every line and message arrives redacted.
public enum ToolResult {
    /// One piece of collected output: a line, or the place where the output
    /// cap dropped lines.
    public enum Entry: Equatable, Sendable {
        /// A forwarded line.
        case line(OutputLine)
        /// The cap's gap: this many lines and bytes were not forwarded.
        case gap(lines: Int, bytes: Int)
    }

    /// The output as text, built as it arrives (a call's reply holds it once,
    /// not a line object per line as well): `out| ` or `err| ` before each
    /// line, in the order the lines arrived, and a note where the cap cut it.
    public struct Text: Sendable {
        private var text = ""

        /// No output yet.
        public init() {}

        /// Adds one collected piece.
        public mutating func append(_ entry: Entry) {
            if !text.isEmpty { text += "\n" }
            switch entry {
            case .line(let line):
                text += line.stream == .stdout ? "out| " : "err| "
                text += line.text
            case .gap(let lines, let bytes):
                text +=
                    "[ward: output cap reached: \(lines) lines (\(bytes) bytes) not shown;"
                    + " the last lines follow]"
            }
        }

        /// The text, or `(no output)`.
        public var value: String { text.isEmpty ? "(no output)" : text }
    }

    /// `entries` as `Text` renders them.
    public static func text(_ entries: [Entry]) -> String {
        var out = Text()
        for entry in entries { out.append(entry) }
        return out.value
    }

    /// One sentence on how the run ended.
    public static func summary(_ r: RunResult) -> String {
        var text = "ward: \(r.action) \(r.endPhrase) in \(r.durationMilliseconds) ms"
        for o in r.options where o.clampedBy != nil {
            text += "; \(o.name.rawValue) \(o.requested ?? 0) clamped to \(o.value)"
        }
        text += " (run \(r.runID)"
        if let seq = r.journalSeq { text += ", journal seq \(seq)" }
        if let e = r.journalError { text += ", journal write failed: \(e)" }
        return text + ")"
    }

    /// The result of a run that ended. It is an error result unless the action
    /// exited 0 and its `finished` event was written.
    public static func finished(
        _ result: RunResult, argv: [String], output: Text, version: String
    ) -> JSONValue {
        var structured = result.json.objectValue ?? JSONObject()
        structured["argv"] = .array(argv.map { .string($0) })
        return build(
            texts: [output.value, summary(result)], structured: .object(structured),
            isError: !result.succeeded || result.journalError != nil, version: version)
    }

    /// The result of a `dry_run` call: what would run, nothing ran.
    public static func planned(_ plan: Plan, version: String) -> JSONValue {
        var text = "dry run of \(plan.action), nothing ran. argv:"
        for (i, element) in plan.argv.enumerated() {
            text += "\n  [\(i)] " + JSONWriter.string(.string(element))
        }
        for o in plan.options {
            text += "\n\(o.name.rawValue) = \(o.value)"
            if let by = o.clampedBy { text += " (requested \(o.requested ?? 0), clamped by \(by))" }
        }
        return build(texts: [text], structured: plan.json, isError: false, version: version)
    }

    /// The result of a refused call: nothing ran. The text names every bad
    /// field so an agent can correct the call.
    public static func refused(
        runID: String, action: String, code: String, message: String, errors: [FieldError],
        journal: JournalHead?, version: String
    ) -> JSONValue {
        var text = "ward refused the call, nothing ran: \(message)"
        for e in errors { text += "\n- \(e.field): \(e.message)" }
        var structured = JSONObject([
            ("run", .string(runID)), ("action", .string(action)), ("outcome", "refused"),
            ("code", .string(code)), ("message", .string(message)),
            ("errors", .array(errors.map(\.json))),
        ])
        if let journal {
            structured["journal"] = ["seq": .int(journal.seq), "hash": .string(journal.hash)]
        }
        return build(
            texts: [text], structured: .object(structured), isError: true, version: version)
    }

    private static func build(
        texts: [String], structured: JSONValue, isError: Bool, version: String
    ) -> JSONValue {
        var o = JSONObject()
        o["content"] = .array(texts.map { ["type": "text", "text": .string($0)] })
        if MCPVersion.hasStructuredContent(version) { o["structuredContent"] = structured }
        o["isError"] = .bool(isError)
        return .object(o)
    }
}
