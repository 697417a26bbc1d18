import Glibc
import Runner

/// `ward action run NAME ...`: one run through the full pipeline on a local loop.
enum ActionRunCommand {
    static let specs = [
        OptionSpec(name: "arg", takesValue: true, repeatable: true),
        OptionSpec(name: "opt", takesValue: true, repeatable: true),
        OptionSpec(name: "reason", takesValue: true),
        OptionSpec(name: "run-id", takesValue: true),
        OptionSpec(name: "stream", takesValue: false),
        OptionSpec(name: "json", takesValue: false),
    ]

    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let command = "action run"
        let o = try ArgumentParser.parse(words, specs: specs, command: command)
        if o.flag("help") {
            Terminal.out(Help.actionRun)
            return .ok
        }
        guard o.positionals.count == 1 else {
            throw ArgumentParser.usage(command, "name exactly one action")
        }
        guard let reason = o.value("reason") else {
            throw ArgumentParser.usage(command, "--reason is required: say why the action is run")
        }
        if o.flag("stream") && o.flag("json") {
            throw ArgumentParser.usage(command, "--stream and --json cannot be combined")
        }
        let (args, options) = try values(o, command: command)

        let (config, registry) = try globals.loadRegistry()
        let logger = globals.logger(config: config)
        let runtime: Runtime
        do {
            runtime = try Runtime(config: config, registry: registry, logger: logger)
        } catch {
            throw CommandFailure(.journal, "ward: \(error)")
        }
        let request = RunRequest(
            id: o.value("run-id") ?? "local-" + RandomID.uuid(), action: o.positionals[0],
            args: args, options: options, reason: reason, origin: .local,
            requester: "uid:\(getuid())")
        let sink = TerminalSink(
            mode: o.flag("json") ? .json : (o.flag("stream") ? .stream : .buffered))
        if o.value("run-id") != nil {
            // At most once per run id, as for the control plane's runs: an id the
            // journal already holds is refused, never run again.
            let record = RunHistory.lookup(request.id, in: runtime.journal.files)
            if record.started != nil {
                let seq = record.endedHead.map { " (journal seq \($0.seq))" } ?? ""
                let outcome = record.ended?["outcome"]?.stringValue
                runtime.engine.refuse(
                    request,
                    Refusal(
                        .duplicateRun,
                        "run \(request.id) is already in the journal"
                            + (outcome.map { ", \($0)" } ?? ", with no recorded end") + seq
                            + "; it is not run again"), sink: sink)
                runtime.runUntilIdle()
                return sink.exitCode
            }
        }
        runtime.engine.submit(request, sink: sink)
        runtime.runUntilIdle()
        return sink.exitCode
    }
}

extension ActionRunCommand {
    /// The `--arg k=v` and `--opt k=v` values, as typed.
    static func values(_ o: ParsedOptions, command: String) throws(CommandFailure) -> (
        args: [(name: String, value: RequestValue)], options: [(name: String, value: RequestValue)]
    ) {
        var args: [(name: String, value: RequestValue)] = []
        for kv in o.all("arg") {
            let (k, v) = try ArgumentParser.keyValue(kv, option: "arg", command: command)
            args.append((k, .text(v)))
        }
        var options: [(name: String, value: RequestValue)] = []
        for kv in o.all("opt") {
            let (k, v) = try ArgumentParser.keyValue(kv, option: "opt", command: command)
            options.append((k, .text(v)))
        }
        return (args, options)
    }
}

/// Prints a run's lines and result on the terminal.
final class TerminalSink: RunSink {
    enum Mode { case stream, buffered, json }

    let mode: Mode
    var dropped: OutputCap.Gap?
    var notes: [String] = []
    var exitCode: ExitCode = .internalError
    /// Rendered lines not yet written to stdout (or, held for the end of the
    /// run, not yet moved to `held`).
    private var printed: [UInt8] = []
    /// Without `--stream` the output waits for the run's end: as rendered
    /// bytes (for `--json`, each line's JSON), in pieces of about
    /// `heldChunkBytes`, so holding it costs about its own size and never a
    /// copy of all of it while it grows.
    private var held: [[UInt8]] = []
    /// Where in `held` the output cap's note goes (buffered mode).
    private var noteAt: Int?
    /// Lines held, for `--json`'s separators.
    private var heldLines = 0

