import Glibc
import Testing

@testable import Runner

/// `ward connect` against the development control plane over TLS: what is
/// advertised, and what each kind of request gets back.
@Suite(.serialized, .enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
nonisolated struct CloudEndToEndTests {
    /// A harness with ward connected.
    static func connected(peerFlags: [String] = []) throws -> CloudHarness {
        let h = try CloudHarness(peerFlags: peerFlags)
        try h.startWard()
        #expect(h.connected(), "ward never said hello; log:\n\(h.wardLog)")
        return h
    }

    @Test func helloAdvertisesEveryActionSchemaAndTheJournalHead() throws {
        let h = try CloudHarness(peerFlags: ["--verbose"])
        try h.startWard()
        #expect(h.connected())
        let hello = try #require(h.received("hello").first)
        #expect(hello["protocol"]?.intValue == 1)
        #expect(hello["runner"]?["id"]?.stringValue == "cloud-test")
        let actions = (hello["state"]?["actions"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        #expect(actions.contains("cloud.lines") && actions.contains("e2e.echo"))
        let lines = try #require(
            hello["state"]?["actions"]?.arrayValue?.first {
                $0["name"]?.stringValue == "cloud.lines"
            })
        let n = lines["args"]?.arrayValue?.first { $0["name"]?.stringValue == "n" }
        #expect(n?["type"]?.stringValue == "integer")
        #expect(n?["max"]?.intValue == 1_000_000)
        // The journal head: the journal is new, so it is the genesis head.
        #expect(hello["journal"]?["seq"]?.intValue == 0)
        #expect(hello["in_flight"]?.arrayValue == [])
        // ward logs it just after sending the hello devcp has already printed.
        #expect(h.wait { h.wardLog.contains("msg=\"advertised actions\"") })
        // The key is never in the log, the journal, the hello or `ward state`.
        let key = try #require(TempDir.readAbsolute(h.keyFile))
        h.send("run e2e.echo message=after-hello --reason key check --id key-1")
        #expect(h.result("key-1")?["outcome"]?.stringValue == "exited")
        #expect(!h.wardLog.contains(key))
        #expect(!(h.dir.read("journal/events.jsonl") ?? "").contains(key))
        #expect(!JSONWriter.string(hello).contains(key))
        let state = WardProcess.run(["--config", h.configPath, "state"])
        #expect(state.status == 0)
        #expect(!state.stdout.contains(key) && !state.stderr.contains(key))
    }

    @Test func pinnedCAConnectsAndPlaintextNeedsTheLoopbackFlag() throws {
        let h = try CloudHarness()
        h.writeConfig(controlPlane: [
            "url: \(h.url)", "pinned_ca_file: \(h.caFile)", "key_file: \(h.keyFile)",
        ])
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        #expect(h.stopWard() == 0, "log:\n\(h.wardLog)")

        // ws:// without the flag never starts: exit 3, and the message says why.
        h.writeConfig(controlPlane: ["url: ws://127.0.0.1:\(h.port)", "key_file: \(h.keyFile)"])
        let refused = WardProcess.run(["--config", h.configPath, "connect"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("allow_plaintext_loopback"))
    }

    @Test func runStreamsLinesInOrderAndItsResultAnchorsTheJournal() throws {
        let h = try Self.connected()
        h.send("run cloud.lines n=5 pause=0.05 --reason stream test --id s-1")
        let result = try #require(h.result("s-1"))
        #expect(result["outcome"]?.stringValue == "exited")
        #expect(result["exit_code"]?.intValue == 0)
        #expect(h.lineTexts("s-1") == (1...5).map { "line \($0)" })
        let frames = h.received("run.output", run: "s-1").compactMap { $0["frame"]?.intValue }
        #expect(frames == Array(1...Int64(frames.count)))
        let accepted = try #require(h.received("run.accepted", run: "s-1").first)
        #expect(accepted["argv"]?.arrayValue?.first?.stringValue == "/bin/sh")

        // The result carries the head of its `finished` event.
        let finished = try #require(h.journal("finished", run: "s-1").first)
        #expect(result["journal"]?["seq"]?.intValue == finished["seq"]?.intValue)
        let line = try #require(
            (h.dir.read("journal/events.jsonl") ?? "").split(separator: "\n").first {
                $0.contains("\"event\":\"finished\"") && $0.contains("\"run\":\"s-1\"")
            })
        #expect(result["journal"]?["hash"]?.stringValue == JournalFormat.hash(ofLine: line.utf8))
        let started = try #require(h.journal("started", run: "s-1").first)
        #expect(started["origin"]?.stringValue == "cloud")
        #expect(started["reason"]?.stringValue == "stream test")
    }

    @Test func requesterAndApprovalAreJournaled() throws {
        let h = try Self.connected()
        h.send(
            #"{"type":"run","run":"q-1","action":"e2e.echo","args":{"message":"hi"},"reason":"who","requester":{"id":"alice@example.com","approval":"apr-9"}}"#
        )
        #expect(h.result("q-1")?["outcome"]?.stringValue == "exited")
        let started = try #require(h.journal("started", run: "q-1").first)
        #expect(started["requester"]?.stringValue == "alice@example.com")
        #expect(started["approval"]?.stringValue == "apr-9")
        // A requester id cannot pose as an approval or carry controls.
        h.send(
            #"{"type":"run","run":"q-2","action":"e2e.echo","args":{"message":"hi"},"reason":"x","requester":{"id":"bob\u001b[31m"}}"#
        )
        #expect(
            h.wait {
                h.received("error").contains {
                    $0["message"]?.stringValue?.contains("requester.id holds a control") == true
                }
            })
    }

    @Test func invalidArgumentIsRefusedNamingItAndNothingRuns() throws {
        let h = try Self.connected()
        h.send("run e2e.echo message=-rf --reason bad --id bad-1")
        let refused = try #require(h.result("bad-1"))
        #expect(refused["type"]?.stringValue == "run.refused")
        #expect(refused["code"]?.stringValue == "invalid_request")
        #expect(refused["errors"]?.arrayValue?.first?["field"]?.stringValue == "args.message")
        #expect(refused["journal"]?["seq"]?.intValue != nil)
        #expect(h.journal("refused", run: "bad-1").count == 1)
        #expect(h.journal("started", run: "bad-1").isEmpty)

        h.send("run no.such.action --reason bad --id bad-2")
        #expect(h.result("bad-2")?["code"]?.stringValue == "unknown_action")

        // Every refusal is journaled, whatever it held: a real where an integer
        // belongs (the journal holds no reals), a reason far over its bound,
        // and many undeclared arguments.
        let many = (1...2000).map { "\"a\($0)\":1" }.joined(separator: ",")
        let long = String(repeating: "r", count: 300_000)
        h.send(
            #"{"type":"run","run":"bad-3","action":"cloud.lines","args":{"n":10.0},"reason":"r"}"#)
        h.send(
            #"{"type":"run","run":"bad-4","action":"cloud.lines","args":{},"reason":"\#(long)"}"#)
        h.send(
            #"{"type":"run","run":"bad-5","action":"cloud.lines","args":{\#(many)},"reason":"r"}"#)
        for id in ["bad-3", "bad-4", "bad-5"] {
            let r = try #require(h.result(id))
            #expect(r["code"]?.stringValue == "invalid_request", "\(id): \(r)")
            #expect(r["journal"]?["seq"]?.intValue != nil, "\(id) not journaled: \(r)")
        }
        #expect(h.journal("refused", run: "bad-3").first?["args"]?["n"]?.stringValue == "10.0")
        #expect(h.journal("refused", run: "bad-5").first?["args"]?["…"] != nil)
    }

    @Test func refusalOfAHugeRequestIsSentAndJournaledAndRunsGoOn() throws {
        // 16,000 undeclared arguments: one error each would make a refusal
        // over the 1 MiB message limit, which could be neither sent (it held
        // every later message back) nor journaled. The list is bounded.
        let h = try Self.connected()
        let many = (1...16_000).map { "\"a\($0)\":\($0)" }.joined(separator: ",")
        h.send(
            #"{"type":"run","run":"huge-1","action":"cloud.lines","args":{\#(many)},"reason":"r"}"#)
        let refused = try #require(h.result("huge-1"))
        #expect(refused["code"]?.stringValue == "invalid_request")
        let errors = try #require(refused["errors"]?.arrayValue)
        #expect(errors.count == Validator.maxListedErrors + 1)
        #expect(errors.last?["field"]?.stringValue == "…")
        #expect(h.journal("refused", run: "huge-1").count == 1)
        h.send("run cloud.seq n=3 --reason after --id after-1")
        let after = try #require(h.result("after-1"))
        #expect(after["outcome"]?.stringValue == "exited", "\(after)")
        #expect(h.lineTexts("after-1") == ["1", "2", "3"])
    }

    @Test func runIDUsedByTheCLIAfterTheDaemonStartedIsNotRunAgain() throws {
        // The daemon reads the journal's run ids once, at start; an id a CLI
        // run used later was missing from them, and the daemon ran it again.
        let h = try Self.connected()
        h.send("run e2e.echo message=warm --reason warm up --id warm-1")
        #expect(h.result("warm-1")?["outcome"]?.stringValue == "exited")
        let cli = WardProcess.run([
            "--config", h.configPath, "--allow-writable", "action", "run", "e2e.echo",
            "--arg", "message=from the cli", "--run-id", "shared-1", "--reason", "cli",
        ])
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(h.journal("started", run: "shared-1").count == 1)

        h.send("run e2e.echo message=again --reason again --id shared-1")
        let reply = try #require(h.result("shared-1"))
        #expect(reply["type"]?.stringValue == "run.refused", "\(reply)")
        #expect(reply["code"]?.stringValue == "duplicate_run")
        #expect(h.journal("started", run: "shared-1").count == 1)
        #expect(h.lineTexts("shared-1").isEmpty)
    }

    @Test func packsTooLargeToAdvertiseStopConnectWithAConfigError() throws {
        // 800 actions with long descriptions load fine, but their state
        // document (about 1.5 MB) cannot go in a hello: connect used to dial,
        // fail to send it without a word, and redial forever.
        let h = try CloudHarness()
        let description = String(repeating: "d", count: 1500)
        // Two files of 400: one file may hold at most 1 MiB.
        for file in 0..<2 {
            let actions = (0..<400).map {
                """
                  big.f\(file)a\($0):
                    description: \(description)
                    exec: ["/bin/true"]
                """
            }.joined(separator: "\n")
            _ = h.dir.write("big/actions/f\(file).yaml", "actions:\n\(actions)\n")
        }
        _ = h.dir.write("big/pack.yaml", "pack: big\nversion: \"1\"\ndescription: Many actions.\n")
        h.writeConfig(morePacks: [h.dir.path + "/big"])
        try h.startWard()
        #expect(h.waitWardExit() == 3, "log:\n\(h.wardLog)")
        #expect(h.wardLog.contains("state document is"), "log:\n\(h.wardLog)")
        #expect(h.events("connected").isEmpty)
    }

    @Test func cancelKillsTheProcessGroup() throws {
        let h = try Self.connected()
        h.send("run cloud.wait seconds=300 --reason cancel test --id c-1")
        #expect(h.wait { h.lineTexts("c-1").first?.hasPrefix("waiting ") == true })
        let pid = try #require(Int32(h.lineTexts("c-1")[0].dropFirst("waiting ".count)))
        #expect(processExists(pid))
        h.send("cancel c-1")
        let result = try #require(h.result("c-1"))
        #expect(result["outcome"]?.stringValue == "cancelled")
        #expect(!processExists(pid))

        h.send("cancel c-404")
        #expect(
            h.wait {
                h.received("error").contains { $0["code"]?.stringValue == "unknown_run" }
            })
    }

    @Test func cancelRightAfterTheRequestEndsTheRunCancelled() throws {
        let h = try Self.connected()
        // One write, so both arrive together: the cancel may come while the
        // `started` event is still being written, before any child exists.
        h.send(
            #"{"type":"run","run":"cr-1","action":"cloud.wait","args":{"seconds":300},"reason":"race"}"#
                + "\n" + #"{"type":"cancel","run":"cr-1"}"#)
        let result = try #require(h.result("cr-1"))
        #expect(result["outcome"]?.stringValue == "cancelled")
        #expect(h.received("error").isEmpty)
        #expect(h.journal("finished", run: "cr-1").count == 1)
    }

    @Test func timeoutIsClampedAndEndsTheRun() throws {
        let h = try Self.connected()
        h.send("run cloud.wait seconds=300 --opt timeout_s=0 --reason timeout test --id t-1")
        let result = try #require(h.result("t-1"))
        #expect(result["outcome"]?.stringValue == "timed_out")
        #expect(result["options"]?["timeout_s"]?["value"]?.intValue == 1)
        #expect(result["options"]?["timeout_s"]?["clamped_by"]?.stringValue == "timeout_s_min")
    }

    @Test func severalRunsAtOnceAndABusyRefusalPastTheLimit() throws {
        let h = try Self.connected()
        for i in 1...3 {
            h.send("run cloud.lines n=10 pause=0.4 --reason concurrent --id m-\(i)")
        }
        #expect(
            h.wait { (1...3).allSatisfy { !h.received("run.accepted", run: "m-\($0)").isEmpty } })
        h.send("run e2e.echo message=one-too-many --reason busy --id m-4")
        #expect(h.result("m-4")?["code"]?.stringValue == "busy")
        for i in 1...3 {
            #expect(h.result("m-\(i)")?["outcome"]?.stringValue == "exited")
            #expect(h.lineTexts("m-\(i)") == (1...10).map { "line \($0)" })
        }
    }

    @Test func repeatedRunIDIsAnsweredFromTheJournalNotRunAgain() throws {
        let h = try Self.connected()
        h.send("run e2e.echo message=once --reason once --id once-1")
        #expect(h.result("once-1")?["outcome"]?.stringValue == "exited")
        h.send("run e2e.echo message=twice --reason twice --id once-1")
        #expect(h.wait { h.received("run.finished", run: "once-1").count == 2 })
        let replay = h.received("run.finished", run: "once-1")[1]
        #expect(replay["replayed"]?.boolValue == true)
        #expect(replay["outcome"]?.stringValue == "exited")

        // A new ward process reads the id back from the journal.
        #expect(h.stopWard() == 0, "log:\n\(h.wardLog)")
        try h.startWard()
        #expect(h.connected(count: 2))
        h.send("run e2e.echo message=thrice --reason thrice --id once-1")
        #expect(h.wait { h.received("run.finished", run: "once-1").count == 3 })
        let restarted = h.received("run.finished", run: "once-1")[2]
        #expect(restarted["replayed"]?.boolValue == true)
        #expect(
            restarted["journal"]?["seq"]?.intValue
                == h.journal("finished", run: "once-1").first?["seq"]?.intValue)
        #expect(h.journal("started", run: "once-1").count == 1)
        #expect(h.lineTexts("once-1") == ["once"])
    }

    @Test func planOverTheWireMatchesTheRunAndRunsNothing() throws {
        let h = try Self.connected()
        let body = #""action":"e2e.region","args":{"region":"dk","host":"web-2"},"reason":"plan""#
        h.send(#"{"type":"plan","run":"p-1",\#(body)}"#)
        #expect(h.wait { !h.received("plan.result", run: "p-1").isEmpty })
        let plan = try #require(h.received("plan.result", run: "p-1").first)
        #expect(plan["outcome"]?.stringValue == "planned")
        #expect(h.journal("started", run: "p-1").isEmpty)
        #expect(h.journal("planned", run: "p-1").count == 1)
        h.send(#"{"type":"run","run":"p-2",\#(body)}"#)
        #expect(h.result("p-2")?["outcome"]?.stringValue == "exited")
        let accepted = try #require(h.received("run.accepted", run: "p-2").first)
        #expect(accepted["argv"] == plan["argv"])

        h.send(
            #"{"type":"plan","run":"p-3","action":"e2e.region","args":{"region":"fi"},"reason":"x"}"#
        )
        #expect(h.wait { !h.received("plan.result", run: "p-3").isEmpty })
        let refused = try #require(h.received("plan.result", run: "p-3").first)
        #expect(refused["outcome"]?.stringValue == "refused")
        #expect(refused["errors"]?.arrayValue?.first?["field"]?.stringValue == "args.region")
    }

    @Test func malformedAndUnknownMessagesGetAnErrorAndTheLinkStaysUp() throws {
        let h = try Self.connected()
        h.send("{not json")
        h.send(#"{"type":"launch.missiles"}"#)
        h.send(#"{"type":"run","run":"x"}"#)
        #expect(h.wait { h.received("error").count >= 3 })
        let codes = h.received("error").compactMap { $0["code"]?.stringValue }
        #expect(codes == ["malformed_json", "unknown_type", "invalid_message"])
        // A parse error says where, never what: the text may be a secret.
        h.send(#"{"type":"run","args":{"token":LeakMeBare12345}}"#)
        #expect(h.wait { h.received("error").count >= 4 })
        #expect(h.received("error")[3]["message"]?.stringValue?.contains("LeakMe") == false)
        #expect(!h.wardLog.contains("LeakMe"))
        #expect(h.received("error")[1]["ref"]?.stringValue == "launch.missiles")
        h.send("run e2e.echo message=still-here --reason after errors --id after-1")
        #expect(h.result("after-1")?["outcome"]?.stringValue == "exited")
        #expect(h.events("disconnected").isEmpty)
    }

    @Test func messageOverTheSizeCapClosesWith1009AndWardReconnects() throws {
        let h = try Self.connected()
        let big = String(repeating: "a", count: (1 << 20) + 16)
        h.send(#"{"type":"heartbeat","pad":"\#(big)"}"#)
        #expect(h.wait { !h.events("disconnected").isEmpty })
        #expect(h.events("disconnected").first?["code"]?.intValue == 1009)
        #expect(h.connected(count: 2), "ward did not reconnect; log:\n\(h.wardLog)")
    }

    @Test func sigtermLetsRunsFinishDeliversResultsAndClosesWith1001() throws {
        let h = try Self.connected()
        h.send("run cloud.lines n=8 pause=0.2 --reason drain test --id d-1")
        h.send("run cloud.wait seconds=300 --reason drain test --id d-2")
        #expect(h.wait { h.received("run.accepted").count == 2 })
        let pid = try #require(h.wardPID)
        kill(pid, SIGTERM)
        #expect(h.wait { h.wardLog.contains("msg=\"shutting down\"") })
        h.send("run e2e.echo message=late --reason too late --id d-3")
        let late = try #require(h.result("d-3"))
        #expect(late["code"]?.stringValue == "shutting_down")
        // d-1 ends by itself within the grace; d-2 is cancelled after it.
        #expect(h.result("d-1")?["outcome"]?.stringValue == "exited")
        #expect(h.lineTexts("d-1").count == 8)
        #expect(h.result("d-2")?["outcome"]?.stringValue == "cancelled")
        #expect(h.waitWardExit() == 0)
        // devcp prints the session's end a moment after ward has gone.
        #expect(h.wait { h.events("disconnected").last?["code"]?.intValue == 1001 })
        #expect(h.journal("finished", run: "d-1").count == 1)
        #expect(h.journal("finished", run: "d-2").count == 1)
        // devcp acknowledges each result as it arrives: ward closed only once
        // it had (before, it closed in the turn that sent the last result).
        #expect(h.wardLog.contains("msg=\"closing the link\" code=1001 unacknowledged=0"))
    }

    @Test func sigtermWithResultsNeverAcknowledgedClosesAfterTheAckGrace() throws {
        let h = try CloudHarness(peerFlags: ["--no-auto-ack"])
        try h.startWard()
        #expect(h.connected())
        h.send("run e2e.echo message=hi --reason ack wait --id na-1")
        #expect(h.result("na-1")?["outcome"]?.stringValue == "exited")
        let pid = try #require(h.wardPID)
        kill(pid, SIGTERM)
        #expect(h.waitWardExit() == 0)
        #expect(h.wardLog.contains("msg=\"closing the link\" code=1001 unacknowledged=1"))
        #expect(h.journal("finished", run: "na-1").count == 1)
    }

    @Test func sighupReloadsAndAdvertisesAndKeepsTheOldPacksWhenBroken() throws {
        let h = try CloudHarness()
        // A pack folder of the test's own, so it can be broken and mended.
        let pack = """
            pack: hup
            version: "1"
            description: Reload test.
            actions:
              hup.one:
                description: One.
                exec: ["/bin/echo", "one"]
            """
        h.dir.write("packs/hup/pack.yaml", pack)
        h.writeConfig(morePacks: [h.dir.path + "/packs"])
        try h.startWard()
        #expect(h.connected())
        let pid = try #require(h.wardPID)

        h.dir.write(
            "packs/hup/pack.yaml",
            pack + "\n  hup.two:\n    description: Two.\n    exec: [\"/bin/echo\", \"two\"]\n")
        kill(pid, SIGHUP)
        #expect(h.wait { !h.received("state").isEmpty })
        let names = (h.received("state")[0]["state"]?["actions"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        #expect(names.contains("hup.two"))
        h.send("run hup.two --reason reloaded --id hup-1")
        #expect(h.result("hup-1")?["outcome"]?.stringValue == "exited")
        #expect(h.lineTexts("hup-1") == ["two"])

        h.dir.write("packs/hup/pack.yaml", "pack: hup\nversion: [broken\n")
        kill(pid, SIGHUP)
        #expect(h.wait { h.wardLog.contains("reload refused") })
        h.send("run hup.two --reason still there --id hup-2")
        #expect(h.result("hup-2")?["outcome"]?.stringValue == "exited")
        #expect(h.received("state").count == 1)
    }
}
