import Glibc
import Testing

@testable import Runner

/// Case 23: a run always ends, and nothing it started outlives it, whether
/// its jobs stay in the group, escape with setsid, ignore SIGTERM, or keep a
/// pipe open after the direct child exited.
@Suite struct ChildTerminationTests {
    /// Grace between SIGTERM and SIGKILL in these tests: generous, since
    /// only the SIGTERM-ignoring child waits for it to pass.
    static let grace: UInt64 = 1_000

    /// Runs `script`, calls `terminate` once a `started <pid>` line arrived,
    /// and returns the run and that pid.
    static func terminateAfterStart(_ script: String) throws -> (ChildRun, pid_t?) {
        let run = try ChildRun([ProcessFixtures.path(script)])
        run.onStdout = { run in
            if run.pid(after: "started") != nil { run.child.terminate(grace: grace) }
        }
        run.run()
        return (run, run.pid(after: "started"))
    }

    @Test func terminateKillsBackgroundJobInTheGroup() throws {
        let (run, job) = try Self.terminateAfterStart("bg_child.sh")
        #expect(job != nil)
        #expect(run.exit == .signaled(SIGTERM))
        #expect(run.info?.pipesForceClosed == false)
        #expect((run.info?.descendantsKilled ?? 0) >= 1)
        run.finish(checking: job.map { [$0] } ?? [])
    }

    @Test func terminateKillsAndReapsJobThatEscapedWithSetsid() throws {
        let run = try ChildRun([ProcessFixtures.path("escaped_child.sh")])
        var escapedSession: pid_t?
        run.onStdout = { run in
            guard let job = run.pid(after: "started"), escapedSession == nil else { return }
            // The job prints only after setsid, so it is outside the group now.
            escapedSession = ProcessTable.info(job)?.session
            run.child.terminate(grace: Self.grace)
        }
        run.run()
        let job = run.pid(after: "started")
        #expect(job != nil)
        #expect(escapedSession == job)
        #expect(escapedSession != run.child.pid)
        #expect(run.exit == .signaled(SIGTERM))
        #expect((run.info?.descendantsKilled ?? 0) >= 1)
        run.finish(checking: job.map { [$0] } ?? [])
    }

    @Test func childIgnoringSIGTERMIsKilledAfterTheGrace() throws {
        let (run, job) = try Self.terminateAfterStart("ignores_term.sh")
        #expect(run.exit == .signaled(SIGKILL))
        #expect(run.info?.signal == SIGKILL)
        run.finish(checking: job.map { [$0] } ?? [])
    }

    @Test func killEndsTheRunAtOnce() throws {
        let run = try ChildRun(["/bin/sleep", "300"])
        let now = Timer(loop: run.loop)
        now.start(after: 0) {
            run.child.kill()
            now.close()
        }
        run.run()
        #expect(run.exit == .signaled(SIGKILL))
        run.finish()
    }

    @Test func runFinishesWhenBackgroundJobKeepsStdoutOpen() throws {
        let run = try ChildRun([ProcessFixtures.path("holds_stdout.sh")])
        run.run()
        let job = run.pid(after: "bye")
        #expect(job != nil)
        #expect(run.exit == .exited(0))
        #expect(run.info?.pipesForceClosed == true)
        #expect((run.info?.descendantsKilled ?? 0) >= 1)
        run.finish(checking: job.map { [$0] } ?? [])
    }

    @Test func runFinishesWhenEscapedJobKeepsPipesOpen() throws {
        let run = try ChildRun([ProcessFixtures.path("escaped_holder.sh")])
        run.run()
        let job = run.pid(after: "started")
        #expect(job != nil)
        #expect(run.exit == .exited(0))
        #expect(run.info?.pipesForceClosed == true)
        #expect((run.info?.descendantsKilled ?? 0) >= 1)
        run.finish(checking: job.map { [$0] } ?? [])
    }

    @Test func adoptedOrphanIsKilledWithTheRunAndReaped() throws {
        // The orphan holds no pipe, so the run ends as soon as the shell
        // exits; the orphan, reparented to this process and still in the
        // run's group, is killed as the run ends (nothing outlives its run),
        // and only the reaper's waitpid stops it from staying a zombie.
        let run = try ChildRun([ProcessFixtures.path("orphan_quiet.sh")])
        run.run()
        let orphan = run.pid(after: "orphan")
        #expect(orphan != nil)
        #expect(run.info?.pipesForceClosed == false)
        #expect(run.info?.descendantsKilled == 1)
        run.finish(checking: orphan.map { [$0] } ?? [])
    }
}