    /// Most rendered bytes gathered before one write to stdout. One write per
    /// line held `--stream` to about 15 MB/s (a system call per 100-byte
    /// line); 64 KiB is one Linux pipe buffer, so a reader sees output as
    /// promptly as a pipe can deliver it.
    static let writeChunkBytes = 64 * 1024
    /// Size of one piece of held output.
    static let heldChunkBytes = 256 * 1024

    init(mode: Mode) { self.mode = mode }

    func runStarted(_ run: RunInfo) {}

    func runOutput(_ run: RunInfo, _ batch: [OutputLine]) {
        switch mode {
        case .stream:
            for line in batch { printLine(line) }
            flushPrinted()
        case .buffered:
            for line in batch {
                TerminalSink.render(line, into: &printed)
                if printed.count >= Self.heldChunkBytes { holdPrinted() }
            }
        case .json:
            for line in batch {
                // `[` and `]` come at the end: elements after the first start
                // with their comma.
                printed.append(contentsOf: (heldLines == 0 ? "\n    " : ",\n    ").utf8)
                JSONWriter.write(line.json, into: &printed)
                heldLines += 1
                if printed.count >= Self.heldChunkBytes { holdPrinted() }
            }
        }
    }

    /// Moves the rendered bytes into `held`.
    private func holdPrinted() {
        guard !printed.isEmpty else { return }
        held.append(printed)
        printed = []
        printed.reserveCapacity(Self.heldChunkBytes + Self.writeChunkBytes)
    }

    /// Writes the held pieces in `range` to stdout, freeing each once written.
    private func writeHeld(_ range: Range<Int>) {
        for i in range {
            Terminal.write(1, bytes: held[i])
            held[i] = []
        }
    }

    func runOutputDropped(_ run: RunInfo, _ gap: OutputCap.Gap) {
        dropped = gap
        let note =
            "ward: output cap reached: \(gap.lines) lines (\(gap.bytes) bytes) not shown;"
            + " the last lines follow"
        if mode == .stream {
            flushPrinted()
            Terminal.out(note)
        } else if mode == .buffered {
            holdPrinted()
            noteAt = held.count
        }
        notes.append(note)
    }

    func runRefused(_ request: RunRequest, _ refusal: Refusal, journal: JournalHead?) {
        exitCode = .refused
        if mode == .json {
            var o = JSONObject()
            o["run"] = .string(request.id)
            o["action"] = .string(request.action)
            o["outcome"] = "refused"
            o["code"] = .string(refusal.code.rawValue)
            o["message"] = .string(refusal.message)
            o["errors"] = .array(refusal.errors.map(\.json))
            if let journal {
                o["journal"] = ["seq": .int(journal.seq), "hash": .string(journal.hash)]
            }
            Terminal.out(JSONWriter.pretty(.object(o)))
        } else {
            var text = "ward: refused: " + TerminalSink.visible(refusal.message)
            for e in refusal.errors { text += "\n  " + TerminalSink.visible(e.description) }
            Terminal.err(text)
        }
    }

    func runFinished(_ run: RunInfo, _ result: RunResult) {
        switch (result.outcome, result.exitCode) {
        case (.exited, 0): exitCode = .ok
        case (.exited, _): exitCode = .failed
        default: exitCode = .incomplete
        }
        if result.journalError != nil { exitCode = .journal }
        switch mode {
        case .json:
            guard case .object(var o) = result.json else { return }
            holdPrinted()
            o["argv"] = .array(run.argv.map { .string($0) })
            // The held lines go where this placeholder is printed (no argv
            // element or other value can hold a NUL).
            let placeholder = "\u{0}ward-lines\u{0}"
            o["lines"] = .string(placeholder)
            if let dropped { o["dropped"] = dropped.json }
            let document = Array(JSONWriter.pretty(.object(o)).utf8)
            let mark = Array(JSONWriter.string(.string(placeholder)).utf8)
            guard let at = ByteSearch.firstIndex(of: mark, in: document) else {
                preconditionFailure("the lines placeholder is not in the document")
            }
            Terminal.write(1, bytes: Array(document[..<at]) + Array("[".utf8))
            writeHeld(0..<held.count)
            let close = heldLines == 0 ? "]" : "\n  ]"
            Terminal.write(1, bytes: Array(close.utf8) + document[(at + mark.count)...] + [0x0A])
        case .buffered, .stream:
            if mode == .buffered {
                holdPrinted()
                let split = noteAt ?? held.count
                writeHeld(0..<split)
                if noteAt != nil { Terminal.out(notes.first ?? "") }
                writeHeld(split..<held.count)
            }
            Terminal.err(TerminalSink.summary(result))
        }
    }

