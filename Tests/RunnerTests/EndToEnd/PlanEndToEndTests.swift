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
