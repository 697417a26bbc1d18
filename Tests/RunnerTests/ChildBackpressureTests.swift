import Glibc
import Testing

@testable import Runner

/// Paused output is backpressure: the child blocks in write while ward reads
/// nothing, and every byte still arrives after resume.
@Suite struct ChildBackpressureTests {
    /// Output far larger than a pipe (64 KiB) plus one read buffer, so the
    /// child cannot finish while ward is not reading.
    static let size = 1024 * 1024
    /// Timer ticks between samples while paused; each tick is a loop
    /// iteration in which the child had every chance to write more.
    static let tick: UInt64 = 50

    @Test func pausedChildBlocksAndResumedChildDeliversEverything() throws {
        let run = try ChildRun(["/usr/bin/head", "-c", String(Self.size), "/dev/zero"])
        var countWhenPaused: Int?
        var samples: [Int] = []
        var exitedWhilePaused = false
        let sampler = Timer(loop: run.loop)
        run.onStdout = { run in
            guard countWhenPaused == nil else { return }
            run.child.pauseOutput()
            countWhenPaused = run.stdoutCount
            sampler.start(after: Self.tick, repeating: Self.tick) {
                samples.append(run.stdoutCount)
                exitedWhilePaused = exitedWhilePaused || run.exit != nil
                if samples.count == 6 {
                    run.child.resumeOutput()
                    sampler.close()
                }
            }
        }
        run.run()

        #expect(countWhenPaused != nil)
        #expect(countWhenPaused! < Self.size)
        #expect(samples.count == 6)
        #expect(samples.allSatisfy { $0 == countWhenPaused })
        #expect(!exitedWhilePaused)
        #expect(run.stdoutCount == Self.size)
        #expect(run.exit == .exited(0))
        run.finish()
    }

    @Test func exitedChildWithUnreadOutputWaitsForResume() throws {
        // The child writes less than a pipe holds and exits; ward is paused
        // before reading anything. Nobody else holds the pipe, so the drain
        // grace must not throw the unread bytes away: the run waits.
        let size = 32 * 1024
        let run = try ChildRun(["/bin/sh", "-c", "head -c \(size) /dev/zero; printf END"])
        run.child.pauseOutput()
        // Resume once the child has exited and the drain grace has run out
        // a few times over.
        let ticksAfterExit = Int(ChildProcess.drainGrace * 3 / Self.tick)
        var ticks = 0
        let sampler = Timer(loop: run.loop)
        sampler.start(after: Self.tick, repeating: Self.tick) {
            guard run.exit != nil else { return }
            ticks += 1
            guard ticks == ticksAfterExit else { return }
            #expect(run.exit == .exited(0))
            #expect(run.stdoutCount == 0)
            #expect(run.finishedCalls == 0)
            run.child.resumeOutput()
            sampler.close()
        }
        run.run()
        #expect(run.stdoutCount == size + 3)
        #expect(run.stdoutText.hasSuffix("END"))
        #expect(run.info?.pipesForceClosed == false)
        run.finish()
    }
}
