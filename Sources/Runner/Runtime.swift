import Glibc

/// Why the runtime could not be set up.
public struct RuntimeError: Error, CustomStringConvertible {
    /// What failed, with the path and the errno name.
    public var description: String
}

/// The composition root of a ward process: one loop, the journal, the shared
/// redaction rules and the engine, wired the same way for every face.
public final class Runtime {
    /// The process's one loop.
    public let loop: EventLoop
    /// The pipeline.
    public let engine: Engine
    /// The journal's ordered writer.
    public let journal: JournalQueue
    let logger: Logger
    var signals: [SignalWatcher] = []

    /// Opens the journal (repairing a torn tail and closing out abandoned runs)
    /// and builds the engine over `registry`.
    public init(config: RunnerConfig, registry: Registry, logger: Logger) throws(RuntimeError) {
        let authKey = Runtime.authKey(config)
        let rules = RedactionRuleSet(extra: config.redactionRules)
        // From here on nothing ward logs can carry the auth key or a built-in secret.
        var keySet = SecretSet(minimumLength: config.minSecretLength)
        if let authKey { keySet.register(authKey, as: .authKey) }
        let scrubber = Redactor(rules: rules, secrets: keySet)
        logger.scrub = { scrubber.redact($0) }

        do {
            self.loop = try EventLoop()
            _ = try ProcessReaper.install(loop: loop)
        } catch {
            throw RuntimeError(description: "event loop: \(error)")
        }
        self.logger = logger
        let store = JournalStore(
            path: config.journalPath, rotateBytes: Int(config.rotateBytes),
            keepFiles: config.keepFiles)
        do {
            for event in try store.appendAbandonedEvents() {
                logger.warn(
                    "run abandoned by a ward process that died", [("run.id", event.run.run)])
            }
        } catch {
            throw RuntimeError(description: "journal: \(error)")
        }
        let live = LiveRunRecords(journalPath: config.journalPath)
        for leftover in live.killLeftovers() {
            logger.warn(
                "killed processes left by a ward process that died",
                [("run.id", leftover.run), ("processes", String(leftover.killed))])
        }
        self.journal = JournalQueue(store: store, work: WorkQueue(loop: loop))
        self.engine = Engine(
            loop: loop, registry: registry, settings: Engine.Settings(config: config),
            journal: journal, rules: rules, authKey: authKey, logger: logger)
        engine.liveRecords = live
    }

    /// The runner key when one can be found (config file, systemd credential,
    /// `WARD_AUTH_KEY`), registered for redaction in every mode so that no path
    /// out of ward can carry it; local commands run without one.
    static func authKey(_ config: RunnerConfig) -> String? {
        try? AuthKey.load(
            keyFile: config.controlPlane?.keyFile,
            environment: ChildEnvironment.currentDictionary()
        ).value
    }

    /// Runs the loop until every submitted run has finished and been journaled.
    /// SIGINT and SIGTERM cancel the runs in flight (their `finished` events
    /// still get written).
    public func runUntilIdle() {
        for sig in [WatchedSignal.interrupt, .terminate] {
            let watcher = SignalWatcher(loop: loop)
            try? watcher.start(sig) { [weak self] got in
                guard let self else { return }
                self.logger.info(
                    "signal received, cancelling runs", [("signal", SignalName.of(got.number))])
                for id in self.engine.activeRunIDs { self.engine.cancel(runID: id) }
            }
            signals.append(watcher)
        }
        while engine.activeRunCount > 0 || journal.pending > 0 {
            _ = loop.runOnce()
        }
        for s in signals { s.close() }
        signals.removeAll()
    }
}