    /// Adds one line to the bytes waiting for stdout, writing them out once
    /// they pass `writeChunkBytes`.
    func printLine(_ line: OutputLine) {
        TerminalSink.render(line, into: &printed)
        if printed.count >= TerminalSink.writeChunkBytes { flushPrinted() }
    }

    /// Writes the bytes waiting for stdout.
    func flushPrinted() {
        guard !printed.isEmpty else { return }
        Terminal.write(1, bytes: printed)
        printed.removeAll(keepingCapacity: true)
    }

    /// Appends one line as printed, `out| text` or `err| text` and a newline,
    /// with control characters shown as `\xNN` so a child cannot drive the
    /// operator's terminal.
    static func render(_ line: OutputLine, into out: inout [UInt8]) {
        out.append(contentsOf: (line.stream == .stdout ? "out| " : "err| ").utf8)
        appendVisible(line.text, into: &out)
        out.append(0x0A)
    }

    /// `text` with C0 controls (but tab) and DEL written as `\xNN`.
    static func visible(_ text: String) -> String {
        guard text.utf8.contains(where: Validator.isControl) else {
            return text
        }
        var out: [UInt8] = []
        appendVisible(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` with C0 controls (but tab), DEL and the C1 controls
    /// U+0080-U+009F (bytes C2 80-C2 9F: terminals act on CSI U+009B as on
    /// ESC [) written as `\xNN`, copying the runs between them whole. Words of eight bytes with no
    /// control are skipped at once (a tab sends its word through the byte
    /// test), since nearly every line has none.
    static func appendVisible(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var start = 0
            var i = 0
            while i < bytes.count {
                if i + 8 <= bytes.count,
                    wordHasNoControl(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                {
                    i += 8
                    continue
                }
                let b = bytes[i]
                let c1 = b == 0xC2 && i + 1 < bytes.count && (0x80...0x9F).contains(bytes[i + 1])
                if Validator.isControl(b) || c1 {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                    for c in bytes[i..<(i + (c1 ? 2 : 1))] {
                        out.append(contentsOf: "\\x".utf8)
                        out.append(hexDigits[Int(c >> 4)])
                        out.append(hexDigits[Int(c & 0x0F)])
                    }
                    i += c1 ? 2 : 1
                    start = i
                    continue
                }
                i += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }

    /// False when a byte of `x` is below 0x20, is DEL or is 0xC2 (the lead
    /// byte of a C1 control): the "some byte is below n" word trick,
    /// `(x - n * ones) & ~x` on the high bits, which never misses one (it may
    /// flag bytes after a real hit, which the byte test then clears).
    static func wordHasNoControl(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let del = x ^ (ones &* 0x7F)
        let lead = x ^ (ones &* 0xC2)
        let hits =
            ((x &- ones &* 0x20) & ~x) | ((del &- ones) & ~del) | ((lead &- ones) & ~lead)
        return hits & 0x8080_8080_8080_8080 == 0
    }

    /// Lowercase hex digits for `\xNN` (and the journal's `\u00XX` on a terminal).
    static let hexDigits = Array("0123456789abcdef".utf8)

    /// The one-line summary printed to stderr when a run ends.
    static func summary(_ r: RunResult) -> String {
        var text = "ward: \(r.action) \(r.endPhrase) in \(r.durationMilliseconds) ms"
        for o in r.options where o.clampedBy != nil {
            text +=
                "; \(o.name.rawValue) \(o.requested ?? 0) clamped to \(o.value) by \(o.clampedBy!)"
        }
        text += " (run \(r.runID)"
        if let seq = r.journalSeq { text += ", journal seq \(seq)" }
        if let e = r.journalError { text += ", JOURNAL WRITE FAILED: \(e)" }
        return text + ")"
    }
}
