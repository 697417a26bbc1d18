import Glibc
import Testing

@testable import Runner

/// A scratch host for `ward doctor`: a config in a temp folder naming the
/// packs, the journal and any extra sections, checked by the real binary.
nonisolated final class DoctorHost: Sendable {
    let dir = TempDir()
    let config: String

    /// A config naming `packs`, a journal at `journal` (relative to the
    /// folder) and `extra` top-level YAML.
    init(
        packs: [String] = [WardProcess.repoRoot + "/packs"],
        journal: String = "./journal/events.jsonl", extra: String = ""
    ) {
        config = dir.write(
            "config.yaml",
            """
            runner:
              id: doctor-test
            packs: [\(packs.map { "\"\($0)\"" }.joined(separator: ", "))]
            journal:
              path: \(journal)
            \(extra)
            """)
    }

    /// Runs `ward --config … doctor --json extra…` and parses its document.
    func doctor(_ extra: [String] = [], environment: [String]? = nil)
        -> (status: Int32, doc: JSONValue, raw: WardOutput)
    {
        let out = WardProcess.run(
            ["--config", config, "doctor", "--json"] + extra, environment: environment)
        return (out.status, (try? JSONReader.parse(out.stdout)) ?? .null, out)
    }
}

extension JSONValue {
    /// The doctor check called `name` in a `--json` document.
    func check(_ name: String) -> JSONValue? {
        self["checks"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// The status of the doctor check called `name`.
    func status(_ name: String) -> String? { check(name)?["status"]?.stringValue }
}

/// A clean environment with `WARD_AUTH_KEY` set.
private func environment(key: String) -> [String] {
    ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "WARD_AUTH_KEY=\(key)"]
}

@Suite struct DoctorEndToEndTests {
    @Test(arguments: [["doctor", "--help"], ["help", "doctor"]])
    func printsItsUsage(_ words: [String]) {
        let out = WardProcess.run(words)
        #expect(out.status == 0)
        #expect(out.stdout.hasPrefix("Usage: ward [--config FILE] doctor [--json] [--offline]"))
    }

    @Test func refusesAnArgument() {
        let out = WardProcess.run(["doctor", "extra"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("ward doctor: takes no arguments"))
    }

    @Test func passesWithAWarningForTheMissingNodetoolOfTheExamplePacks() {
        let host = DoctorHost()
        let (status, doc, raw) = host.doctor()
        #expect(status == 0, "\(raw.stdout)\(raw.stderr)")
        #expect(doc.status("config") == "pass")
        #expect(doc.status("packs") == "pass")
        let nodetool = doc.check("executable /usr/bin/nodetool")
        #expect(nodetool?["status"]?.stringValue == "warn")
        #expect(nodetool?["detail"]?.stringValue?.contains("cassandra.status") == true)
        #expect(nodetool?["fix"]?.stringValue?.contains("cassandra") == true)
        #expect(doc.status("journal directory") == "pass")
        #expect(doc.status("auth key") == "skip")
        #expect(doc["summary"]?["fail"]?.intValue == 0)
        #expect(doc["summary"]?["ok"]?.boolValue == true)
    }

    @Test func printsAChecklistWithTheFixUnderAWarning() {
        let host = DoctorHost()
        let out = WardProcess.run(["--config", host.config, "doctor"])
        #expect(out.status == 0)
        let lines = out.lines
        let warn = lines.firstIndex { $0.hasPrefix("warn  executable /usr/bin/nodetool") }
        #expect(warn != nil, "\(out.stdout)")
        if let warn { #expect(lines[warn + 1].trimmingSpaces.hasPrefix("fix: install")) }
        #expect(lines.last?.hasSuffix("0 failed, 7 skipped: ok") == true)
    }

    @Test func failsForAJournalFolderThatIsAFile() {
        let host = DoctorHost(journal: "./file/events.jsonl")
        // A folder root cannot write into is hard to make (root ignores modes),
        // so the journal's folder is a regular file: no one can create it.
        host.dir.write("file", "not a folder\n")
        let (status, doc, raw) = host.doctor()
        #expect(status == 1, "\(raw.stdout)")
        let check = doc.check("journal directory")
        #expect(check?["status"]?.stringValue == "fail")
        #expect(
            check?["detail"]?.stringValue == "\(host.dir.path)/file is not a folder,"
                + " so the journal \(host.dir.path)/file/events.jsonl cannot be written")
        #expect(check?["fix"] != nil)
        #expect(doc["summary"]?["ok"]?.boolValue == false)
    }

    @Test func failsForAJournalFolderOthersCanWrite() {
        let host = DoctorHost()
        _ = WardProcess.exec(["/bin/mkdir", "-m", "0777", host.dir.path + "/journal"])
        let (status, doc, _) = host.doctor()
        #expect(status == 1)
        #expect(doc.status("journal directory") == "fail")
        #expect(
            doc.check("journal directory")?["items"]?.arrayValue?.first?.stringValue
                == "\(host.dir.path)/journal (mode 0777)")
    }

    @Test func failsForAJournalWhoseChainBreaks() {
        let host = DoctorHost()
        host.dir.write(
            "journal/events.jsonl", "{\"seq\":1,\"prev\":\"nope\"}\n", mode: 0o600)
        let (status, doc, _) = host.doctor()
        #expect(status == 1)
        #expect(doc.status("journal directory") == "pass")
        #expect(doc.status("journal") == "fail")
    }

