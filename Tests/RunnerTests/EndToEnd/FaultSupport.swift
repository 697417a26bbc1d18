import Glibc
import Testing

@testable import Runner

/// What the fault tests need beyond the cloud harness: a pack of misbehaving
/// children written at run time, and ways to start ward under a limit, to
/// read its descriptors and to change the concurrency limit.
nonisolated enum FaultPack {
    /// The pack's YAML: each action is one fault a child can cause.
    static let yaml = """
        pack: fault
        version: "1.0.0"
        description: Children that misbehave, for the fault tests.
        actions:
          fault.closeout:
            description: Print a line, close stdout, keep running, then print to stderr.
            exec: ["/bin/sh", "-c", "echo before; exec 1>&-; sleep 1; echo still-running >&2"]
            options: {timeout_s: 20}
          fault.noeol:
            description: Print 100 MiB without a single newline.
            exec: ["/bin/sh", "-c", "head -c 104857600 /dev/zero | tr '\\\\0' z"]
            options:
              timeout_s: 300
              max_output_bytes: 1073741824
              max_output_bytes_max: 1073741824
        """

    /// Writes the pack under `dir` and returns the folder to list in `packs`.
    static func write(into dir: TempDir) -> String {
        dir.write("fault-packs/fault/pack.yaml", yaml)
        return dir.path + "/fault-packs"
    }
}

nonisolated extension CloudHarness {
    /// Starts `ward connect` through `/bin/sh -c 'ulimit -n N; exec ward …'`, so
    /// ward itself runs with at most `openFiles` descriptors.
    func startWardLimited(openFiles: Int) throws {
        if configPath.isEmpty { writeConfig() }
        let log = open(
            dir.path + "/" + wardLogName, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(log) }
        let script = "ulimit -n \(openFiles) && exec \"$0\" --config \"$1\" connect"
        let spawned = TestSpawn.spawn(
            ["/bin/sh", "-c", script, WardProcess.binary, configPath],
            environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .null, stdout: .null,
            stderr: .fd(log))
        wardPID = try #require(spawned, "cannot spawn /bin/sh for ward")
        wardStatus = nil
    }

    /// Rewrites the config with another `max_concurrent_runs`.
    func setMaxConcurrentRuns(_ limit: Int) {
        let text = TempDir.readAbsolute(configPath) ?? ""
        let parts = text.split(
            separator: "max_concurrent_runs: 3", maxSplits: 1, omittingEmptySubsequences: false)
        let changed = parts.map(String.init).joined(separator: "max_concurrent_runs: \(limit)")
        precondition(changed != text, "config has no max_concurrent_runs: 3 to change")
        let name = String(configPath.dropFirst(dir.path.count + 1))
        dir.write(name, changed)
    }

    /// How many descriptors ward holds open, from /proc.
    var wardOpenFiles: Int? {
        guard let pid = wardPID else { return nil }
        let out = WardProcess.exec(["/bin/ls", "/proc/\(pid)/fd"])
        return out.status == 0 ? out.lines.count : nil
    }

    /// The pid in a `waiting PID` line a cloud.wait run printed.
    func waitingPID(_ run: String) -> Int32? {
        lineTexts(run).first { $0.hasPrefix("waiting ") }.flatMap { Int32($0.dropFirst(8)) }
    }

    /// Runs `ward events verify` on this harness's config.
    func verifyJournal() -> WardOutput {
        WardProcess.run(["--config", configPath, "events", "verify"])
    }
}
