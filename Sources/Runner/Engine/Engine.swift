import Glibc

/// The only place the pipeline lives: every face hands its `RunRequest` here and
/// receives lines and results through a `RunSink`. Validation, clamping, the
/// journal's write-ahead, execution, redaction and output caps all happen here,
/// so no face can skip one.
public final class Engine {
    /// Limits the engine enforces, from the runner's config.
    public struct Settings {
        /// Runs in flight at once; one more is refused as busy.
        public var maxConcurrentRuns: Int
        /// SIGTERM to SIGKILL grace on timeout and cancel.
        public var killGraceMilliseconds: Int64
        /// Shortest secret argument accepted (and registered for redaction).
        public var minSecretLength: Int

        /// Settings taken from `config`.
        public init(config: RunnerConfig) {
            maxConcurrentRuns = config.maxConcurrentRuns
            killGraceMilliseconds = config.killGraceMilliseconds
            minSecretLength = config.minSecretLength
        }
    }

    /// A partial line that has seen no new bytes for this long is flushed (minus
    /// the holdback that protects a secret split at the flush point), so slow
    /// progress output still shows up.
    public static let idleFlushMilliseconds: Int64 = 250
    /// How often the engine looks for idle partial lines while runs are active.
    static let idleCheckMilliseconds: UInt64 = 100

    let loop: EventLoop
    /// The loaded actions; replaced on reload.
    public var registry: Registry
    let settings: Settings
    let journal: JournalQueue
    let rules: RedactionRuleSet
    let authKey: String?
    let logger: Logger
    let identity: ProcessIdentity
    var active: [String: ActiveRun] = [:]
    var idleTimer: Timer?
    /// Where each running child is recorded for a successor ward, when set.
    public var liveRecords: LiveRunRecords?
    /// False once the process is shutting down: every new request is refused
    /// with `shutting_down` (and journaled).
    public var acceptingRuns = true
    /// While true, no child's pipes are read (a child that fills its pipe
    /// blocks in write): the daemon's backpressure when its link is slow.
    /// Runs started meanwhile start paused.
    public var outputPaused = false {
        didSet {
            guard outputPaused != oldValue else { return }
            // A run being terminated is never paused: its pipes must drain to
            // their end for it to finish, and what it prints then only goes to
            // bounded buffers.
            for state in active.values where !state.terminating {
                if outputPaused { state.child?.pauseOutput() } else { state.child?.resumeOutput() }
            }
        }
    }

    /// An engine over `registry` writing to `journal`.
    public init(
        loop: EventLoop, registry: Registry, settings: Settings, journal: JournalQueue,
        rules: RedactionRuleSet, authKey: String?, logger: Logger
    ) {
        self.loop = loop
        self.registry = registry
        self.settings = settings
        self.journal = journal
        self.rules = rules
        self.authKey = authKey
        self.logger = logger
        self.identity = ProcessIdentity.current()
    }

    /// Runs in flight (journaling, running or finishing).
    public var activeRunCount: Int { active.count }

    /// Ids of the runs in flight.
    public var activeRunIDs: [String] { Array(active.keys) }

    /// A redactor over the shared rules, `actionRules` and the given secrets plus
    /// ward's own auth key, for everything one run (or one refusal) emits.
    func redactor(secrets: [(name: String, value: String)], actionRules: [RedactionRuleSpec])
        -> Redactor
    {
        var set = SecretSet(minimumLength: settings.minSecretLength)
        for (name, value) in secrets { set.register(value, as: .argument(name)) }
        if let authKey { set.register(authKey, as: .authKey) }
        return Redactor(rules: rules, actionRules: actionRules, secrets: set)
    }

