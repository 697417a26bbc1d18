import Glibc
import Testing

@testable import Runner

/// The built `ward` binary running real actions from the e2e fixture pack.
@Suite(.serialized) struct RunEndToEndTests {
    @Test func validRunPrintsOutputAndJournalsStartedAndFinished() throws {
        let s = Scratch()
        let out = s.ward([
            "action", "run", "e2e.echo", "--arg", "message=hello world", "--reason", "t",
        ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.lines == ["out| hello world"])
        let events = s.events
        #expect(events.map { $0["event"]?.stringValue } == ["started", "finished"])
        #expect(events[0]["argv"] == ["/bin/echo", "hello world"])
        #expect(events[0]["origin"] == "local")
        #expect(events[0]["requester"] == .string("uid:\(getuid())"))
        #expect(events[1]["outcome"] == "exited")
        #expect(events[1]["exit_code"] == .int(0))
        #expect(events[1]["run"] == events[0]["run"])
        #expect(s.ward(["events", "verify"]).status == 0)
    }

    @Test func jsonResultCarriesLinesCountsAndJournalHead() throws {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.count", ["--arg", "n=3"])
        #expect(status == 0)
        #expect(doc.lineTexts == ["1", "2", "3"])
        #expect(doc["outcome"] == "exited")
        #expect(doc["journal"]?["seq"] == .int(2))
        let last = try JSONReader.parse(s.journalLines.last!)
        #expect(last["seq"] == .int(2))
        #expect(doc["journal"]?["hash"] == .string(SHA256.hex(Array(s.journalLines.last!.utf8))))
    }

    @Test func nonZeroExitGivesExitCodeOne() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.printf", ["--arg", "what=err-no-newline"])
        #expect(status == 1)
        #expect(doc["exit_code"] == .int(3))
        let lines = doc["lines"]?.arrayValue ?? []
        #expect(lines.count == 1)
        #expect(lines.first?["stream"] == "stderr")
        #expect(lines.first?["text"] == "oops")
    }

    // MARK: Refusals: nothing runs, exit 4, one `refused` event naming each problem.

    @Test(arguments: [
        (["e2e.nope"], "unknown_action", [String]()),
        (["e2e.echo"], "invalid_request", ["args.message"]),
        (
            ["e2e.echo", "--arg", "message=x", "--arg", "bogus=1"], "invalid_request",
            ["args.bogus"]
        ),
        (["e2e.count", "--arg", "n=1e3"], "invalid_request", ["args.n"]),
        (["e2e.count", "--arg", "n=0"], "invalid_request", ["args.n"]),
        (["e2e.region", "--arg", "region=fr"], "invalid_request", ["args.region"]),
        (
            ["e2e.region", "--arg", "region=se", "--arg", "host=a;b"], "invalid_request",
            ["args.host"]
        ),
        (["e2e.grep", "--arg", "needle=-f/etc/shadow"], "invalid_request", ["args.needle"]),
        (
            ["e2e.echo", "--arg", "message=x", "--opt", "timeout_s=5"], "invalid_request",
            ["options.timeout_s"]
        ),
    ])
    func refusalIsJournaledAndNothingRuns(_ words: [String], _ code: String, _ fields: [String]) {
        let s = Scratch()
        let (status, doc, out) = s.runJSON(words[0], Array(words.dropFirst()))
        #expect(status == 4, "\(out.stdout)\(out.stderr)")
        #expect(doc["code"] == .string(code))
        #expect((doc["errors"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue } == fields)
        let events = s.events
        #expect(events.count == 1)
        #expect(events.first?["event"] == "refused")
        #expect(events.first?["code"] == .string(code))
    }

