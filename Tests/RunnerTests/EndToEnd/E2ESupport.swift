import Glibc
import Testing

@testable import Runner

/// A scratch runner: a config naming the e2e fixture packs and a journal in a
/// temp folder, and helpers to run the real binary against it.
nonisolated final class Scratch: Sendable {
    let dir = TempDir()
    let config: String
    var journalPath: String { dir.path + "/journal/events.jsonl" }

    init(extraConfig: String = "") {
        let packs = WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures/e2e/packs"
        config = dir.write(
            "config.yaml",
            """
            runner:
              id: e2e-runner
            packs: ["\(packs)"]
            journal:
              path: ./journal/events.jsonl
            limits:
              kill_grace_s: 1
            \(extraConfig)
            """)
    }

    /// Runs `ward --config … args…`.
    func ward(_ args: [String], environment: [String]? = nil, input: String? = nil)
        -> WardOutput
    {
        WardProcess.run(["--config", config] + args, environment: environment, input: input)
    }

    /// Runs one action with `--json` and returns the exit status and parsed document.
    func runJSON(_ action: String, _ extra: [String] = [], reason: String = "e2e test")
        -> (status: Int32, doc: JSONValue, raw: WardOutput)
    {
        let out = ward(["action", "run", action, "--json", "--reason", reason] + extra)
        let doc = (try? JSONReader.parse(out.stdout)) ?? .null
        return (out.status, doc, out)
    }

    /// The journal's lines as stored.
    var journalLines: [String] {
        (dir.read("journal/events.jsonl") ?? "").split(separator: "\n").map(String.init)
    }

    /// The journal's events parsed.
    var events: [JSONValue] {
        journalLines.compactMap { try? JSONReader.parse($0) }
    }

    /// Every byte ward wrote anywhere the secret could leak: the journal files.
    var allJournalText: String {
        WardProcess.exec(["/bin/sh", "-c", "cat \(dir.path)/journal/*.jsonl"]).stdout
    }
}

/// Whether process `pid` is still alive. A zombie counts as dead: it has exited and
/// only waits to be reaped, which may fall to this test process when it is a child
/// subreaper (other tests make it one).
nonisolated func processExists(_ pid: Int32) -> Bool {
    guard let entry = ProcessTable.info(pid) else { return false }
    return !entry.isZombie
}

extension JSONValue {
    /// The texts of the `lines` array of a run document.
    var lineTexts: [String] {
        (self["lines"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
    }
}