    /// Validates, journals and starts `request`; every outcome reaches `sink`.
    public func submit(_ request: RunRequest, sink: RunSink) {
        guard acceptingRuns else {
            refuse(request, Refusal(.shuttingDown, "ward is shutting down"), sink: sink)
            return
        }
        let validator = Validator(minSecretLength: settings.minSecretLength)
        let run: ValidatedRun
        switch validator.validate(request, in: registry) {
        case .failure(let refusal):
            refuse(request, refusal, sink: sink)
            return
        case .success(let v): run = v
        }
        if active[request.id] != nil {
            refuse(
                request, Refusal(.duplicateRun, "run \(request.id) is already in flight"),
                sink: sink)
            return
        }
        if active.count >= settings.maxConcurrentRuns {
            refuse(
                request,
                Refusal(
                    .busy,
                    "\(active.count) runs in flight, the limit is \(settings.maxConcurrentRuns)"),
                sink: sink)
            return
        }

        var slot: ActionSlots.Slot?
        if let limit = run.action.concurrency {
            switch ActionSlots(journalPath: journal.files.path).acquire(
                action: run.action.name, limit: limit, runID: request.id)
            {
            case .success(let s): slot = s
            case .failure(.full(let holders)):
                let runs = limit == 1 ? "1 run" : "\(limit) runs"
                refuse(
                    request,
                    Refusal(
                        .busy,
                        "\(run.action.name) allows \(runs) at a time on this host; in flight: "
                            + holders.joined(separator: ", ")), sink: sink)
                return
            case .failure(.unusable(let why)):
                refuse(
                    request,
                    Refusal(
                        .journalUnavailable,
                        "the action's concurrency limit cannot be checked, so it was not run: "
                            + why), sink: sink)
                return
            }
        }

        let redactor = redactor(secrets: run.secrets, actionRules: run.action.redaction)
        let state = ActiveRun(request: request, run: run, redactor: redactor, sink: sink)
        state.slot = slot
        active[request.id] = state
        journal.append(event: "started", fields: startedFields(state), uniqueRun: request.id) {
            [self] result in
            let error: JournalError
            switch result {
            case .success(let head):
                spawn(state, head: head)
                return
            case .failure(let e): error = e
            }
            state.slot?.release()
            active[request.id] = nil
            switch error {
            case .runAlreadyStarted:
                // A CLI run or an MCP session used this id after this process
                // read the journal: at most once per id, whoever asked first.
                refuse(
                    request,
                    Refusal(
                        .duplicateRun,
                        "run \(request.id) was started by another ward process on this host;"
                            + " it is not run again"), sink: sink)
            case .lineTooLarge(_, let bytes, let limit):
                // The request itself is too large to record (long values, each
                // in `args` and again in `argv`): refused as invalid, and the
                // refusal, which is bounded, is journaled instead.
                refuse(request, Engine.tooLargeToRecord(bytes, limit), sink: sink)
            default:
                logger.error(
                    "journal unavailable, run refused",
                    [("run.id", request.id), ("error", "\(error)")])
                sink.runRefused(
                    request,
                    Refusal(
                        .journalUnavailable,
                        "the journal cannot record the run, so it was not run: \(error)"),
                    journal: nil)
            }
        }
    }

    /// Cancels run `id`: its process group is terminated. A run whose
    /// `started` event is still being written is never spawned and ends as
    /// cancelled. False when no such run is in flight.
    @discardableResult
    public func cancel(runID id: String) -> Bool {
        guard let state = active[id] else { return false }
        if state.endReason == nil { state.endReason = .cancelled }
        if let child = state.child { terminate(state, child) }
        return true
    }

    // MARK: - Lifecycle of one run

    func spawn(_ state: ActiveRun, head: JournalHead) {
        let run = state.run
        let info = RunInfo(
            id: state.request.id, action: run.action.name,
            argv: run.argv.map { state.redactor.redact($0) }, options: run.options, journal: head)
        state.info = info
        if state.endReason == .cancelled {
            // Cancelled while `started` was being written: nothing is spawned.
            logger.info("run cancelled before it started", [("run.id", info.id)])
            state.sink.runStarted(info)
            finish(state, exit: nil, spawnError: nil)
            return
        }
        var executable = run.argv[0]
        var argv = run.argv
        if !run.action.limits.isEmpty {
            // The limits are applied by ward's own pre-exec step, which then
            // execs the program; check the program here so a missing one still
            // fails to start rather than exiting 127 from the step.
            if access(executable, X_OK) != 0 {
                let why = String(cString: strerror(errno))
                state.sink.runStarted(info)
                finish(state, exit: nil, spawnError: "cannot execute \(executable): \(why)")
                return
            }
            executable = LimitShim.selfPath
            argv = LimitShim.argv(limits: run.action.orderedLimits, program: run.argv)
        }
        let spec = ChildSpec(
            executable: executable, argv: argv,
            environment: ChildEnvironment.build(
                passthrough: run.action.environment.passthrough,
                set: run.setEnvironment.map { ($0.name, $0.value) }),
            workingDirectory: run.action.workingDirectory)
        state.startedAt = Clock.monotonicMilliseconds()
        do {
            let handlers = ChildHandlers(
                onOutput: { [weak self, weak state] stream, bytes in
                    guard let self, let state else { return }
                    self.output(state, stream: stream == .stdout ? .stdout : .stderr, bytes: bytes)
                },
                onFinished: { [weak self, weak state] exit in
                    guard let self, let state else { return }
                    self.finish(state, exit: exit, spawnError: nil)
                })
            let child = try ChildProcess(loop: loop, spec: spec, handlers: handlers)
            state.child = child
            if outputPaused { child.pauseOutput() }
            liveRecords?.record(runID: state.request.id, child: child.pid, owner: identity)
        } catch {
            state.sink.runStarted(info)
            finish(state, exit: nil, spawnError: state.redactor.redact("\(error)"))
            return
        }
        logger.info(
            "run started",
            [
                ("run.id", info.id), ("action", info.action),
                ("origin", state.request.origin.rawValue),
            ])
        state.sink.runStarted(info)

        let timeout = UInt64(run.option(.timeoutS)) * 1000
        let timer = Timer(loop: loop)
        timer.start(after: timeout) { [weak self, weak state] in
            guard let self, let state, let child = state.child else { return }
            if state.endReason == nil { state.endReason = .timedOut }
            self.logger.info("run timed out", [("run.id", state.request.id)])
            self.terminate(state, child)
        }
        state.timeoutTimer = timer
        ensureIdleTimer()
    }

