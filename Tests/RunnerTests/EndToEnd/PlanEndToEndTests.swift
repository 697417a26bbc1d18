import Glibc
import Testing

@testable import Runner

/// `ward action plan` and the wire's `plan`: the pipeline up to execution,
/// and a later run executing exactly the planned argv.
@Suite(.serialized) struct PlanEndToEndTests {
    @Test func planShowsTheArgvARunThenExecutesAndRunsNothing() throws {
        let s = Scratch()
        let args = ["--arg", "region=no", "--arg", "host=db-1.example"]
        let plan = s.ward(["action", "plan", "e2e.region", "--json", "--reason", "plan it"] + args)
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try JSONReader.parse(plan.stdout)
        #expect(planned["outcome"]?.stringValue == "planned")
        let run = s.runJSON("e2e.region", args)
        #expect(run.status == 0)
        #expect(planned["argv"] == run.doc["argv"])
        #expect(planned["argv"]?.arrayValue?.count == 3)
        // One planned event, then the run's own started and finished.
        let kinds = s.events.compactMap { $0["event"]?.stringValue }
        #expect(kinds == ["planned", "started", "finished"])
        #expect(s.events[0]["outcome"]?.stringValue == "planned")
        #expect(s.events[0]["argv"] == planned["argv"])
    }

    @Test func planIsRefusedForABadArgumentNamingIt() throws {
        let s = Scratch()
        let out = s.ward([
            "action", "plan", "e2e.region", "--arg", "region=xx", "--reason", "bad plan",
        ])
        #expect(out.status == 4)
        #expect(out.stderr.contains("args.region"), "\(out.stderr)")
        #expect(s.events.count == 1)
        #expect(s.events[0]["event"]?.stringValue == "planned")
        #expect(s.events[0]["outcome"]?.stringValue == "refused")
        #expect(s.events[0]["code"]?.stringValue == "invalid_request")
    }

    @Test func planOfASecretArgumentNeverShowsTheSecret() throws {
        let s = Scratch()
        let secret = "hunter2-very-secret-value"
        let human = s.ward([
            "action", "plan", "e2e.secret", "--arg", "token=\(secret)", "--reason", "secret plan",
        ])
        let json = s.ward([
            "action", "plan", "e2e.secret", "--arg", "token=\(secret)", "--json", "--reason",
            "secret plan",
        ])
        #expect(human.status == 0 && json.status == 0)
        for text in [human.stdout, human.stderr, json.stdout, json.stderr, s.allJournalText] {
            #expect(!text.contains(secret))
        }
        #expect(human.stdout.contains("TOKEN=\"[REDACTED:arg.token]\""), "\(human.stdout)")
        // The secret never ran either: no started event.
        #expect(!s.events.contains { $0["event"]?.stringValue == "started" })
    }

    @Test func planAndHelpAreDocumented() {
        let out = WardProcess.run(["action", "plan", "--help"])
        #expect(out.status == 0)
        #expect(out.stdout.contains("Nothing is executed"))
    }
}

