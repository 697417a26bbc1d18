import Glibc
import Testing

@testable import Runner

/// The command line itself: help on every command, usage errors, exit codes.
@Suite struct CLIEndToEndTests {
    @Test(arguments: [
        (["--help"], "Usage: ward [GLOBAL OPTIONS]"),
        (["help"], "Usage: ward [GLOBAL OPTIONS]"),
        (["pack", "validate", "--help"], "Usage: ward pack validate"),
        (["state", "--help"], "Usage: ward state"),
        (["action", "run", "--help"], "Usage: ward action run"),
        (["action", "list", "--help"], "Usage: ward action list"),
        (["events", "tail", "--help"], "Usage: ward events tail"),
        (["events", "verify", "--help"], "Usage: ward events verify"),
        (["version", "--help"], "Usage: ward version"),
        (["help", "action", "run"], "Usage: ward action run"),
        (["help", "--help"], "Usage: ward [GLOBAL OPTIONS]"),
        (["redact", "--help"], "Usage: ward redact"),
        (["action", "--help"], "Usage: ward action"),
        // A group's --help is its whole page, as `ward help GROUP` prints it.
        (["pack", "--help"], "Usage: ward pack validate"),
        (["events", "--help"], "Usage: ward events verify"),
        (["action", "--help"], "Usage: ward action plan"),
        (["help", "pack", "--help"], "Usage: ward pack validate"),
    ])
    func everyCommandHasHelp(_ words: [String], _ expected: String) {
        let out = WardProcess.run(words)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains(expected))
    }

    @Test(arguments: [
        ["frobnicate"], ["--bogus"], ["action"], ["action", "launch"], ["pack", "validate"],
        ["events", "tail", "--lines", "many"], ["events", "verify", "--anchor", "12"],
        ["action", "run", "x", "--reason"],
        ["action", "run", "x", "--reason", "r", "--arg", "novalue"],
        ["action", "run", "--reason", "r"], ["state", "extra"], ["--log-level", "loud", "version"],
        // A stray word is refused, never ignored: `events verify FILE` used to
        // report the configured journal as OK without reading FILE.
        ["events", "verify", "/tmp/copied-events.jsonl"], ["events", "tail", "extra"],
        ["action", "list", "extra"], ["version", "extra"], ["--version", "extra"],
    ])
    func usageErrorsExitTwoWithAMessage(_ words: [String]) {
        let s = Scratch()
        let out = WardProcess.run(["--config", s.config] + words)
        #expect(out.status == 2, "\(words) gave \(out.status): \(out.stderr)")
        #expect(out.stderr.hasPrefix("ward"))
    }

    @Test(arguments: [
        ("--reason r --arg \"message=$bad\"", "the value of --arg message is not valid UTF-8"),
        ("--reason \"$bad\" --arg message=hi", "the value of --reason is not valid UTF-8"),
        ("\"$bad\"", "command-line word 6 is not valid UTF-8"),
        // A flag takes no value: the word after it is named by its position.
        ("--reason r --json \"$bad\"", "command-line word 9 is not valid UTF-8"),
        ("--reason r --opt \"timeout_s=$bad\"", "the value of --opt timeout_s is not valid"),
    ])
    func commandLineWordThatIsNotUTF8IsRefusedNotRepaired(_ words: String, _ expected: String) {
        // Latin-1 bytes would reach the action as U+FFFD, a value nobody
        // typed: the word is refused and named (never echoed), nothing runs.
        let s = Scratch()
        let script = s.dir.write(
            "run.sh",
            """
            bad=$(printf 'caf\\351')
            exec "$1" --config "$2" action run e2e.echo \(words)
            """)
        let out = WardProcess.exec(["/bin/sh", script, WardProcess.binary, s.config])
        #expect(out.status == 2, "\(out.stderr)")
        #expect(out.stderr.contains(expected), "\(out.stderr)")
        #expect(!out.stderr.contains("caf"), "the bad word was echoed: \(out.stderr)")
        #expect(access(s.journalPath, F_OK) != 0, "something was journaled")
    }

    @Test func configPathFromTheEnvironmentThatIsNotUTF8IsRefused() {
        let s = Scratch()
        let script = s.dir.write(
            "env.sh", "WARD_CONFIG=$(printf '/tmp/caf\\351.yaml') exec \"$1\" action list\n")
        let out = WardProcess.exec(["/bin/sh", script, WardProcess.binary])
        #expect(out.status == 2, "\(out.stderr)")
        #expect(out.stderr.contains("WARD_CONFIG is not valid UTF-8"), "\(out.stderr)")
    }

    @Test func versionPrintsTheVersion() throws {
        #expect(WardProcess.run(["version"]).stdout == "ward \(WardVersion.current)\n")
        let doc = try JSONReader.parse(WardProcess.run(["version", "--json"]).stdout)
        #expect(doc["version"] == .string(WardVersion.current))
    }

    @Test func missingConfigIsAConfigError() {
        let out = WardProcess.run(["--config", "/nonexistent/ward.yaml", "state"])
        #expect(out.status == 3)
        #expect(out.stderr.contains("/nonexistent/ward.yaml"))
    }

    @Test func missingPackFolderIsReportedWhereTheConfigNamesIt() {
        let s = Scratch()
        let cfg = s.dir.write("c.yaml", "runner: {id: t}\npacks:\n  - \"nope\"\n")
        let out = WardProcess.run(["--config", cfg, "action", "list"])
        #expect(out.status == 3)
        #expect(
            out.stderr.contains(
                "c.yaml:3:5: error: packs: \(s.dir.path)/nope: pack folder does not exist"),
            "\(out.stderr)")
    }

    @Test func brokenPackIsAConfigErrorListingEveryProblem() {
        let s = Scratch()
        s.dir.write(
            "packs/bad/pack.yaml",
            "pack: bad\nversion: \"1\"\ndescription: d\nactions:\n  bad.a:\n    exec: [x]\n    bogus: 1\n"
        )
        let cfg = s.dir.path + "/bad.yaml"
        s.dir.write("bad.yaml", "packs: [\"\(s.dir.path)/packs\"]\n")
        let out = WardProcess.run(["--config", cfg, "state"])
        #expect(out.status == 3)
        #expect(out.stderr.contains("pack.yaml:"))
        #expect(out.stderr.contains("bogus"))
        #expect(WardProcess.run(["pack", "validate", s.dir.path + "/packs"]).status == 1)
    }

    @Test func stateIsTheAdvertisedDocument() throws {
        let s = Scratch()
        let doc = try JSONReader.parse(s.ward(["state", "--compact"]).stdout)
        #expect(doc["runner"]?["id"] == "e2e-runner")
        let names = (doc["actions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names.contains("e2e.echo"))
        #expect(names == names.sorted())
    }

    @Test func examplePacksValidate() {
        let out = WardProcess.run(["pack", "validate", WardProcess.repoRoot + "/packs"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("ok: linux-core"))
    }
}
