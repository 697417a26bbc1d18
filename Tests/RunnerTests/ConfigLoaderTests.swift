import Glibc
import Testing

@testable import Runner

private func load(_ name: String, allowWritable: Bool = false) -> Result<RunnerConfig, Diagnostics>
{
    RunnerConfig.load(path: PackFixtures.config + "/" + name, allowWritable: allowWritable)
}

/// The diagnostics of a failed load, printed, with the fixture folder removed.
private func problems(_ name: String) -> [String] {
    guard case .failure(let d) = load(name) else { return ["loaded"] }
    return d.all.map { PackFixtures.strip($0.description, PackFixtures.config + "/") }
}

@Suite struct ConfigLoaderTests {
    @Test func loadsTheDocumentedExample() throws {
        let config = try load("example.yaml").get()
        let base = PackFixtures.config
        #expect(config.runnerID == "dev-runner-1")
        #expect(config.labels.map { "\($0.key)=\($0.value)" } == ["env=dev"])
        #expect(config.packDirectories == [FileSystem.absolute("../../packs", base: base)])
        #expect(config.journalPath == base + "/journal/events.jsonl")
        #expect(config.rotateBytes == 16_777_216)
        #expect(config.keepFiles == 8)
        #expect(config.maxConcurrentRuns == 16)
        #expect(config.killGraceMilliseconds == 2000)
        #expect(
            config.ceilings
                == [.timeoutS: 3600, .maxOutputBytes: 67_108_864, .maxOutputLines: 1_000_000])
        #expect(config.minSecretLength == 6)
        #expect(config.redactionRules.map(\.id) == ["corp-token"])
        #expect(config.logLevel == .info)
        #expect(config.path == base + "/example.yaml")
        #expect(config.loadWarnings.isEmpty)
    }

    @Test func readsEveryKeyAtItsBounds() throws {
        let config = try load("custom.yaml").get()
        let base = PackFixtures.config
        #expect(config.runnerID == "db_1.eu-west")
        #expect(
            config.labels.map { "\($0.key)=\($0.value)" } == [
                "zone=b", "env=no", "team.owner/x=ops",
            ])
        #expect(
            config.packDirectories == [
                "/srv/ward/packs", base + "/local/packs",
                FileSystem.absolute("../shared/packs", base: base),
            ])
        #expect(config.journalPath == "/var/lib/ward/journal.jsonl")
        #expect(config.rotateBytes == 65536)
        #expect(config.keepFiles == 1)
        #expect(config.maxConcurrentRuns == 1024)
        #expect(config.killGraceMilliseconds == 0)
        #expect(
            config.ceilings
                == [.timeoutS: 604_800, .maxOutputBytes: 67_108_864, .maxOutputLines: 1])
        #expect(config.minSecretLength == 64)
        #expect(config.redactionRules.map(\.id) == ["corp-token", "ticket"])
        #expect(config.redactionRules.first?.pattern.valueGroup == 1)
        #expect(config.logLevel == .warn)
        if case .json = config.logFormat {} else { Issue.record("log.format is not json") }
    }

    @Test func absentSectionsKeepTheirDefaults() throws {
        let config = try load("only-log.yaml").get()
        let defaults = RunnerConfig.defaults(baseDirectory: PackFixtures.config)
        #expect(config.logLevel == .debug)
        #expect(config.runnerID == defaults.runnerID)
        #expect(config.packDirectories == [PackFixtures.config + "/packs"])
        #expect(config.journalPath == PackFixtures.config + "/journal/events.jsonl")
        #expect(config.rotateBytes == 16_777_216 && config.keepFiles == 8)
        #expect(config.maxConcurrentRuns == 16 && config.killGraceMilliseconds == 2000)
        #expect(config.minSecretLength == 6 && config.redactionRules.isEmpty)
        #expect(config.ceilings == defaults.ceilings)
    }

    @Test func sectionsLeftEmptyKeepTheirDefaults() throws {
        // `runner:` with nothing after it is YAML null: the same as `runner: {}`.
        let config = try load("empty-sections.yaml").get()
        let defaults = RunnerConfig.defaults(baseDirectory: PackFixtures.config)
        #expect(config.logLevel == .debug)
        #expect(config.runnerID == defaults.runnerID)
        #expect(config.journalPath == defaults.journalPath)
        #expect(config.maxConcurrentRuns == defaults.maxConcurrentRuns)
        #expect(config.redactionRules.isEmpty)
    }

    @Test func reportsEveryProblemWithPosition() {
        let ceiling = "limits.ceilings"
        #expect(
            problems("errors.yaml") == [
                "errors.yaml:18:1: error: unknown key \"telemetry\"; expected one of runner,"
                    + " packs, journal, limits, redaction, log, control_plane",
                "errors.yaml:4:3: error: runner: unknown key \"name\"; expected one of id, labels",
                "errors.yaml:2:7: error: runner.id: \"bad id!\" is not a valid runner id"
                    + " (letters, digits, dots, underscores and hyphens, 1 to 64 characters)",
                "errors.yaml:3:12: error: runner.labels.: \"\" is not a valid label key (letters,"
                    + " digits, dots, slashes, underscores and hyphens, 1 to 64 characters)",
                "errors.yaml:3:23: error: runner.labels.ok: expected a string, got a list",
                "errors.yaml:5:8: error: packs: expected a list, got \"../../packs\"",
                "errors.yaml:7:9: error: journal.path: expected a string, got null",
                "errors.yaml:8:17: error: journal.rotate_bytes: 1024 is outside"
                    + " 65536...1099511627776",
                "errors.yaml:9:15: error: journal.keep_files: 0 is outside 1...1000",
                "errors.yaml:11:24: error: limits.max_concurrent_runs: expected an integer, got"
                    + " the quoted string \"16\"",
                "errors.yaml:12:17: error: limits.kill_grace_s: 61 is outside 0...60",
                "errors.yaml:13:79: error: \(ceiling): unknown key \"retries\"; expected one of"
                    + " timeout_s, max_output_bytes, max_output_lines",
                "errors.yaml:13:25: error: \(ceiling).timeout_s: 604801 is outside 1...604800",
                "errors.yaml:13:51: error: \(ceiling).max_output_bytes: 100 is outside"
                    + " 1024...1073741824",
                "errors.yaml:13:74: error: \(ceiling).max_output_lines: expected an integer"
                    + " (decimal digits, no leading zeros), got \"1e6\"",
                "errors.yaml:15:22: error: redaction.min_secret_length: 3 is outside 4...64",
                "errors.yaml:16:30: error: redact rule \"pem\": pattern needs multi-line input;"
                    + " rules are applied per line",
                "errors.yaml:16:60: error: redact rule \"open\": pattern does not compile:"
                    + " missing closing parenthesis at offset 2",
                "errors.yaml:17:14: error: log.level: \"warning\" is not one of debug, info, warn,"
                    + " error",
                "errors.yaml:17:31: error: log.format: \"text\" is not one of logfmt, json",
            ])
    }

    @Test(arguments: [
        ("empty.yaml", "empty.yaml: error: empty file"),
        (
            "two-documents.yaml",
            "two-documents.yaml:3:1: error: config must contain exactly one YAML document;"
                + " second starts at line 3"
        ),
        (
            "not-a-mapping.yaml",
            "not-a-mapping.yaml:1:1: error: expected a mapping at the top of the file, got a list"
        ),
        ("missing.yaml", "missing.yaml: error: config file does not exist"),
    ])
    func refusesFilesThatAreNotOneMapping(_ name: String, _ message: String) {
        #expect(problems(name) == [message])
    }

    @Test func refusesAWritableConfigFile() {
        let temp = TemporaryFolder()
        let path = temp.write("config.yaml", "log: {level: debug}\n", mode: 0o664)
        guard case .failure(let d) = RunnerConfig.load(path: path, allowWritable: false) else {
            Issue.record("group-writable config loaded")
            return
        }
        #expect(
            d.all.map(\.description) == [
                "\(path): error: config file is group-writable (mode 0664); refusing it (fix its"
                    + " owner or mode, or pass --allow-writable for a development clone)"
            ])
    }

    @Test func allowWritableLoadsAWritableConfigWithAWarning() throws {
        let temp = TemporaryFolder()
        let path = temp.write("config.yaml", "log: {level: debug}\n", mode: 0o666)
        let config = try RunnerConfig.load(path: path, allowWritable: true).get()
        #expect(config.logLevel == .debug)
        #expect(config.loadWarnings.map(\.severity) == [.warning])
    }

    @Test func loadsThroughASymbolicLinkResolvingPathsNextToTheLink() throws {
        let temp = TemporaryFolder()
        temp.write("real/config.yaml", "journal: {path: j.jsonl}\n")
        temp.folder("etc")
        symlink(temp.path + "/real/config.yaml", temp.path + "/etc/config.yaml")
        let config = try RunnerConfig.load(
            path: temp.path + "/etc/config.yaml", allowWritable: false
        )
        .get()
        #expect(config.journalPath == temp.path + "/etc/j.jsonl")
    }

    @Test func refusesEmptyPaths() {
        let temp = TemporaryFolder()
        let path = temp.write("config.yaml", "packs: [\"\", a]\njournal: {path: \"\"}\n")
        guard case .failure(let d) = RunnerConfig.load(path: path, allowWritable: false) else {
            Issue.record("empty paths loaded")
            return
        }
        #expect(
            d.all.map(\.message) == [
                "packs[0]: a folder cannot be empty", "journal.path: must name a file",
            ])
    }

    @Test(arguments: [
        ("db-1.example.org", "db-1.example.org"), ("host name", "host-name"), ("", "ward"),
        (String(repeating: "a", count: 70), String(repeating: "a", count: 64)),
    ])
    func defaultRunnerIDComesFromTheHostName(_ hostname: String, _ id: String) {
        #expect(RunnerConfig.defaults(baseDirectory: "/", hostname: hostname).runnerID == id)
    }
}

@Suite struct ConfigDocumentationTests {
    @Test func documentedExampleIsTheFixture() throws {
        let doc = try FileSystem.read(PackFixtures.repoRoot + "/docs/config.md", limit: 1 << 20)
            .get()
        let fixture = try FileSystem.read(PackFixtures.config + "/example.yaml", limit: 1 << 20)
            .get()
        let text = String(decoding: doc, as: UTF8.self)
        let example = "```yaml\n" + String(decoding: fixture, as: UTF8.self) + "```\n"
        #expect(text.contains(example))
    }
}
