import Glibc
import Runner

/// `ward connect`: the daemon. Dials the control plane and runs what it asks
/// until SIGTERM or SIGINT; SIGHUP reloads the packs.
enum ConnectCommand {
    static func run(_ words: [String], _ globals: GlobalOptions) throws(CommandFailure) -> ExitCode
    {
        let o = try ArgumentParser.parse(words, specs: [], command: "connect")
        if o.flag("help") {
            Terminal.out(Help.connect)
            return .ok
        }
        guard o.positionals.isEmpty else {
            throw ArgumentParser.usage("connect", "takes no arguments")
        }
        let (config, registry) = try globals.loadRegistry()
        let logger = Logger(
            level: globals.logLevel ?? config.logLevel,
            format: globals.logFormat ?? config.logFormat)
        let settings = try linkSettings(config)

        let runtime: Runtime
        do {
            runtime = try Runtime(config: config, registry: registry, logger: logger)
        } catch {
            throw CommandFailure(.journal, "ward connect: \(error)")
        }
        let history = RunHistory.startedIDs(in: runtime.journal.files)
        logger.info(
            "journal read",
            [
                ("path", config.journalPath), ("runs_recorded", String(history.count)),
                ("head_seq", runtime.journal.head.map { String($0.seq) } ?? "-"),
            ])
        let document = state(config, registry)
        if let problem = stateProblem(document) {
            throw CommandFailure(.config, "ward connect: \(problem)")
        }
        let link = CloudLink(
            runtime: runtime, settings: settings, state: document, history: history,
            logger: logger)
        let daemon = Daemon(
            runtime: runtime, link: link, globals: globals, config: config, logger: logger)
        daemon.run()
        return .ok
    }

    /// The link's settings from the config, or the reason they cannot be made.
    static func linkSettings(_ config: RunnerConfig) throws(CommandFailure) -> CloudLink.Settings {
        guard let cp = config.controlPlane else {
            throw CommandFailure(
                .config,
                "ward connect: the config has no control_plane section (see docs/config.md)")
        }
        let endpoint: ControlPlaneEndpoint
        switch cp.endpoint {
        case .success(let e): endpoint = e
        case .failure(let problem):
            throw CommandFailure(.config, "ward connect: control_plane.url: \(problem.message)")
        }
        let environment = ChildEnvironment.currentDictionary()
        let key: AuthKey
        do {
            key = try AuthKey.load(keyFile: cp.keyFile, environment: environment)
        } catch {
            throw CommandFailure(.config, "ward connect: \(error)")
        }
        var tls: TLSContext?
        if endpoint.secure {
            let trust: TLSTrust =
                cp.pinnedCAFile.map { .pinnedCA(path: $0) } ?? cp.caFile.map { .caBundle(path: $0) }
                ?? .systemStore
            do {
                tls = try TLSContext(trust: trust)
            } catch {
                throw CommandFailure(.config, "ward connect: TLS: \(error)")
            }
        }
        let proxy: ProxySettings
        do {
            proxy = try ProxySettings.resolve(configProxy: cp.proxy, environment: environment)
        } catch {
            throw CommandFailure(.config, "ward connect: \(error)")
        }
        return CloudLink.Settings(
            endpoint: endpoint, tls: tls, proxy: proxy, authKey: key.value, config: cp)
    }

    /// Most bytes the state document may take: `hello` carries it with the
    /// session, the journal head, up to 1,024 run ids in flight and up to
    /// 1,024 unacknowledged (128 bytes each at most, quoted, with a comma:
    /// 268,288 bytes for both lists), in one message of at most
    /// `WireProtocol.maxMessageBytes`; 320 KiB are kept for all of that.
    static let maxStateBytes = WireProtocol.maxMessageBytes - 320 * 1024

    /// Why `document` cannot be advertised, or nil when it fits.
    static func stateProblem(_ document: JSONValue) -> String? {
        // `hello` carries the runner block twice: on its own and in the state.
        let size =
            JSONWriter.bytes(document).count
            + (document["runner"].map { JSONWriter.bytes($0).count } ?? 0)
        guard size > maxStateBytes else { return nil }
        return "the packs' state document is \(size) bytes, more than the \(maxStateBytes) that"
            + " fit in hello under the wire protocol's \(WireProtocol.maxMessageBytes)-byte message"
            + " limit: load fewer actions, or shorten their descriptions"
    }

    /// The state document advertised for `registry`.
    static func state(_ config: RunnerConfig, _ registry: Registry) -> JSONValue {
        StateDocument.build(
            config: config, registry: registry, version: WardVersion.current,
            hostname: Host.name())
    }
}

/// The running daemon: the link, and the signals that steer it.
final class Daemon {
    let runtime: Runtime
    let link: CloudLink
    let globals: GlobalOptions
    let config: RunnerConfig
    let logger: Logger
    var watchers: [SignalWatcher] = []
    var stopping = false

    init(
        runtime: Runtime, link: CloudLink, globals: GlobalOptions, config: RunnerConfig,
        logger: Logger
    ) {
        self.runtime = runtime
        self.link = link
        self.globals = globals
        self.config = config
        self.logger = logger
    }

    /// Runs until the link has stopped after SIGTERM or SIGINT.
    func run() {
        for sig in [WatchedSignal.terminate, .interrupt, .hangup] {
            let watcher = SignalWatcher(loop: runtime.loop)
            try? watcher.start(sig) { [weak self] got in self?.signal(got) }
            watchers.append(watcher)
        }
        logger.info(
            "ward connect starting",
            [("version", WardVersion.current), ("runner", config.runnerID)])
        link.start()
        runtime.loop.run()
        // No pool thread may still be working when the process exits: exit runs
        // OpenSSL's cleanup, and a journal scan or append hashing a line then
        // would crash (seen once at the end of a 100,000-run soak).
        while link.pendingLookups > 0 || runtime.journal.pending > 0 {
            runtime.loop.runOnce()
        }
        for watcher in watchers { watcher.close() }
        logger.info("ward connect stopped")
    }

    func signal(_ got: WatchedSignal) {
        let name = SignalName.of(got.number)
        if got == .hangup {
            reload()
            return
        }
        if stopping {
            // A second TERM or INT: stop waiting for the drain.
            logger.warn("second signal, cancelling every run now", [("signal", name)])
            for id in runtime.engine.activeRunIDs { runtime.engine.cancel(runID: id) }
            return
        }
        stopping = true
        logger.info("signal received, draining", [("signal", name)])
        link.shutdown { [weak self] in self?.runtime.loop.stop() }
    }

    /// SIGHUP: the packs again, kept only when every one validates.
    func reload() {
        let loader = PackLoader(config: config, allowWritable: globals.allowWritable)
        let (registry, diagnostics) = loader.load(directories: config.packDirectories)
        guard let registry else {
            let errors = diagnostics.filter { $0.severity == .error }
            logger.error(
                "reload refused, the packs in use are kept",
                [
                    ("errors", String(errors.count)),
                    ("first", errors.first?.description ?? "-"),
                ])
            return
        }
        for d in diagnostics where d.severity == .warning {
            logger.warn("pack warning", [("diagnostic", d.description)])
        }
        let document = ConnectCommand.state(config, registry)
        if let problem = ConnectCommand.stateProblem(document) {
            logger.error("reload refused, the packs in use are kept", [("problem", problem)])
            return
        }
        runtime.engine.registry = registry
        logger.info("packs reloaded", [("actions", String(registry.actions.count))])
        link.advertise(document)
    }
}
