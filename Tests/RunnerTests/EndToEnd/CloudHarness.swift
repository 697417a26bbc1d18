import Glibc
import Testing

@testable import Runner

/// A real control plane (contrib/devcp, Python `websockets`) and a real
/// `ward connect` against it, each a child process, for the cloud tests.
/// Waits are bounded by a number of polls, never asserted as times.
nonisolated final class CloudHarness {
    static let python = WardProcess.repoRoot + "/.venv/bin/python"
    static let devcp = WardProcess.repoRoot + "/contrib/devcp/ward_devcp.py"
    static let hasVenv = access(python, X_OK) == 0
    /// Pause between polls.
    static let pollMicroseconds: UInt32 = 20_000
    /// Polls before a wait gives up: 30 s at the pause above.
    static let defaultPolls = 1_500

    let dir = TempDir()
    let peerPID: pid_t
    let peerIn: Int32
    let peerOut: Int32
    var pending: [UInt8] = []
    /// Every JSON line devcp printed, in order.
    private(set) var events: [JSONValue] = []
    let url: String
    let caFile: String
    let keyFile: String
    var wardPID: pid_t?
    var wardStatus: Int32?
    var configPath = ""
    var wardLogName = "ward.log"

    /// Starts devcp with `flags` and waits for it to listen.
    init(peerFlags: [String] = []) throws {
        let input = TestSpawn.pipePair()
        let output = TestSpawn.pipePair()
        let pid = TestSpawn.spawn(
            [Self.python, Self.devcp, "--state-dir", dir.path + "/cp"] + peerFlags,
            environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"], stdin: .fd(input.read),
            stdout: .fd(output.write), stderr: .null)
        close(input.read)
        close(output.write)
        peerPID = try #require(pid)
        peerIn = input.write
        peerOut = output.read
        _ = fcntl(peerOut, F_SETFL, fcntl(peerOut, F_GETFL) | O_NONBLOCK)
        var listening: JSONValue?
        var early: [JSONValue] = []
        var buffer: [UInt8] = []
        for _ in 0..<Self.defaultPolls where listening == nil {
            Self.readLines(output.read, &buffer, into: &early)
            listening = early.first { $0["event"]?.stringValue == "listening" }
            if listening == nil { usleep(Self.pollMicroseconds) }
        }
        let found = try #require(listening, "devcp did not start")
        url = try #require(found["url"]?.stringValue)
        caFile = try #require(found["ca_file"]?.stringValue)
        keyFile = try #require(found["key_file"]?.stringValue)
        events = early
        pending = buffer
    }

    deinit {
        if let wardPID, wardStatus == nil {
            kill(wardPID, SIGKILL)
            var status: Int32 = 0
            waitpid(wardPID, &status, 0)
        }
        kill(peerPID, SIGKILL)
        var status: Int32 = 0
        waitpid(peerPID, &status, 0)
        close(peerIn)
        close(peerOut)
    }

    /// The port devcp listens on.
    var port: Int { Int(url.split(separator: ":").last!.split(separator: "/")[0])! }

    /// Writes ward's config: the cloud and e2e fixture packs, a journal in the
    /// scratch folder, fast timings, and `controlPlane` lines (url, CA and key
    /// by default) plus `extra` top-level YAML.
    func writeConfig(
        controlPlane: [String]? = nil, timings: [String: Int] = [:], morePacks: [String] = [],
        maxConcurrentRuns: Int = 3, extra: String = ""
    ) {
        let fixtures = WardProcess.repoRoot + "/Tests/RunnerTests/Fixtures"
        let fast: [String: Int] = [
            "heartbeat_ms": 500, "backoff_base_ms": 50, "backoff_cap_ms": 400,
            "backoff_reset_ms": 2000, "connect_timeout_ms": 3000, "drain_grace_ms": 3000,
        ]
        let merged = fast.merging(timings) { _, new in new }
        let cp =
            (controlPlane ?? ["url: \(url)", "ca_file: \(caFile)", "key_file: \(keyFile)"])
            + merged.keys.sorted().map { "\($0): \(merged[$0]!)" }
        configPath = dir.write(
            "config.yaml",
            """
            runner:
              id: cloud-test
            packs: [\((["\(fixtures)/cloud/packs", "\(fixtures)/e2e/packs"] + morePacks).map { "\"\($0)\"" }.joined(separator: ", "))]
            journal:
              path: ./journal/events.jsonl
            limits:
              kill_grace_s: 1
              max_concurrent_runs: \(maxConcurrentRuns)
              ceilings: {max_output_bytes: 1073741824, max_output_lines: 100000000}
            log:
              level: debug
            control_plane:
            \(cp.map { "  " + $0 }.joined(separator: "\n"))
            \(extra)
            """)
    }

    /// Starts `ward connect` with its stderr in `ward.log` (config written first
    /// when not yet).
    func startWard(environment: [String] = []) throws {
        if configPath.isEmpty { writeConfig() }
        let log = open(
            dir.path + "/" + wardLogName, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        defer { close(log) }
        let spawned: pid_t? = TestSpawn.spawn(
            [WardProcess.binary, "--config", configPath, "connect"],
            environment: ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"] + environment, stdin: .null,
            stdout: .null, stderr: .fd(log))
        guard let spawned else {
            Issue.record("cannot spawn \(WardProcess.binary)")
            return
        }
        wardPID = spawned
        wardStatus = nil
    }

    /// ward's stderr so far.
    var wardLog: String { dir.read(wardLogName) ?? "" }

    /// Sends one devcp command line.
    func send(_ command: String) {
        let bytes = Array((command + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                write(peerIn, $0.baseAddress! + offset, $0.count - offset)
            }
            if n <= 0 { break }
            offset += n
        }
    }

    /// Reads what devcp printed since the last poll.
    func poll() {
        Self.readLines(peerOut, &pending, into: &events)
    }

    /// Reads `fd` until it would block, appending each whole JSON line.
    static func readLines(_ fd: Int32, _ pending: inout [UInt8], into events: inout [JSONValue]) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            pending += chunk[0..<n]
        }
        while let nl = pending.firstIndex(of: 0x0A) {
            if let value = try? JSONReader.parse(Array(pending[..<nl])) { events.append(value) }
            pending.removeSubrange(...nl)
        }
    }

    /// Polls until `predicate` holds, at most `polls` times; whether it held.
    @discardableResult
    func wait(polls: Int = CloudHarness.defaultPolls, until predicate: () -> Bool) -> Bool {
        for _ in 0..<polls {
            poll()
            if predicate() { return true }
            usleep(Self.pollMicroseconds)
        }
        poll()
        return predicate()
    }

    /// Messages devcp received from ward, optionally of one type and run.
    func received(_ type: String? = nil, run: String? = nil) -> [JSONValue] {
        events.compactMap { event -> JSONValue? in
            guard event["event"]?.stringValue == "received", let m = event["message"] else {
                return nil
            }
            if let type, m["type"]?.stringValue != type { return nil }
            if let run, m["run"]?.stringValue != run { return nil }
            return m
        }
    }

    /// devcp events named `name`.
    func events(_ name: String) -> [JSONValue] {
        events.filter { $0["event"]?.stringValue == name }
    }

    /// Waits for the `run.finished` (or `run.refused`) of `run`.
    func result(_ run: String, polls: Int = CloudHarness.defaultPolls) -> JSONValue? {
        wait(polls: polls) {
            !received("run.finished", run: run).isEmpty
                || !received("run.refused", run: run).isEmpty
        }
        return received("run.finished", run: run).last ?? received("run.refused", run: run).last
    }

    /// Waits until ward said hello `count` times in all.
    @discardableResult
    func connected(count: Int = 1, polls: Int = CloudHarness.defaultPolls) -> Bool {
        wait(polls: polls) { events("connected").count >= count }
    }

    /// Sends `signal` to ward and waits for it to exit; its exit status, or
    /// nil if it did not exit within the polls.
    func stopWard(_ signal: Int32 = SIGTERM, polls: Int = CloudHarness.defaultPolls) -> Int32? {
        guard let pid = wardPID else { return nil }
        kill(pid, signal)
        return waitWardExit(polls: polls)
    }

    /// Waits for ward to exit by itself.
    func waitWardExit(polls: Int = CloudHarness.defaultPolls) -> Int32? {
        guard let pid = wardPID else { return nil }
        if let wardStatus { return wardStatus }
        for _ in 0..<polls {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                wardStatus = code
                return code
            }
            poll()
            usleep(Self.pollMicroseconds)
        }
        return nil
    }

    /// Resident memory of ward in KiB, from /proc.
    var wardRSSKiB: Int? {
        guard let pid = wardPID,
            let text = TempDir.readAbsolute("/proc/\(pid)/status")
        else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    /// Page faults ward's process took so far that needed no disk read
    /// (`minflt`, field 10 of `/proc/PID/stat`): a fresh heap page is one.
    var wardMinorFaults: Int? {
        guard let pid = wardPID,
            let text = TempDir.readAbsolute("/proc/\(pid)/stat"),
            let end = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may hold spaces, start at 3.
        let fields = text[text.index(after: end)...].split(separator: " ")
        return fields.count > 7 ? Int(fields[7]) : nil
    }

    /// The journal's events, parsed.
    var journal: [JSONValue] {
        (dir.read("journal/events.jsonl") ?? "").split(separator: "\n").compactMap {
            try? JSONReader.parse(String($0))
        }
    }

    /// Journal events of one kind for one run.
    func journal(_ event: String, run: String) -> [JSONValue] {
        journal.filter { $0["event"]?.stringValue == event && $0["run"]?.stringValue == run }
    }

    /// The text of every line devcp received for `run`, in order.
    func lineTexts(_ run: String) -> [String] {
        received("run.output", run: run).flatMap { m in
            (m["lines"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
        }
    }
}

extension TempDir {
    /// Reads any file by absolute path, or nil.
    nonisolated static func readAbsolute(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
