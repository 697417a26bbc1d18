import Glibc
import Runner

/// `ward events tail`: the newest journal lines as stored.
enum EventsTailCommand {
    /// Set by SIGINT/SIGTERM so `--follow` ends cleanly between polls.
    nonisolated(unsafe) static var stopRequested: sig_atomic_t = 0

    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words,
            specs: [
                OptionSpec(name: "lines", takesValue: true),
                OptionSpec(name: "follow", takesValue: false),
            ], command: "events tail")
        if o.flag("help") {
            Terminal.out(Help.eventsTail)
            return .ok
        }
        try o.requireNoPositionals(
            "events tail", "takes no arguments: it reads the config's journal (journal.path)")
        var count = 10
        if let text = o.value("lines") {
            guard let n = Int(text), n >= 0, n <= 1_000_000 else {
                throw ArgumentParser.usage(
                    "events tail", "--lines takes a number from 0 to 1000000")
            }
            count = n
        }
        let config = try globals.loadConfig()
        let reader = JournalReader(path: config.journalPath)
        if !o.flag("follow"), !JournalPresence.exists(config.journalPath) {
            Terminal.err("ward: no journal yet at \(config.journalPath) (no run has been recorded)")
            return .ok
        }
        let print: ([UInt8]) -> Void = {
            Terminal.out(String(decoding: TerminalSafeJSON.escape($0), as: UTF8.self))
        }
        do {
            if o.flag("follow") {
                signal(SIGINT) { _ in EventsTailCommand.stopRequested = 1 }
                signal(SIGTERM) { _ in EventsTailCommand.stopRequested = 1 }
                try reader.follow(
                    initialLines: count, shouldStop: { EventsTailCommand.stopRequested != 0 },
                    onLine: print)
            } else {
                for line in try reader.lastLines(count: count) { print(line) }
            }
        } catch {
            throw CommandFailure(.journal, "ward events tail: \(error)")
        }
        return .ok
    }
}

/// `ward events verify`: the hash chain across every retained file.
enum EventsVerifyCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(
            words,
            specs: [
                OptionSpec(name: "anchor", takesValue: true),
                OptionSpec(name: "json", takesValue: false),
            ], command: "events verify")
        if o.flag("help") {
            Terminal.out(Help.eventsVerify)
            return .ok
        }
        try o.requireNoPositionals(
            "events verify",
            "takes no arguments: it verifies the config's journal (journal.path); point --config at a config naming the copy to check another"
        )
        var anchor: JournalAnchor?
        if let text = o.value("anchor") {
            guard let a = JournalAnchor(parsing: text) else {
                throw ArgumentParser.usage(
                    "events verify", "--anchor expects SEQ:HASH (a seq and 64 hex digits)")
            }
            anchor = a
        }
        let config = try globals.loadConfig()
        if !(try JournalPresence.check(config.journalPath)) {
            if let anchor {
                // The anchor says the chain had reached that line: a journal that
                // is gone was removed, which is what an anchor exists to catch.
                let message =
                    "journal \(config.journalPath) is missing, but the anchor names seq "
                    + "\(anchor.seq): it was removed"
                if o.flag("json") {
                    Terminal.out(
                        JSONWriter.pretty([
                            "ok": false, "files_checked": 0, "lines_checked": 0,
                            "problem": ["kind": "truncated", "message": .string(message)],
                        ]))
                } else {
                    Terminal.out("FAILED: \(message)")
                }
                return .failed
            }
            Terminal.err("ward: no journal yet at \(config.journalPath): nothing to verify")
            if o.flag("json") {
                Terminal.out(
                    JSONWriter.pretty(["ok": true, "files_checked": 0, "lines_checked": 0]))
            }
            return .ok
        }
        let report: VerifyReport
        do {
            report = try JournalVerifier.verify(path: config.journalPath, anchor: anchor)
        } catch {
            throw CommandFailure(.journal, "ward events verify: \(error)")
        }
        if o.flag("json") {
            Terminal.out(JSONWriter.pretty(report.json))
        } else {
            var text = report.text
            while text.hasSuffix("\n") { text.removeLast() }
            Terminal.out(text)
        }
        return report.ok ? .ok : .failed
    }
}

/// Whether a journal has been started at a path (its active file or any rotated one).
enum JournalPresence {
    static func exists(_ path: String) -> Bool {
        (try? check(path)) ?? true
    }

    /// The same, failing (exit 6) when the path cannot be looked at for any
    /// reason but its absence: a parent that is a file, a folder without search
    /// permission.
    static func check(_ path: String) throws(CommandFailure) -> Bool {
        var st = stat()
        if stat(path, &st) == 0 { return true }
        guard errno == ENOENT else {
            throw CommandFailure(.journal, "ward: cannot look at \(path): \(errnoName(errno))")
        }
        return !((try? JournalSet(path: path).rotatedFiles()) ?? []).isEmpty
    }
}

/// Journal lines as they go to a terminal: DEL and the C1 controls (U+0080 to
/// U+009F, which JSON leaves raw and terminals act on: U+009B is CSI) become
/// `\u00XX` escapes. The line stays the same JSON: a parser reads the same text.
enum TerminalSafeJSON {
    static func escape(_ line: [UInt8]) -> [UInt8] {
        guard line.contains(where: { $0 == 0x7F || $0 == 0xC2 }) else { return line }
        var out: [UInt8] = []
        out.reserveCapacity(line.count + 16)
        var i = 0
        while i < line.count {
            let b = line[i]
            if b == 0x7F {
                out += Array("\\u007f".utf8)
            } else if b == 0xC2, i + 1 < line.count, (0x80...0x9F).contains(line[i + 1]) {
                let hex = TerminalSink.hexDigits
                out +=
                    Array("\\u00".utf8) + [
                        hex[Int(line[i + 1] >> 4)], hex[Int(line[i + 1] & 0x0F)],
                    ]
                i += 1
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }
}
