import CUV
import Glibc
import Testing

@testable import Runner

/// The loop and its simple handles: every test ends with the loop closed
/// and no handle left.
@Suite struct LoopTests {
    /// Checks `loop` has nothing live and closes clean.
    static func closeClean(
        _ loop: EventLoop, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        #expect(loop.liveHandleCount == 0, sourceLocation: sourceLocation)
        #expect(throws: Never.self, sourceLocation: sourceLocation) { try loop.close() }
    }

    @Test func freshLoopClosesClean() throws {
        let loop = try EventLoop()
        loop.run()
        Self.closeClean(loop)
    }

    @Test func closeRefusesWhileAHandleIsOpen() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        #expect(loop.liveHandleCount == 1)
        #expect(throws: UVError.self) { try loop.close() }
        timer.close()
        #expect(loop.liveHandleCount == 0)
        Self.closeClean(loop)
    }

    @Test func oneShotTimerFiresOnce() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var fired = 0
        timer.start(after: 1) { fired += 1 }
        loop.run()
        #expect(fired == 1)
        #expect(!timer.isActive)
        timer.close()
        Self.closeClean(loop)
    }

    @Test func repeatingTimerFiresUntilClosedFromItsOwnCallback() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var fired = 0
        timer.start(after: 0, repeating: 1) {
            fired += 1
            if fired == 5 { timer.close() }
        }
        loop.run()
        #expect(fired == 5)
        Self.closeClean(loop)
    }

    @Test func stoppedTimerDoesNotFire() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        let stopper = Timer(loop: loop)
        var fired = 0
        timer.start(after: 200) { fired += 1 }
        stopper.start(after: 0) {
            timer.stop()
            stopper.close()
        }
        loop.run()
        #expect(fired == 0)
        timer.close()
        Self.closeClean(loop)
    }

    @Test func stopReturnsFromRunWithWorkLeft() throws {
        let loop = try EventLoop()
        let timer = Timer(loop: loop)
        var fired = 0
        timer.start(after: 0, repeating: 1) {
            fired += 1
            loop.stop()
        }
        loop.run()
        #expect(fired == 1)
        #expect(timer.isActive)
        timer.close()
        Self.closeClean(loop)
    }

    @Test func signalWatcherDeliversOnTheLoop() throws {
        let loop = try EventLoop()
        let watcher = SignalWatcher(loop: loop)
        var seen: [WatchedSignal] = []
        try watcher.start(.hangup) { signal in
            seen.append(signal)
            watcher.close()
        }
        let sender = Timer(loop: loop)
        sender.start(after: 0) {
            kill(getpid(), SIGHUP)
            sender.close()
        }
        loop.run()
        #expect(seen == [.hangup])
        Self.closeClean(loop)
    }

    @Test func workRunsOffTheLoopAndCompletesOnIt() throws {
        let loop = try EventLoop()
        let queue = WorkQueue(loop: loop)
        let loopThread = pthread_self()
        var results: [Int: UInt] = [:]
        for n in 1...3 {
            try queue.submit({ (n * 10, UInt(pthread_self())) }) { value, thread in
                #expect(pthread_equal(pthread_self(), loopThread) != 0)
                results[value] = thread
            }
        }
        #expect(queue.inFlight == 3)
        loop.run()
        #expect(queue.inFlight == 0)
        #expect(Set(results.keys) == [10, 20, 30])
        #expect(results.values.allSatisfy { $0 != UInt(loopThread) })
        Self.closeClean(loop)
    }

    @Test func reaperInstallIsIdempotentAndNotCountedLive() throws {
        let loop = try EventLoop()
        let first = try ProcessReaper.install(loop: loop)
        let second = try ProcessReaper.install(loop: loop)
        #expect(first === second)
        #expect(loop.liveHandleCount == 0)
        // Unreferenced: it does not keep run() going.
        loop.run()
        Self.closeClean(loop)
    }

    @Test func setupIgnoresSIGPIPEAndMakesProcessNonDumpable() throws {
        try ProcessSetup.apply()
        try ProcessSetup.apply()
        #expect(cuv_is_dumpable() == 0)
        #expect(ChildInheritanceTests.ignoredSignals() & (1 << (UInt64(SIGPIPE) - 1)) != 0)
        #expect(ProcessReaper.isSubreaper)
    }

    @Test func errorKeepsErrnoNameMessageAndCall() {
        let error = UVError(UV_ENOENT.rawValue, call: "uv_spawn")
        #expect(error.name == "ENOENT")
        #expect(error.message == "no such file or directory")
        #expect(error.errnoValue == ENOENT)
        #expect(error.description == "uv_spawn: no such file or directory (ENOENT)")
    }
}