    @Test func refusalsOfHugeNamesAndValuesAreStillJournaled() {
        // Names a request makes up (actions, options, undeclared arguments)
        // and quoted values are cut by bytes, so no refusal outgrows a journal
        // line (256 KiB): each of these made one of 300-400 KB, and the
        // attempt went unjournaled.
        let o = String(repeating: "o", count: 120_000)
        let marks = "x" + String(repeating: "\u{0301}", count: 65_000)
        let cases: [[String]] = [
            [
                "e2e.echo", "--arg", "message=x", "--opt", "\(o)=1", "--opt", "b\(o)=1", "--opt",
                "c\(o)=1",
            ],
            [
                "e2e.echo", "--arg", "message=x", "--arg", "\(o)1=v", "--arg", "\(o)2=v", "--arg",
                "\(o)3=v",
            ],
            ["e2e." + String(repeating: "a", count: 130_000)],
            ["e2e.region", "--arg", "region=\(marks)", "--arg", "host=\(marks)"],
        ]
        for words in cases {
            let s = Scratch()
            let out = s.ward(["action", "run"] + words + ["--reason", "huge"])
            #expect(out.status == 4, "\(out.stderr.prefix(300))")
            #expect(!out.stderr.contains("journal write failed"), "\(out.stderr.prefix(300))")
            let events = s.events
            #expect(events.count == 1 && events.first?["event"] == "refused")
            #expect(out.stderr.utf8.count < 8192, "stderr of \(out.stderr.utf8.count) bytes")
        }
    }

    @Test func aRequestTooLargeToJournalIsRefusedAndTheRefusalJournaled() {
        // Twenty values of 4,096 backslashes are each 8 KiB in JSON, once in
        // `args` and once in `argv`: the `started` (or `planned`) line would
        // pass 256 KiB. It used to be refused as journal_unavailable with
        // nothing journaled at all.
        let dir = TempDir()
        let names = (0..<20).map { "a\($0)" }
        let placeholders = names.map { "\"{{args.\($0)}}\"" }.joined(separator: ", ")
        let declarations = names.map { "      \($0): {type: string, max_length: 4096}\n" }
        dir.write(
            "packs/wide/pack.yaml",
            "pack: wide\nversion: \"1\"\ndescription: Wide.\nactions:\n  wide.echo:\n"
                + "    description: Echo twenty values.\n"
                + "    exec: [\"/bin/echo\", \(placeholders)]\n    args:\n" + declarations.joined())
        let config = dir.write(
            "config.yaml",
            "packs: [\"\(dir.path)/packs\"]\njournal: {path: \(dir.path)/j/events.jsonl}\n")
        let value = String(repeating: "\\", count: 4096)
        let given = names.flatMap { ["--arg", "\($0)=\(value)"] }
        for command in ["run", "plan"] {
            let out = WardProcess.run(
                ["--config", config, "action", command, "wide.echo"] + given + ["--reason", "wide"])
            #expect(out.status == 4, "\(out.stderr.prefix(400))")
            #expect(out.stderr.contains("too large to journal"), "\(out.stderr.prefix(400))")
        }
        let lines = (dir.read("j/events.jsonl") ?? "").split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""event":"refused""#) == true)
        #expect(lines.last?.contains(#""outcome":"refused""#) == true)
        #expect(WardProcess.run(["--config", config, "events", "verify"]).status == 0)
    }

    @Test func runIDAlreadyInTheJournalIsRefusedNotRunAgain() {
        let s = Scratch()
        let first = s.ward([
            "action", "run", "e2e.echo", "--arg", "message=once", "--run-id",
            "cli-once-1", "--reason", "first",
        ])
        #expect(first.status == 0)
        let second = s.ward([
            "action", "run", "e2e.echo", "--arg", "message=twice", "--run-id",
            "cli-once-1", "--reason", "second",
        ])
        #expect(second.status == 4)
        #expect(second.stderr.contains("already in the journal, exited"), "\(second.stderr)")
        #expect(!second.stdout.contains("twice"))
        let started = s.events.filter {
            $0["event"]?.stringValue == "started" && $0["run"]?.stringValue == "cli-once-1"
        }
        #expect(started.count == 1)
        #expect(s.events.last?["event"]?.stringValue == "refused")
        #expect(s.events.last?["code"]?.stringValue == "duplicate_run")
    }

