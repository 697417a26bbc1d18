import CUV
import Glibc

/// One running child and everything it started. Owns the libuv process
/// handle and the two output pipes, reports output, exit and the end of the
/// run, and can terminate the whole run, including processes that left its
/// process group. It keeps itself alive until the run has finished and the
/// process handle is closed.
public final class ChildProcess {
    /// How long, after the direct child exited, a descendant may keep a pipe
    /// open before ward kills it and closes the pipe. Long enough for a
    /// background writer that is merely finishing to flush; short enough that
    /// a forgotten daemon (`sleep 300 &`) delays the result by half a second.
    public static let drainGrace: UInt64 = 500
    /// Most bytes read from a pipe in one go just before it is force-closed:
    /// a pipe holds 64 KiB by default and at most 1 MiB (F_SETPIPE_SZ as a
    /// non-root user), so this empties any pipe without stalling the loop.
    static let finalDrainLimit = 1024 * 1024

    /// The direct child's pid; also its process group and session id.
    public let pid: pid_t
    /// The program that was started, for messages.
    public let executable: String
    /// The loop the run belongs to.
    let loop: EventLoop
    /// The C process handle; freed only in its close callback.
    let process: UnsafeMutablePointer<uv_process_t>
    /// The child's stdout and stderr read ends.
    let pipes: [ChildStream: PipeReader]
    /// The pipes' inodes, to find processes holding their write ends.
    let pipeInodes: [ChildStream: UInt64]
    /// The caller's callbacks; dropped once the run has finished.
    var handlers: ChildHandlers?

    /// How the direct child ended, once it has been reaped.
    public private(set) var exitStatus: ChildExitStatus?
    /// Whether `onFinished` has been called.
    public private(set) var isFinished = false
    /// Whether output reading is paused by `pauseOutput()`.
    public private(set) var isOutputPaused = false
    /// Whether terminate() or kill() was called.
    public private(set) var isTerminating = false
    /// Whether ward closed a pipe that another process still held.
    var pipesForceClosed = false
    /// Every run member seen in any snapshot, kept so a process found while
    /// its parent lived is still found after the parent is gone.
    var knownMembers: Set<ProcessInstance> = []
    /// Members ward has sent a signal to.
    var signalledMembers: Set<ProcessInstance> = []
    /// Fires SIGKILL when a terminate grace runs out.
    var escalationTimer: Timer?
    /// Fires when the direct child exited but a pipe has not ended.
    var drainTimer: Timer?

    /// Starts `spec` on `loop`. `handlers` are called on the loop thread.
    public init(loop: EventLoop, spec: ChildSpec, handlers: ChildHandlers) throws(SpawnError) {
        do {
            try ProcessReaper.install(loop: loop)
        } catch {
            throw .failed(executable: spec.executable, error)
        }
        let launched = try ChildLauncher.launch(loop: loop, spec: spec)
        self.loop = loop
        self.pid = launched.pid
        self.executable = spec.executable
        self.process = launched.process
        self.pipes = [.stdout: launched.stdout, .stderr: launched.stderr]
        self.pipeInodes = [.stdout: launched.stdout.inode, .stderr: launched.stderr.inode]
        self.handlers = handlers

        // libuv reaps this pid; the orphan reaper must leave it alone. Both
        // run on this thread, so no SIGCHLD can be handled in between.
        ProcessReaper.track(pid)
        process.pointee.data = Unmanaged.passRetained(self).toOpaque()
        for (stream, reader) in pipes {
            reader.onBytes = { [weak self] bytes in self?.handlers?.onOutput(stream, bytes) }
            reader.onEnd = { [weak self] _ in self?.pipeEnded(stream) }
            // Both pipes are read from the start and independently, so a child
            // writing a lot to one of them never blocks on the other.
            Self.startReading(reader)
        }
    }

    /// Asks the run to stop: SIGTERM to the child's process group and to
    /// every other member found, then SIGKILL to all of them (found again)
    /// once `milliseconds` have passed. Later calls do nothing.
    public func terminate(grace milliseconds: UInt64) {
        guard !isFinished, !isTerminating else { return }
        isTerminating = true
        signalRun(SIGTERM, table: ProcessTable.all())
        let timer = Timer(loop: loop)
        escalationTimer = timer
        timer.start(after: milliseconds) { [weak self] in self?.kill() }
    }

    /// Kills the run now: SIGKILL to the group and to every member found.
    public func kill() {
        guard !isFinished else { return }
        isTerminating = true
        escalationTimer?.close()
        escalationTimer = nil
        signalRun(SIGKILL, table: ProcessTable.all())
    }

    /// Stops reading both pipes; once they fill, the child blocks in write.
    public func pauseOutput() {
        isOutputPaused = true
        for reader in pipes.values { reader.pause() }
    }

    /// Reads both pipes again after `pauseOutput()`.
    public func resumeOutput() {
        isOutputPaused = false
        for reader in pipes.values { Self.startReading(reader) }
    }

    /// Starts or resumes `reader` unless it has ended.
    private static func startReading(_ reader: PipeReader) {
        guard reader.isOpen, !reader.hasEnded else { return }
        do {
            try reader.start()
        } catch {
            // Only fails on a closing handle, which the guard rules out.
            preconditionFailure("cannot read a child's pipe: \(error)")
        }
    }