    /// Terminates `state`'s process group (TERM, then KILL after the grace)
    /// and reads its pipes again if they were paused, so it can end.
    func terminate(_ state: ActiveRun, _ child: ChildProcess) {
        state.terminating = true
        child.resumeOutput()
        child.terminate(grace: UInt64(settings.killGraceMilliseconds))
    }

    func output(_ state: ActiveRun, stream: OutputLine.Stream, bytes: UnsafeRawBufferPointer) {
        state.lastInput[stream] = Clock.monotonicMilliseconds()
        deliver(state, state.processor(stream).feed(bytes))
    }

    /// Hands the lines the cap lets through to the sink: the batch as it is
    /// when the cap takes every line (nearly always), so no line is copied.
    /// A loop rather than `filter`, whose closure would be called (and its
    /// actor isolation checked) once per line.
    func deliver(_ state: ActiveRun, _ lines: [OutputLine]) {
        guard let info = state.info else { return }
        var forwarded: [OutputLine]?
        for i in lines.indices {
            let decision = state.cap.offer(lines[i])
            if forwarded == nil {
                if decision == .forward { continue }
                forwarded = Array(lines[..<i])
            } else if decision == .forward {
                forwarded?.append(lines[i])
            }
        }
        let batch = forwarded ?? lines
        if !batch.isEmpty { state.sink.runOutput(info, batch) }
    }

    func finish(_ state: ActiveRun, exit: ExitInfo?, spawnError: String?) {
        state.timeoutTimer?.close()
        state.timeoutTimer = nil
        // The output is complete from here on; the run stays in `active` until
        // its `finished` event is written, and the idle flush must skip it.
        state.outputFinished = true
        state.lastInput = [:]
        deliver(state, state.stdout.finish())
        deliver(state, state.stderr.finish())
        if let info = state.info {
            let end = state.cap.finish()
            if let gap = end.gap { state.sink.runOutputDropped(info, gap) }
            if !end.tail.isEmpty { state.sink.runOutput(info, end.tail) }
        }

        let ended = Clock.monotonicMilliseconds()
        let outcome: Outcome =
            spawnError != nil ? .failedToStart : (state.endReason ?? .exited)
        var result = RunResult(
            runID: state.request.id, action: state.run.action.name, outcome: outcome,
            exitCode: exit?.exitCode, signal: exit?.signal.map(SignalName.of),
            durationMilliseconds: state.startedAt.map { ended - $0 } ?? 0,
            options: state.run.options, counts: state.cap.counts.json, error: spawnError,
            warnings: state.redactor.secrets.notMaskedWarnings, journalSeq: nil, journalHash: nil,
            journalError: nil)
        if outcome == .exited, state.run.action.limits[.cpuSeconds] != nil,
            let signal = exit?.signal, signal == SIGXCPU || signal == SIGKILL
        {
            // SIGXCPU comes only from the CPU limit; ward did not send SIGKILL
            // either (that would be a timeout or a cancel), so it is the hard
            // CPU limit, or else the kernel's OOM killer.
            result.outcome = .limitExceeded
            result.limit = ChildLimit.cpuSeconds.rawValue
        }
        journal.append(event: "finished", fields: finishedFields(state, result, exit: exit)) {
            [self] written in
            switch written {
            case .success(let head):
                result.journalSeq = head.seq
                result.journalHash = head.hash
            case .failure(let error):
                result.journalError = "\(error)"
                logger.error(
                    "journal write failed", [("run.id", result.runID), ("error", "\(error)")])
            }
            active[state.request.id] = nil
            state.slot?.release()
            if state.child != nil { liveRecords?.remove(runID: state.request.id) }
            state.child = nil
            logger.info(
                "run finished",
                [
                    ("run.id", result.runID), ("action", result.action),
                    ("outcome", result.outcome.rawValue),
                    ("exit_code", result.exitCode.map { String($0) } ?? "-"),
                    ("duration_ms", String(result.durationMilliseconds)),
                ])
            if let info = state.info { state.sink.runFinished(info, result) }
            stopIdleTimerIfUnused()
        }
    }