    @Test func failsForAPackThatDoesNotValidateAndListsItsErrors() {
        let packs = TempDir()
        packs.write(
            "broken/pack.yaml",
            """
            pack: broken
            version: "1.0.0"
            description: A pack with a mistake.
            actions:
              broken.echo:
                description: Echo.
                exec: ["echo", "hi"]
            """)
        let host = DoctorHost(packs: [packs.path])
        let (status, doc, raw) = host.doctor()
        #expect(status == 1, "\(raw.stdout)")
        #expect(doc.status("packs") == "fail")
        let items = doc.check("packs")?["items"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(items.contains { $0.hasPrefix("\(packs.path)/broken/pack.yaml:7:") })
        #expect(doc.status("executables") == "skip")
    }

    @Test func failsForAConfigThatDoesNotLoadAndSkipsTheRest() {
        let host = DoctorHost(extra: "unknown_section: 1")
        let (status, doc, _) = host.doctor()
        #expect(status == 1)
        #expect(doc.status("config") == "fail")
        #expect(doc.check("config")?["items"]?.arrayValue?.isEmpty == false)
        #expect(doc.status("packs") == "skip")
        #expect(doc.status("journal") == "skip")
    }

    @Test func failsForAnUnreachableControlPlaneNamingHostAndPort() {
        let port = NetTest.closedPort()
        let key = "doctor-test-key-0123456789"
        let host = DoctorHost(extra: "control_plane:\n  url: wss://127.0.0.1:\(port)/v1/runner")
        let (status, doc, raw) = host.doctor(environment: environment(key: key))
        #expect(status == 1, "\(raw.stdout)")
        #expect(doc.status("auth key") == "pass")
        #expect(doc.check("auth key")?["detail"]?.stringValue == "key from WARD_AUTH_KEY")
        #expect(doc.status("tls trust") == "pass")
        #expect(doc.status("control plane address") == "pass")
        let tls = doc.check("control plane tls")
        #expect(tls?["status"]?.stringValue == "fail")
        #expect(tls?["detail"]?.stringValue?.contains("127.0.0.1:\(port)") == true)
        #expect(!raw.stdout.contains(key) && !raw.stderr.contains(key))
    }

    @Test func offlineSkipsTheNetworkChecks() {
        let port = NetTest.closedPort()
        let host = DoctorHost(extra: "control_plane:\n  url: wss://127.0.0.1:\(port)/v1/runner")
        let (status, doc, _) = host.doctor(
            ["--offline"], environment: environment(key: "doctor-test-key-0123456789"))
        #expect(status == 0)
        #expect(doc.status("control plane address") == "skip")
        #expect(doc.status("control plane tls") == "skip")
    }

    @Test func failsWithoutARunnerKey() {
        let host = DoctorHost(extra: "control_plane:\n  url: wss://127.0.0.1:1/v1/runner")
        let (status, doc, _) = host.doctor(["--offline"])
        #expect(status == 1)
        #expect(doc.status("auth key") == "fail")
        #expect(doc.check("auth key")?["fix"]?.stringValue?.contains("key_file") == true)
    }

    @Test func failsForAPinnedCAFileThatDoesNotLoad() {
        let host = DoctorHost(
            extra: "control_plane:\n  url: wss://127.0.0.1:1/v1/runner\n"
                + "  pinned_ca_file: ./missing.pem")
        let (status, doc, _) = host.doctor(
            ["--offline"], environment: environment(key: "doctor-test-key-0123456789"))
        #expect(status == 1)
        #expect(doc.status("tls trust") == "fail")
        #expect(doc.check("tls trust")?["detail"]?.stringValue?.contains("missing.pem") == true)
    }

    @Test(.enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
    func passesTheHandshakeWithTheDevelopmentControlPlane() throws {
        let peer = try CloudHarness()
        let host = DoctorHost(
            extra: "control_plane:\n  url: \(peer.url)\n  ca_file: \(peer.caFile)\n"
                + "  key_file: \(peer.keyFile)")
        let (status, doc, raw) = host.doctor()
        #expect(status == 0, "\(raw.stdout)")
        #expect(doc.check("auth key")?["detail"]?.stringValue == "key from \(peer.keyFile)")
        #expect(doc.check("tls trust")?["detail"]?.stringValue == "CA bundle \(peer.caFile) loads")
        let tls = doc.check("control plane tls")
        #expect(tls?["status"]?.stringValue == "pass")
        #expect(tls?["detail"]?.stringValue?.hasPrefix("TLSv1.") == true)
        let key = peer.dir.read("cp/runner.key")?.trimmingSpaces ?? ""
        #expect(!key.isEmpty && !raw.stdout.contains(key))
    }

    @Test(.enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
    func failsTheHandshakeWithACertificateItDoesNotTrust() throws {
        let peer = try CloudHarness()
        // No ca_file: the system store does not know devcp's throwaway CA.
        let host = DoctorHost(
            extra: "control_plane:\n  url: \(peer.url)\n  key_file: \(peer.keyFile)")
        let (status, doc, _) = host.doctor()
        #expect(status == 1)
        let tls = doc.check("control plane tls")
        #expect(tls?["status"]?.stringValue == "fail")
        #expect(tls?["detail"]?.stringValue?.contains("certificate verify failed") == true)
        #expect(tls?["fix"]?.stringValue?.contains("ca_file") == true)
    }
}
