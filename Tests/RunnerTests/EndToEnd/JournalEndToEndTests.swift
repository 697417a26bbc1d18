import Glibc
import Testing

@testable import Runner

/// The journal as the binary writes and checks it.
@Suite(.serialized) struct JournalEndToEndTests {
    func runs(_ s: Scratch, _ n: Int) {
        for i in 0..<n {
            let out = s.ward([
                "action", "run", "e2e.echo", "--arg", "message=m\(i)", "--reason", "t",
            ])
            precondition(out.status == 0, out.stderr)
        }
    }

    func rewrite(_ s: Scratch, _ lines: [String]) {
        s.dir.write("journal/events.jsonl", lines.map { $0 + "\n" }.joined(), mode: 0o600)
    }

    @Test func journalFileIsPrivate() {
        let s = Scratch()
        runs(s, 1)
        var st = stat()
        #expect(stat(s.journalPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    @Test func twoProcessesAppendingAtOnceKeepOneChain() {
        let s = Scratch()
        let w = WardProcess.binary
        let one =
            "\(w) --config \(s.config) action run e2e.count --arg n=2 --reason parallel >/dev/null"
        let script = "for i in 1 2 3 4 5 6 7 8 9 10; do \(one) & \(one) & wait; done"
        #expect(WardProcess.exec(["/bin/sh", "-c", script]).status == 0)
        let seqs = s.events.compactMap { $0["seq"]?.intValue }
        #expect(seqs == Array(1...40))
        #expect(s.ward(["events", "verify"]).status == 0)
    }

    @Test func verifyCatchesAnEditedLine() {
        let s = Scratch()
        runs(s, 2)
        var lines = s.journalLines
        lines[1] = lines[1].replacingFirst("\"exited\"", with: "\"exitec\"")
        rewrite(s, lines)
        let out = s.ward(["events", "verify", "--json"])
        #expect(out.status == 1)
        #expect(out.stdout.contains("edited"))
    }

    @Test func verifyCatchesADeletedLine() {
        let s = Scratch()
        runs(s, 2)
        var lines = s.journalLines
        lines.remove(at: 1)
        rewrite(s, lines)
        let out = s.ward(["events", "verify", "--json"])
        #expect(out.status == 1)
        #expect(out.stdout.contains("deleted"))
    }

    @Test func verifyCatchesReorderedLines() {
        let s = Scratch()
        runs(s, 2)
        var lines = s.journalLines
        lines.swapAt(1, 2)
        rewrite(s, lines)
        let out = s.ward(["events", "verify", "--json"])
        #expect(out.status == 1)
        #expect(out.stdout.contains("reordered"))
    }

    @Test func tornLastLineIsRepairedAndTheChainContinues() throws {
        let s = Scratch()
        runs(s, 1)
        let whole = s.dir.read("journal/events.jsonl")!
        s.dir.write("journal/events.jsonl", whole + "{\"seq\":3,\"time\":\"2026", mode: 0o600)
        let torn = s.ward(["events", "verify", "--json"])
        #expect(torn.status == 1)
        #expect(torn.stdout.contains("torn"))
        runs(s, 1)
        let events = s.events
        #expect(
            events.map { $0["event"]?.stringValue ?? "" } == [
                "started", "finished", "recovered", "started", "finished",
            ])
        #expect(events.compactMap { $0["seq"]?.intValue } == [1, 2, 3, 4, 5])
        #expect(s.ward(["events", "verify"]).status == 0)
    }

    @Test func rotationKeepsTheChainAcrossFiles() {
        let s = Scratch(extraConfig: "")
        // 64 KiB is the smallest rotation size; each run writes two events of about 500 bytes.
        let cfg = s.dir.read("config.yaml")!.replacingFirst(
            "path: ./journal/events.jsonl",
            with: "path: ./journal/events.jsonl\n  rotate_bytes: 65536")
        s.dir.write("config.yaml", cfg)
        runs(s, 90)
        let listing = WardProcess.exec(["/bin/ls", s.dir.path + "/journal"]).lines
        #expect(listing.contains { $0.hasPrefix("events.0000") })
        let out = s.ward(["events", "verify", "--json"])
        #expect(out.status == 0, "\(out.stdout)")
        let tail = s.ward(["events", "tail", "--lines", "3"])
        #expect(tail.lines.count == 3)
    }

    @Test func abandonedRunIsClosedOutOnStart() throws {
        let s = Scratch()
        runs(s, 1)
        // A started event from a ward process that no longer exists.
        let lines = s.journalLines
        let last = try JSONReader.parse(lines.last!)
        var o = JSONObject()
        o["seq"] = .int(3)
        o["time"] = "2026-01-01T00:00:00.000Z"
        o["prev"] = .string(SHA256.hex(Array(lines.last!.utf8)))
        o["event"] = "started"
        o["run"] = "ghost-run"
        o["action"] = "e2e.echo"
        o["ward_pid"] = .int(999_999)
        o["ward_start"] = .int(1)
        _ = last
        rewrite(s, lines + [JSONWriter.string(.object(o))])
        runs(s, 1)
        let abandoned = s.events.filter { $0["event"] == "abandoned" }
        #expect(abandoned.count == 1)
        #expect(abandoned.first?["run"] == "ghost-run")
        #expect(s.ward(["events", "verify"]).status == 0)
    }
    /// An anchor records that the chain reached a line; a journal deleted
    /// since is a failure, not "nothing to verify".
    @Test func anchorFailsWhenTheJournalWasDeleted() throws {
        let s = Scratch()
        runs(s, 2)
        let head = try JSONReader.parse(s.ward(["events", "verify", "--json"]).stdout)
        let seq = try #require(head["head"]?["seq"]?.intValue)
        let hash = try #require(head["head"]?["hash"]?.stringValue)
        #expect(s.ward(["events", "verify", "--anchor", "\(seq):\(hash)"]).status == 0)
        unlink(s.journalPath)
        let out = s.ward(["events", "verify", "--anchor", "\(seq):\(hash)"])
        #expect(out.status == 1)
        #expect(out.stdout.contains("missing"))
        #expect(s.ward(["events", "verify"]).status == 0)
    }

    @Test func journalPathUnderAFileIsAJournalError() {
        let s = Scratch(extraConfig: "")
        s.dir.write("plain", "x")
        let config = s.dir.write(
            "bad.yaml",
            """
            runner: {id: e2e-runner}
            packs: []
            journal: {path: ./plain/events.jsonl}
            """)
        let out = WardProcess.run(["--config", config, "events", "verify"])
        #expect(out.status == 6, "\(out.stderr)")
        #expect(out.stderr.contains("ENOTDIR"))
    }

    /// A C1 control in a journaled field (CSI, U+009B, in the reason of a run
    /// refused for it) reaches the terminal as a JSON escape, and the printed
    /// line still parses to the same text.
    @Test func eventsTailEscapesC1Controls() throws {
        let s = Scratch()
        let reason = "look \u{9B}2J here"
        let run = s.ward(["action", "run", "e2e.echo", "--arg", "message=m", "--reason", reason])
        #expect(run.status == 4, "\(run.stderr)")
        let tail = s.ward(["events", "tail", "--lines", "1"])
        #expect(tail.status == 0)
        #expect(!tail.stdout.contains("\u{9B}"))
        let refused = try #require(tail.lines.first { $0.contains("\"reason\"") })
        #expect(refused.contains("\\u009b"))
        #expect(try JSONReader.parse(refused)["reason"]?.stringValue == reason)
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let parts = self.split(separator: target, maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? parts[0] + replacement + parts[1] : self
    }

}