/// `concurrency:` in a pack: one run of `e2e.single` at a time on the host,
/// whichever face asks.
@Suite(.serialized, .enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
nonisolated struct ActionConcurrencyTests {
    @Test func secondRunOfASingleRunActionIsRefusedFromTheCLIAndTheCloud() throws {
        let h = try CloudHarness()
        try h.startWard()
        #expect(h.connected())
        h.send("run e2e.single seconds=30 --reason hold the slot --id one-1")
        #expect(h.wait { h.lineTexts("one-1") == ["holding"] })

        // From the CLI, a separate process: refused, naming the run in flight.
        let cli = WardProcess.run([
            "--config", h.configPath, "action", "run", "e2e.single", "--reason", "second",
        ])
        #expect(cli.status == 4)
        #expect(cli.stderr.contains("allows 1 run at a time") && cli.stderr.contains("one-1"))
        // From the cloud: refused as busy, naming it too.
        h.send("run e2e.single seconds=1 --reason third --id one-2")
        let refused = try #require(h.result("one-2"))
        #expect(refused["code"]?.stringValue == "busy")
        #expect(refused["message"]?.stringValue?.contains("one-1") == true)

        // Once the first ends, the slot is free again.
        h.send("cancel one-1")
        #expect(h.result("one-1")?["outcome"]?.stringValue == "cancelled")
        h.send("run e2e.single seconds=1 --reason after --id one-3")
        #expect(h.result("one-3")?["outcome"]?.stringValue == "exited")
        let state = WardProcess.run(["--config", h.configPath, "state", "--compact"])
        let doc = try JSONReader.parse(state.stdout)
        let single = doc["actions"]?.arrayValue?.first { $0["name"]?.stringValue == "e2e.single" }
        #expect(single?["concurrency"]?.intValue == 1)
    }

    @Test func slotOfAKilledWardIsFreeAgain() throws {
        let s = Scratch()
        let ward = TestSpawn.spawn(
            [
                WardProcess.binary, "--config", s.config, "action", "run", "e2e.single",
                "--arg", "seconds=30", "--reason", "holder",
            ], environment: ["PATH=/usr/bin:/bin"], stdin: .null, stdout: .null, stderr: .null)
        let pid = try #require(ward)
        for _ in 0..<500 where !s.journalLines.contains(where: { $0.contains("\"started\"") }) {
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let next = s.ward([
            "action", "run", "e2e.single", "--arg", "seconds=1", "--reason", "after a crash",
        ])
        #expect(next.status == 0, "\(next.stderr)")
    }
}

/// `limits:` in a pack: applied to the child before its program starts.
@Suite(.serialized) struct ChildLimitEndToEndTests {
    @Test func cpuLimitStopsTheChildAndTheOutcomeNamesIt() throws {
        let s = Scratch()
        let (status, doc, raw) = s.runJSON("e2e.cpu")
        #expect(status == 5, "\(raw.stderr)")
        #expect(doc["outcome"]?.stringValue == "limit_exceeded")
        #expect(doc["limit"]?.stringValue == "cpu_s")
        #expect(doc["signal"]?.stringValue == "XCPU")
        let finished = try #require(s.events.last)
        #expect(finished["limit"]?.stringValue == "cpu_s")
        let started = try #require(s.events.first { $0["event"]?.stringValue == "started" })
        #expect(started["limits"]?["cpu_s"]?.intValue == 1)
    }

    @Test func memoryLimitMakesTheAllocationFail() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.memory")
        #expect(status == 1)
        #expect(doc["exit_code"]?.intValue == 1)
        #expect(doc.lineTexts.contains { $0.contains("MemoryError") }, "\(doc)")
    }

    @Test func openFileLimitMakesTheOpenFail() {
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.files")
        #expect(status == 1)
        #expect(doc.lineTexts.contains { $0.contains("Too many open files") }, "\(doc)")
    }

    @Test func processLimitAndNicenessAreInForceInTheChild() {
        // RLIMIT_NPROC is not enforced for root (the tests' user), so the test
        // reads the limits the child runs under instead of forking past them.
        let s = Scratch()
        let (status, doc, _) = s.runJSON("e2e.limits")
        #expect(status == 0)
        let lines = doc.lineTexts
        #expect(lines.contains { $0.hasPrefix("Max processes") && $0.contains(" 32 ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("Max open files") && $0.contains(" 100 ") })
        #expect(lines.last == "10")
    }

    @Test func limitsNeverRaiseWhatWardItselfRunsUnder() throws {
        // ward at nice 15 with a soft open-files limit of 50: the action asks for
        // nice 10 and 100 files, and gets 15 and 50.
        let s = Scratch()
        let out = WardProcess.exec([
            "/bin/sh", "-c",
            "ulimit -S -n 50; exec /usr/bin/nice -n 15 \"$0\" --config \"$1\" action run"
                + " e2e.limits --json --reason niced",
            WardProcess.binary, s.config,
        ])
        #expect(out.status == 0, "\(out.stderr)")
        let doc = try JSONReader.parse(out.stdout)
        let lines = doc.lineTexts
        #expect(lines.last == "15", "\(lines)")
        let files = lines.first { $0.hasPrefix("Max open files") } ?? ""
        #expect(files.split(separator: " ").contains("50"), "\(files)")
    }

    @Test func stateAdvertisesTheLimitsAndAPackOverTheCeilingIsWarned() throws {
        let s = Scratch(extraConfig: "  child_ceilings: {memory_mb: 32}\n")
        let out = s.ward(["state", "--compact"])
        #expect(out.status == 0, "\(out.stderr)")
        let doc = try JSONReader.parse(out.stdout)
        let memory = doc["actions"]?.arrayValue?.first { $0["name"]?.stringValue == "e2e.memory" }
        #expect(memory?["limits"]?["memory_mb"]?.intValue == 32)
        #expect(out.stderr.contains("above the config's ceiling 32"), "\(out.stderr)")
    }
}
