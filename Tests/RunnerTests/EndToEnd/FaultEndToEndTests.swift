import Glibc
import Testing

@testable import Runner

/// Faults around `ward connect`: the control plane restarting, ward killed with
/// runs in flight, a full journal disk, few descriptors, misbehaving children
/// and a full house of concurrent runs. Each checks nothing is lost or leaked.
@Suite(.serialized, .enabled(if: CloudHarness.hasVenv, "needs .venv (make venv)"))
nonisolated struct FaultEndToEndTests {
    /// Size of the journal's tmpfs: room for a few events, so a ballast file
    /// can fill it completely.
    static let tmpfsOptions = "size=64k"
    /// Runs sent into the full disk before one must be refused: the slack of
    /// the journal file's last 4 KiB page holds only a few events.
    static let runsUntilFull = 20

    @Test func controlPlaneRestartOnTheSamePortGetsTheResultOnce() throws {
        let first = try CloudHarness()
        try first.startWard()
        #expect(first.connected())
        first.send("run cloud.lines n=40 pause=0.05 --reason restart --id rs-1")
        #expect(first.wait { first.lineTexts("rs-1").count >= 3 })
        kill(first.peerPID, SIGKILL)
        // Same state folder (so the same CA and key) and the same port.
        let second = try CloudHarness(peerFlags: [
            "--state-dir", first.dir.path + "/cp", "--port", "\(first.port)",
        ])
        #expect(second.url == first.url)
        #expect(second.connected(), "no reconnect; log:\n\(first.wardLog)")
        let result = try #require(second.result("rs-1"))
        #expect(result["outcome"]?.stringValue == "exited")
        #expect(result["counts"]?["stdout"]?["lines"]?.intValue == 40)
        #expect(second.lineTexts("rs-1").last == "line 40")
        // Delivered once: the old control plane never saw it, the new one once.
        #expect(first.received("run.finished", run: "rs-1").isEmpty)
        #expect(second.wait { second.received("run.finished", run: "rs-1").count == 1 })
        #expect(first.journal("started", run: "rs-1").count == 1)
        #expect(first.journal("finished", run: "rs-1").count == 1)
        #expect(first.stopWard() == 0)
        #expect(first.verifyJournal().status == 0)
    }

    @Test func sigkilledWardLeavesAbandonedRunsAndNoChildrenAfterRestart() throws {
        let h = try CloudHarness()
        try h.startWard()
        #expect(h.connected())
        let runs = ["kill-1", "kill-2", "kill-3"]
        for run in runs { h.send("run cloud.wait seconds=300 --reason sigkill --id \(run)") }
        #expect(h.wait { runs.allSatisfy { h.waitingPID($0) != nil } })
        let pids = runs.compactMap(h.waitingPID)
        #expect(pids.count == runs.count && pids.allSatisfy(processExists))
        #expect(h.stopWard(SIGKILL) == 128 + SIGKILL)

        try h.startWard()
        #expect(h.connected(count: 2), "log:\n\(h.wardLog)")
        var gone = false
        for _ in 0..<250 where !gone {
            gone = !pids.contains(where: processExists)
            if !gone { usleep(CloudHarness.pollMicroseconds) }
        }
        #expect(gone, "children \(pids) outlived the killed ward")
        for run in runs {
            #expect(h.journal("abandoned", run: run).count == 1)
            #expect(h.journal("finished", run: run).isEmpty)
        }
        // A control plane asking again learns the run was abandoned; nothing reruns.
        h.send("run cloud.wait seconds=300 --reason again --id kill-1")
        #expect(h.wait { h.received("run.finished", run: "kill-1").count == 1 })
        let replay = try #require(h.received("run.finished", run: "kill-1").first)
        #expect(replay["outcome"]?.stringValue == "abandoned")
        #expect(replay["replayed"]?.boolValue == true)
        #expect(h.journal("started", run: "kill-1").count == 1)
        #expect(h.stopWard() == 0)
        let verify = h.verifyJournal()
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func fullJournalDiskRefusesRunsUnjournaledAndRecoversWhenSpaceReturns() throws {
        let h = try CloudHarness()
        let journalDir = h.dir.path + "/journal"
        _ = WardProcess.exec(["/bin/mkdir", "-p", journalDir])
        guard mount("tmpfs", journalDir, "tmpfs", 0, Self.tmpfsOptions) == 0 else {
            print("FaultEndToEndTests: cannot mount a tmpfs (\(errnoName(errno))); skipped")
            return
        }
        defer { umount2(journalDir, Int32(MNT_DETACH)) }
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        h.send("run e2e.echo message=before --reason disk --id df-1")
        #expect(h.result("df-1")?["outcome"]?.stringValue == "exited")

        // Fill every free block: dd stops at ENOSPC.
        _ = WardProcess.exec([
            "/bin/dd", "if=/dev/zero", "of=\(journalDir)/ballast", "bs=4096",
        ])
        // The journal file's last page still has room for an event or two, so
        // runs go on until the first append fails; that run must not execute.
        var refusedRun: String?
        for i in 1...Self.runsUntilFull where refusedRun == nil {
            let run = "df-full-\(i)"
            h.send("run e2e.echo message=full --reason disk --id \(run)")
            let answer = try #require(h.result(run))
            if answer["type"]?.stringValue == "run.refused" { refusedRun = run }
        }
        let run = try #require(refusedRun, "the journal never filled up")
        let refused = try #require(h.result(run))
        #expect(refused["code"]?.stringValue == "journal_unavailable")
        #expect(refused["journal"] == .null)
        #expect(h.received("run.accepted", run: run).isEmpty)
        #expect(h.lineTexts(run).isEmpty)
        #expect(h.journal("started", run: run).isEmpty)
        #expect(h.waitWardExit(polls: 1) == nil)

        unlink(journalDir + "/ballast")
        h.send("run e2e.echo message=after --reason disk --id df-3")
        #expect(h.result("df-3")?["outcome"]?.stringValue == "exited", "log:\n\(h.wardLog)")
        #expect(h.lineTexts("df-3") == ["after"])
        #expect(h.stopWard() == 0)
        let verify = h.verifyJournal()
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func unwritableJournalRefusesRunsAndRecoversWhenWritableAgain() throws {
        // Root writes through any file mode, so the journal is made unwritable
        // with a read-only mount, which stops root too.
        let h = try CloudHarness()
        let journalDir = h.dir.path + "/journal"
        _ = WardProcess.exec(["/bin/mkdir", "-p", journalDir])
        guard mount("tmpfs", journalDir, "tmpfs", 0, Self.tmpfsOptions) == 0 else {
            print("FaultEndToEndTests: cannot mount a tmpfs (\(errnoName(errno))); skipped")
            return
        }
        defer { umount2(journalDir, Int32(MNT_DETACH)) }
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        h.send("run e2e.echo message=before --reason ro --id ro-1")
        #expect(h.result("ro-1")?["outcome"]?.stringValue == "exited")

        // A read-only bind mount over the folder: new opens (each append opens
        // the file) fail with EROFS, while the descriptors ward holds stay.
        try #require(mount(journalDir, journalDir, nil, UInt(MS_BIND), nil) == 0)
        let readOnly = UInt(MS_REMOUNT) | UInt(MS_BIND) | UInt(MS_RDONLY)
        try #require(mount(nil, journalDir, nil, readOnly, nil) == 0, "\(errnoName(errno))")
        h.send("run e2e.echo message=never --reason ro --id ro-2")
        let refused = try #require(h.result("ro-2"))
        #expect(refused["code"]?.stringValue == "journal_unavailable", "\(refused)")
        #expect(h.received("run.accepted", run: "ro-2").isEmpty)
        #expect(h.lineTexts("ro-2").isEmpty)

        try #require(umount2(journalDir, 0) == 0, "\(errnoName(errno))")
        h.send("run e2e.echo message=after --reason ro --id ro-3")
        #expect(h.result("ro-3")?["outcome"]?.stringValue == "exited", "log:\n\(h.wardLog)")
        #expect(h.journal("started", run: "ro-2").isEmpty)
        #expect(h.stopWard() == 0, "log:\n\(h.wardLog)")
        let verify = h.verifyJournal()
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func fewDescriptorsGiveClearErrorsAndNoCrash() throws {
        let h = try CloudHarness()
        h.writeConfig()
        h.setMaxConcurrentRuns(32)
        try h.startWardLimited(openFiles: 40)
        #expect(h.connected(), "log:\n\(h.wardLog)")
        let runs = (1...24).map { "fd-\($0)" }
        for run in runs { h.send("run cloud.wait seconds=300 --reason fds --id \(run)") }
        // Every request is answered: started, refused, or failed to start.
        #expect(
            h.wait {
                runs.allSatisfy { run in
                    h.waitingPID(run) != nil || !h.received("run.finished", run: run).isEmpty
                        || !h.received("run.refused", run: run).isEmpty
                }
            }, "log:\n\(h.wardLog)")
        let failed = runs.filter { h.waitingPID($0) == nil }
        #expect(!failed.isEmpty, "40 descriptors were enough for 24 runs; the test shows nothing")
        for run in failed {
            let answer = try #require(
                h.received("run.finished", run: run).first
                    ?? h.received("run.refused", run: run)
                    .first)
            let text = JSONWriter.string(answer)
            #expect(
                text.contains("EMFILE") || text.contains("too many open files")
                    || text.contains("Too many open files"), "\(text)")
        }
        // ward is alive and the link is up: cancelling frees descriptors for a new run.
        #expect(h.waitWardExit(polls: 1) == nil)
        for run in runs where h.waitingPID(run) != nil { h.send("cancel \(run)") }
        #expect(
            h.wait {
                runs.allSatisfy {
                    !h.received("run.finished", run: $0).isEmpty
                        || !h.received("run.refused", run: $0).isEmpty
                }
            })
        h.send("run e2e.echo message=recovered --reason fds --id fd-after")
        #expect(h.result("fd-after")?["outcome"]?.stringValue == "exited", "log:\n\(h.wardLog)")
        #expect(h.stopWard() == 0)
    }

    @Test func childThatClosesStdoutButKeepsRunningIsFollowedToItsExit() throws {
        let h = try CloudHarness()
        h.writeConfig(morePacks: [FaultPack.write(into: h.dir)])
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        h.send("run fault.closeout --reason closed stdout --id co-1")
        let result = try #require(h.result("co-1"))
        #expect(result["outcome"]?.stringValue == "exited")
        #expect(result["exit_code"]?.intValue == 0)
        // The stderr line came a second after stdout closed: the run waited for it.
        #expect(h.lineTexts("co-1") == ["before", "still-running"])
    }

    @Test func hundredMebibytesWithoutANewlineAreChunkedInBoundedMemory() throws {
        let h = try CloudHarness(peerFlags: ["--summarize-output"])
        h.writeConfig(timings: ["heartbeat_ms": 60_000], morePacks: [FaultPack.write(into: h.dir)])
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        h.send("run fault.noeol --reason no newline --id ne-1")
        var peak = 0
        let finished = h.wait(polls: 30_000) {
            peak = max(peak, h.wardRSSKiB ?? 0)
            return !h.received("run.finished", run: "ne-1").isEmpty
        }
        #expect(finished)
        let result = try #require(h.received("run.finished", run: "ne-1").first)
        #expect(result["outcome"]?.stringValue == "exited")
        #expect(result["counts"]?["stdout"]?["bytes"]?.intValue == 100 << 20)
        // 100 MiB in 64 KiB pieces: 1600 lines, never one 100 MiB buffer.
        #expect(result["counts"]?["stdout"]?["lines"]?.intValue == 1600)
        #expect(peak < 64 << 10, "ward's resident memory peaked at \(peak) KiB")
        #expect(h.waitWardExit(polls: 1) == nil)
    }

    // This test found a crash: the idle-line flush reached a run whose streams
    // were finished while its `finished` event was being written (a wide window
    // with 64 runs ending together), and ward stopped on a precondition.
    @Test func sixtyFourConcurrentRunsAllFinishAndTheNextIsBusy() throws {
        let h = try CloudHarness()
        h.writeConfig()
        h.setMaxConcurrentRuns(64)
        try h.startWard()
        #expect(h.connected(), "log:\n\(h.wardLog)")
        let runs = (1...64).map { "cc-\($0)" }
        for run in runs { h.send("run cloud.lines n=40 pause=0.1 --reason many --id \(run)") }
        #expect(h.wait { runs.allSatisfy { !h.journal("started", run: $0).isEmpty } })
        h.send("run e2e.echo message=one-too-many --reason many --id cc-65")
        let busy = try #require(h.result("cc-65"))
        #expect(busy["code"]?.stringValue == "busy")
        for run in runs {
            let result = try #require(
                h.result(run),
                """
                no result for \(run): accepted \(h.received("run.accepted", run: run).count), \
                journal finished \(h.journal("finished", run: run).count), \
                lines \(h.lineTexts(run).count), disconnects \(h.events("disconnected").count); \
                ward: \(h.wardLog.split(separator: "\n").filter { $0.contains("level=error") || $0.contains("crash") || $0.contains("Precondition") }.joined(separator: "\n"))
                """)
            #expect(result["outcome"]?.stringValue == "exited")
            #expect(h.lineTexts(run) == (1...40).map { "line \($0)" })
            #expect(h.received("run.finished", run: run).count == 1)
        }
        #expect(h.stopWard() == 0)
        #expect(h.verifyJournal().status == 0)
    }
}
