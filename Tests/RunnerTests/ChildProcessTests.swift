import Glibc
import Testing

@testable import Runner

/// Paths of the fixture scripts next to this file.
enum ProcessFixtures {
    /// Absolute path of `Fixtures/process/<name>`.
    static func path(_ name: String) -> String {
        let here = #filePath
        let dir = here[..<here.lastIndex(of: "/")!]
        return "\(dir)/Fixtures/process/\(name)"
    }
}

/// One child on a fresh loop, with everything it did recorded. Every test
/// ends with `finish()`, which proves the loop closed clean and that no
/// process of the run is left.
final class ChildRun {
    /// Longest a run may take before the watchdog kills it and the test
    /// fails: generous, so a slow machine never fails a correct test, but a
    /// hang still ends.
    static let watchdogMilliseconds: UInt64 = 60_000
    /// Longest `finish()` waits for killed processes to disappear.
    static let goneWaitMilliseconds: UInt64 = 10_000

    /// The run's own loop.
    let loop: EventLoop
    /// The child under test.
    var child: ChildProcess!
    /// Stdout bytes received (when `keepBytes`).
    var stdout: [UInt8] = []
    /// Stderr bytes received (when `keepBytes`).
    var stderr: [UInt8] = []
    /// Stdout bytes counted.
    var stdoutCount = 0
    /// Stderr bytes counted.
    var stderrCount = 0
    /// Whether bytes are kept or only counted (20 MB floods).
    var keepBytes = true
    /// What `onExit` reported.
    var exit: ChildExitStatus?
    /// What `onFinished` reported.
    var info: ExitInfo?
    /// How many times `onFinished` ran (must be once).
    var finishedCalls = 0
    /// Whether the watchdog had to kill the run.
    var watchdogFired = false
    /// Kills a run that hangs, so a broken build fails instead of hanging.
    let watchdog: Timer
    /// Called with each stdout chunk after it was recorded.
    var onStdout: ((ChildRun) -> Void)?

    /// Starts `argv` (argv[0] is the executable) with `environment`.
    init(
        _ argv: [String], environment: [String] = ["PATH=\(ChildEnvironment.safePath)"],
        keepBytes: Bool = true
    ) throws {
        try ProcessSetup.apply()
        loop = try EventLoop()
        self.keepBytes = keepBytes
        watchdog = Timer(loop: loop)
        watchdog.unref()
        let spec = ChildSpec(
            executable: argv[0], argv: argv, environment: environment, workingDirectory: "/")
        child = try ChildProcess(
            loop: loop, spec: spec,
            handlers: ChildHandlers(
                onOutput: { [unowned self] stream, bytes in self.received(stream, bytes) },
                onExit: { [unowned self] status in self.exit = status },
                onFinished: { [unowned self] info in
                    self.info = info
                    self.finishedCalls += 1
                }))
        watchdog.start(after: ChildRun.watchdogMilliseconds) { [unowned self] in
            self.watchdogFired = true
            self.child.kill()
        }
    }

    private func received(_ stream: ChildStream, _ bytes: UnsafeRawBufferPointer) {
        switch stream {
        case .stdout:
            stdoutCount += bytes.count
            if keepBytes { stdout += bytes }
            onStdout?(self)
        case .stderr:
            stderrCount += bytes.count
            if keepBytes { stderr += bytes }
        }
    }

    /// Stdout as text.
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Stderr as text.
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// The number after `word ` on a stdout line, e.g. `started 123`.
    func pid(after word: String) -> pid_t? {
        for line in stdoutText.split(separator: "\n") where line.hasPrefix(word + " ") {
            return pid_t(line.dropFirst(word.count + 1))
        }
        return nil
    }

    /// Runs the loop until the run has finished (unreferenced watchdog).
    func run() {
        loop.run()
        #expect(!watchdogFired, "watchdog had to kill the run")
        #expect(finishedCalls == 1)
    }

    /// Waits (on loop timers) until every pid in `pids` and the child are
    /// gone and reaped, then checks that and that the loop closes clean.
    func finish(
        checking pids: [pid_t] = [], sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let all = pids + [child.pid]
        let poll = Timer(loop: loop)
        var waited: UInt64 = 0
        poll.start(after: 0, repeating: 20) {
            waited += 20
            if all.allSatisfy(isGone) || waited > ChildRun.goneWaitMilliseconds { poll.close() }
        }
        loop.run()
        for pid in all {
            #expect(isGone(pid), "process \(pid) is still there", sourceLocation: sourceLocation)
        }
        watchdog.close()
        #expect(loop.liveHandleCount == 0, sourceLocation: sourceLocation)
        #expect(throws: Never.self, sourceLocation: sourceLocation) { try self.loop.close() }
    }
}

/// Whether `pid` no longer exists (a zombie still counts as there).
func isGone(_ pid: pid_t) -> Bool {
    Glibc.kill(pid, 0) == -1 && errno == ESRCH
}

@Suite struct ChildProcessTests {
    @Test func deliversBothStreamsExitCodeAndUnterminatedLastLine() throws {
        let run = try ChildRun([ProcessFixtures.path("echo_both.sh")])
        run.run()
        #expect(run.stdoutText == "out-1\nout-2\nlast-no-newline")
        #expect(run.stderrText == "err-1\n")
        #expect(run.exit == .exited(3))
        #expect(
            run.info
                == ExitInfo(exitCode: 3, signal: nil, pipesForceClosed: false, descendantsKilled: 0)
        )
        run.finish()
    }

    @Test func drainsTwentyMegabytesOnBothPipesAtOnce() throws {
        let size = 20 * 1024 * 1024
        let run = try ChildRun(
            [ProcessFixtures.path("flood_both.sh"), String(size)], keepBytes: false)
        run.run()
        #expect(run.stdoutCount == size)
        #expect(run.stderrCount == size)
        #expect(run.exit == .exited(0))
        run.finish()
    }

    @Test func childLeadsItsOwnSessionAndGroup() throws {
        let run = try ChildRun(["/bin/sh", "-c", "cat /proc/$$/stat >&2"])
        run.run()
        let stat = ProcessTable.parseStat(run.stderr)
        #expect(stat?.group == stat?.pid)
        #expect(stat?.session == stat?.pid)
        #expect(stat?.session != getsid(0))
        run.finish()
    }

    @Test func reportsExitBySignal() throws {
        let run = try ChildRun(["/bin/sh", "-c", "kill -KILL $$"])
        run.run()
        #expect(run.exit == .signaled(SIGKILL))
        #expect(run.info?.signal == SIGKILL)
        #expect(run.info?.exitCode == nil)
        run.finish()
    }
}