    /// Pipes whose read end is still open and not at end of file.
    var openPipeInodes: Set<UInt64> {
        Set(
            pipes.compactMap { stream, reader in
                reader.isOpen && !reader.hasEnded ? pipeInodes[stream] : nil
            })
    }

    /// Sends `signal` to the whole run as found in `table` now, plus every
    /// member found earlier that is still the same process.
    func signalRun(_ signal: Int32, table: [ProcessEntry]) {
        let found = RunMembers.find(
            root: pid, rootReaped: exitStatus != nil, pipeInodes: openPipeInodes, table: table)
        knownMembers.formUnion(found.processes.map(ProcessInstance.init))

        // Until libuv reaps the child, its pid cannot be reused, so the group
        // and the child itself are safe to signal by number.
        if exitStatus == nil {
            Glibc.kill(-pid, signal)
            Glibc.kill(pid, signal)
        }

        var current: [pid_t: ProcessEntry] = [:]
        for entry in table { current[entry.pid] = entry }
        for member in knownMembers {
            guard let entry = current[member.pid], entry.startTime == member.startTime,
                !entry.isZombie
            else { continue }
            if Glibc.kill(member.pid, signal) == 0 {
                signalledMembers.insert(member)
            }
        }
    }

    /// Called by the exit trampoline once libuv has reaped the child.
    func exited(status: Int64, signal: Int32) {
        ProcessReaper.untrack(pid)
        let ended: ChildExitStatus =
            signal != 0 ? .signaled(signal) : .exited(Int32(truncatingIfNeeded: status))
        exitStatus = ended
        // The child's jobs were just reparented to ward: note which sessions
        // they are in now, whatever order the SIGCHLD watchers run in.
        loop.reaper?.reapOrphans()

        handlers?.onExit(ended)
        if finishIfDone() { return }

        // The run goes on (a pipe is still open), so it may yet be killed: note
        // the child's background jobs, just reparented to ward, while the group
        // rule still finds them cheaply. A run that ends here never signals
        // anyone again, so it skips the /proc scan, which costs a read of
        // every process's stat file and was the largest part of a short run.
        let found = RunMembers.find(
            root: pid, rootReaped: true, pipeInodes: [], table: ProcessTable.all())
        knownMembers.formUnion(found.processes.map(ProcessInstance.init))
        armDrainTimer()
    }

    /// Waits `drainGrace` for the pipes to end after the child exited.
    private func armDrainTimer() {
        let timer = drainTimer ?? Timer(loop: loop)
        drainTimer = timer
        timer.start(after: ChildProcess.drainGrace) { [weak self] in self?.drainGraceEnded() }
    }

    /// The pipe-hold rule: a pipe still open after the drain grace is held
    /// by some other process. Kill every holder and member, read what is left
    /// and close the pipes, so the run always ends. While the caller has
    /// paused output and nobody else holds a pipe, the unread bytes are the
    /// caller's to take: keep waiting.
    private func drainGraceEnded() {
        guard !isFinished else { return }
        let table = ProcessTable.all()
        let holders = RunMembers.find(
            root: pid, rootReaped: true, pipeInodes: openPipeInodes, table: table
        ).pipeHolders
        if isOutputPaused && holders.isEmpty {
            armDrainTimer()
            return
        }

        signalRun(SIGKILL, table: table)
        for reader in pipes.values where reader.isOpen && !reader.hasEnded {
            reader.drainAvailable(limit: ChildProcess.finalDrainLimit)
            reader.close()
            pipesForceClosed = true
        }
        finishIfDone()
    }

    /// A pipe reached end of file (or failed): its read end is done.
    private func pipeEnded(_ stream: ChildStream) {
        pipes[stream]?.close()
        finishIfDone()
    }

    /// Ends the run once the child was reaped and both pipes are done:
    /// closes every handle, then calls `onFinished` exactly once.
    @discardableResult
    private func finishIfDone() -> Bool {
        if isFinished { return true }
        guard let status = exitStatus,
            pipes.values.allSatisfy({ !$0.isOpen || $0.hasEnded })
        else { return false }
        // Whatever the run left in its own group (a background job that
        // closed its output, say) or elsewhere in its session (a job that
        // job control gave a group of its own, adopted by ward when its
        // parent exited) ends with the run, so no process outlives it. One
        // probe in the usual case, where both are empty.
        let orphaned = loop.reaper?.liveOrphanSessions.contains(pid) ?? false
        if orphaned || Glibc.kill(-pid, 0) == 0 {
            signalRun(SIGKILL, table: ProcessTable.all())
        }
        isFinished = true

        escalationTimer?.close()
        drainTimer?.close()
        escalationTimer = nil
        drainTimer = nil
        for reader in pipes.values { reader.close() }
        uv_close(
            UnsafeMutableRawPointer(process).assumingMemoryBound(to: uv_handle_t.self),
            Trampolines.processClosed)

        var info = ExitInfo(
            exitCode: nil, signal: nil, pipesForceClosed: pipesForceClosed,
            descendantsKilled: signalledMembers.count)
        switch status {
        case .exited(let code): info.exitCode = code
        case .signaled(let number): info.signal = number
        }
        let done = handlers?.onFinished
        handlers = nil
        done?(info)
        return true
    }

    /// Called by the close trampoline: frees the handle and drops the +1.
    func closed() {
        let retained = process.pointee.data
        process.deallocate()
        Unmanaged<ChildProcess>.fromOpaque(retained!).release()
    }
}