    @Test func missingReasonIsAUsageError() {
        let s = Scratch()
        let out = s.ward(["action", "run", "e2e.echo", "--arg", "message=x"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("--reason"))
        #expect(s.journalLines.isEmpty)
    }

    @Test func enumValueNoStaysTheString() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.region", ["--arg", "region=no"])
        #expect(status == 0)
        #expect(doc.lineTexts == ["no localhost"])
    }

    @Test func requestedOptionIsClampedAndTheBoundReported() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON(
            "e2e.count", ["--arg", "n=5", "--opt", "max_output_lines=5000"])
        #expect(status == 0)
        #expect(doc["options"]?["max_output_lines"]?["value"] == .int(1000))
        #expect(doc["options"]?["max_output_lines"]?["requested"] == .int(5000))
        #expect(doc["options"]?["max_output_lines"]?["clamped_by"] == "max_output_lines_max")
        #expect(
            s.events[0]["options"]?["max_output_lines"]?["clamped_by"] == "max_output_lines_max")
    }

    @Test func outputCapKeepsTheTailAndCountsWhatWasDropped() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON(
            "e2e.count", ["--arg", "n=5000", "--opt", "max_output_lines=10"])
        #expect(status == 0)
        let texts = doc.lineTexts
        #expect(texts.prefix(10) == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])
        #expect(texts.last == "5000")
        let finished = s.events.last!
        #expect(finished["output"] != nil)
    }

    @Test func executableNotFoundFailsToStartClearly() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.missing")
        #expect(status == 5)
        #expect(doc["outcome"] == "failed_to_start")
        #expect(doc["error"]?.stringValue?.contains("/nonexistent/bin/tool") == true)
        #expect(s.events.last?["outcome"] == "failed_to_start")
    }

    @Test func refusedRequestNeverJournalsASecretOrAnUndeclaredValue() {
        let s = Scratch()
        let secret = "Hunter2Secret-value"
        let out = s.ward([
            "action", "run", "e2e.secret", "--arg", "token=\(secret)", "--arg",
            "tokn=\(secret)x", "--reason", "token is \(secret)",
        ])
        #expect(out.status == 4)
        #expect(!s.allJournalText.contains("Hunter2"))
        #expect(s.events.first?["args"]?["tokn"] == "[REDACTED:undeclared]")
        #expect(s.events.first?["reason"] == "token is [REDACTED:arg.token]")
    }

    @Test func refusedRequestMasksEvenAShortSecretInTheReason() {
        let s = Scratch()
        let out = s.ward([
            "action", "run", "e2e.secret", "--arg", "token=ab!c", "--reason", "my token is ab!c",
        ])
        #expect(out.status == 4)
        #expect(!s.allJournalText.contains("ab!c"))
        #expect(s.events.first?["reason"] == "my token is [REDACTED:arg.token]")
    }

    @Test func controlCharactersInAValueAreRefused() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.echo", ["--arg", "message=a\u{1B}[31mred"])
        #expect(status == 4)
        #expect(doc["errors"]?.arrayValue?.first?["field"] == "args.message")
    }

    @Test func invalidRunIdIsRefusedAndNotJournaledVerbatim() {
        let s = Scratch()
        let id = String(repeating: "x", count: 200)
        let (status, _, _) = s.runJSON("e2e.echo", ["--arg", "message=a", "--run-id", id])
        #expect(status == 4)
        #expect(s.events.first?["run"] == "[invalid run id]")
    }

    @Test func unknownActionSuggestsNearNames() {
        let s = Scratch()
        let out = s.ward(["action", "run", "e2e.ech", "--reason", "t"])
        #expect(out.status == 4)
        #expect(out.stderr.contains("did you mean e2e.echo"))
    }

    @Test func verifyAndTailOnAFreshHostSucceedWithANote() {
        let s = Scratch()
        #expect(s.ward(["events", "verify"]).status == 0)
        #expect(s.ward(["events", "tail"]).status == 0)
    }
}