    /// The refusal of a request whose `started` or `planned` line would pass
    /// the journal's line limit.
    static func tooLargeToRecord(_ bytes: Int, _ limit: Int) -> Refusal {
        Refusal(
            .invalidRequest,
            "the request is too large to journal: its line would be \(bytes) bytes, over the"
                + " \(limit)-byte limit; send shorter argument values")
    }

    /// Hands a refusal to its sink once its journal line is written (or not).
    private func settleRefusal(
        _ request: RunRequest, _ refusal: Refusal, sink: RunSink,
        _ result: Result<JournalHead, JournalError>
    ) {
        if case .failure(let error) = result {
            logger.error("journal write failed", [("run.id", request.id), ("error", "\(error)")])
        }
        sink.runRefused(request, refusal, journal: try? result.get())
    }

    /// A refused event cut to what identifies the attempt: its run, action,
    /// origin, requester, code and message (each bounded), and how many
    /// errors it had.
    static func brief(_ fields: JSONObject) -> JSONObject {
        var o = JSONObject()
        for key in ["run", "action", "origin", "requester", "code"] {
            if let v = fields[key]?.stringValue { o[key] = .string(cut(v)) }
        }
        if let m = fields["message"]?.stringValue { o["message"] = .string(cut(m, to: 1024)) }
        o["errors"] = .int(Int64(fields["errors"]?.arrayValue?.count ?? 0))
        o["cut"] = .bool(true)
        return o
    }

    /// Refuses `request` for a reason a face found (a run id already recorded,
    /// say): journaled like every refusal, then reported to `sink`.
    public func refuse(_ request: RunRequest, _ refusal: Refusal, sink: RunSink) {
        logger.info(
            "run refused",
            [("run.id", request.id), ("action", request.action), ("code", refusal.code.rawValue)])
        let fields = refusedFields(request, refusal)
        journal.append(event: "refused", fields: fields) { [self] result in
            if case .failure(.lineTooLarge) = result {
                // Every field is bounded, so this should not happen; if it does,
                // the attempt is still journaled, with what identifies it.
                journal.append(event: "refused", fields: Engine.brief(fields)) { [self] retry in
                    settleRefusal(request, refusal, sink: sink, retry)
                }
                return
            }
            settleRefusal(request, refusal, sink: sink, result)
        }
    }

    // MARK: - Idle partial lines

    func ensureIdleTimer() {
        guard idleTimer == nil else { return }
        let timer = Timer(loop: loop)
        timer.start(after: Engine.idleCheckMilliseconds, repeating: Engine.idleCheckMilliseconds) {
            [weak self] in
            self?.flushIdleLines()
        }
        idleTimer = timer
    }

    func stopIdleTimerIfUnused() {
        guard active.isEmpty, let timer = idleTimer else { return }
        timer.close()
        idleTimer = nil
    }

    func flushIdleLines() {
        let now = Clock.monotonicMilliseconds()
        for state in active.values where state.child != nil && !state.outputFinished {
            for stream in [OutputLine.Stream.stdout, .stderr] {
                guard let last = state.lastInput[stream],
                    now - last >= Engine.idleFlushMilliseconds
                else { continue }
                state.lastInput[stream] = nil
                deliver(state, state.processor(stream).idleFlush())
            }
        }
    }
}

/// The engine's bookkeeping for one run in flight.
final class ActiveRun {
    let request: RunRequest
    let run: ValidatedRun
    let redactor: Redactor
    let sink: RunSink
    let stdout: StreamProcessor
    let stderr: StreamProcessor
    var cap: OutputCap
    var info: RunInfo?
    var child: ChildProcess?
    var timeoutTimer: Timer?
    var startedAt: Int64?
    var endReason: Outcome?
    /// Set once the run's process group is being terminated.
    var terminating = false
    /// Set once both streams were finished (the run is writing `finished`).
    var outputFinished = false
    /// The action's concurrency slot, held until the run's end is journaled.
    var slot: ActionSlots.Slot?
    var lastInput: [OutputLine.Stream: Int64] = [:]

    init(request: RunRequest, run: ValidatedRun, redactor: Redactor, sink: RunSink) {
        self.request = request
        self.run = run
        self.redactor = redactor
        self.sink = sink
        stdout = StreamProcessor(stream: .stdout, redactor: redactor)
        stderr = StreamProcessor(stream: .stderr, redactor: redactor)
        cap = OutputCap(
            maxBytes: Int(run.option(.maxOutputBytes)), maxLines: Int(run.option(.maxOutputLines)))
    }

    func processor(_ stream: OutputLine.Stream) -> StreamProcessor {
        stream == .stdout ? stdout : stderr
    }
}

extension SecretSet {
    /// Each secret that could not be registered, by name and reason, never value.
    var notMaskedWarnings: [JSONValue] {
        registrations.compactMap { r in
            r.reason.map {
                ["secret_not_masked": .string(r.owner.name), "reason": .string($0.rawValue)]
            }
        }
    }
}
