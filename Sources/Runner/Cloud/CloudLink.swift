/// The daemon's link to its control plane (docs/wire-protocol.md): dials out,
/// says hello, takes run and cancel requests into the engine, streams each
/// run's output and result back, and reconnects with backoff whenever the
/// connection ends. Everything runs on the loop thread.
///
/// Delivery: output goes out as it comes while the link is up; while it is
/// down (or slow) each run's lines wait in a bounded outbox. Results and
/// refusals are kept until the control plane acknowledges them and are sent
/// again after every hello.
public final class CloudLink {
    /// Everything the link needs to dial and pace itself.
    public struct Settings {
        /// Where to dial.
        public var endpoint: ControlPlaneEndpoint
        /// TLS settings; nil only for a `ws://` loopback endpoint.
        public var tls: TLSContext?
        /// Which proxy, if any, a connection goes through.
        public var proxy: ProxySettings
        /// The runner key, sent in the upgrade request only.
        public var authKey: String
        /// Websocket ping interval and the `heartbeat` message's period.
        public var heartbeatMilliseconds: UInt64
        /// Reconnect pacing.
        public var backoff: BackoffPolicy
        /// Time allowed for TCP, proxy, TLS and the upgrade together.
        public var connectTimeoutMilliseconds: UInt64
        /// On shutdown, how long runs may go on before they are cancelled.
        public var drainGraceMilliseconds: UInt64

        /// Settings from the config's `control_plane` section.
        public init(
            endpoint: ControlPlaneEndpoint, tls: TLSContext?, proxy: ProxySettings,
            authKey: String, config: ControlPlaneConfig
        ) {
            self.endpoint = endpoint
            self.tls = tls
            self.proxy = proxy
            self.authKey = authKey
            heartbeatMilliseconds = UInt64(config.heartbeatMilliseconds)
            backoff = BackoffPolicy(
                baseMilliseconds: UInt64(config.backoffBaseMilliseconds),
                capMilliseconds: UInt64(config.backoffCapMilliseconds),
                stableMilliseconds: UInt64(config.backoffResetMilliseconds))
            connectTimeoutMilliseconds = UInt64(config.connectTimeoutMilliseconds)
            drainGraceMilliseconds = UInt64(config.drainGraceMilliseconds)
        }
    }

    /// Where the link is.
    enum Phase: Equatable {
        /// Not started, or stopped for good.
        case idle
        /// TCP, proxy, TLS or the upgrade is under way.
        case connecting
        /// The websocket is open and hello went out.
        case open
        /// Waiting out a backoff delay.
        case waiting
        /// Closing for good after a shutdown.
        case closing
        /// Done; `onStopped` ran.
        case stopped
    }

    /// Most results and refusals kept for a control plane that does not
    /// acknowledge them. Past it the oldest are forgotten (the journal still
    /// holds them, and a repeated run id is answered from there).
    static let maxUnacknowledged = 1024
    /// After the drain and kill graces, time left for the last results and
    /// the close handshake before the process stops anyway.
    static let finalCloseMilliseconds: UInt64 = 10_000

    let runtime: Runtime
    let settings: Settings
    let logger: Logger
    /// The document sent in `hello` and `state`; rebuilt on reload.
    public var stateDocument: JSONValue
    /// Called once the link has stopped after `shutdown`.
    var onStopped: (() -> Void)?

    var phase = Phase.idle
    var backoff: Backoff<SystemRandomNumberGenerator>
    var stream: SecureStream?
    var client: WebSocketClient?
    var connectTimer: Timer?
    var retryTimer: Timer?
    var heartbeatTimer: Timer?
    var drainTimer: Timer?
    /// Bounds the wait for acknowledgements of results sent while draining.
    var ackTimer: Timer?
    /// Set once that wait is over: the link closes with what is left unacknowledged.
    var ackWaitOver = false
    /// Longest wait, at shutdown, for the control plane to acknowledge the
    /// results just sent (capped by the drain grace): an acknowledged result
    /// is one it has stored, so it is not left to the journal's replay.
    static let ackGraceMilliseconds: UInt64 = 2000
    var finalTimer: Timer?
    var attempts = 0
    /// Whether the current attempt ran out of `connectTimeoutMilliseconds`.
    var timedOut = false
    /// Outboxes of runs in flight or not yet acknowledged, by run id.
    var runs: [String: CloudRun] = [:]
    /// Their ids in the order they arrived: the order outboxes drain.
    var order: [String] = []
    /// Ids of every run started here or found in the journal.
    var history: RunIDFilter
    /// Ids being looked up in the journal right now.
    var lookups: Set<String> = []
    /// Replies that need no acknowledgement, held while the link is down.
    var pendingReplies: [[UInt8]] = []
    let work: WorkQueue
    var draining = false

    /// A link for `runtime`'s engine, advertising `state`. `history` holds
    /// the ids the journal already has.
    public init(
        runtime: Runtime, settings: Settings, state: JSONValue, history: RunIDFilter,
        logger: Logger
    ) {
        self.runtime = runtime
        self.settings = settings
        self.stateDocument = state
        self.history = history
        self.logger = logger
        self.backoff = Backoff(policy: settings.backoff)
        self.work = WorkQueue(loop: runtime.loop)
    }

    var loop: EventLoop { runtime.loop }
    var engine: Engine { runtime.engine }

    /// Whether the websocket is open.
    public var isConnected: Bool { phase == .open }

    /// Journal scans still running on libuv's thread pool (repeated run ids).
    public var pendingLookups: Int { work.inFlight }

    /// Starts dialing.
    public func start() {
        precondition(phase == .idle, "CloudLink.start() called twice")
        connect()
    }

    // MARK: - Connecting

    func connect() {
        phase = .connecting
        timedOut = false
        attempts += 1
        let endpoint = settings.endpoint
        let proxy = settings.proxy.proxy(forHost: endpoint.host, port: endpoint.port)
        var fields = [("url", endpoint.description), ("attempt", String(attempts))]
        if let proxy { fields.append(("proxy", proxy.description)) }
        logger.info("connecting", fields)

        let timer = connectTimer ?? Timer(loop: loop)
        connectTimer = timer
        timer.start(after: settings.connectTimeoutMilliseconds) { [weak self] in
            self?.connectTimedOut()
        }
        stream = SecureStream.open(
            loop: loop, host: endpoint.host, port: endpoint.port,
            tls: endpoint.secure ? settings.tls : nil, proxy: proxy,
            attemptTimeout: settings.connectTimeoutMilliseconds
        ) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let stream): self.streamOpened(stream)
            case .failure(let error):
                self.connectFailed(
                    self.timedOut
                        ? "no connection within \(Self.seconds(self.settings.connectTimeoutMilliseconds)) s"
                        : "\(error)", hint: .none)
            }
        }
    }

    func connectTimedOut() {
        guard phase == .connecting else { return }
        timedOut = true
        if let client {
            // The upgrade is under way: the client ends and reports it.
            client.close(code: .goingAway)
        } else {
            // The open completion reports `.cancelled`, read as the timeout.
            stream?.close()
        }
    }

    func streamOpened(_ stream: SecureStream) {
        guard phase == .connecting else {
            stream.close()
            return
        }
        let request: UpgradeRequest
        do {
            request = try settings.endpoint.upgradeRequest(headers: [
                HTTPHeader(name: "Authorization", value: "Bearer " + settings.authKey)
            ])
        } catch {
            // The key was checked when it was loaded; this cannot fail.
            preconditionFailure("upgrade request refused: \(error)")
        }
        let transport = StreamTransport(stream: stream)
        let configuration = WebSocketConfiguration(
            maxMessageBytes: WireProtocol.maxMessageBytes,
            handshakeTimeoutMilliseconds: settings.connectTimeoutMilliseconds,
            heartbeatIntervalMilliseconds: settings.heartbeatMilliseconds)
        let client = WebSocketClient(
            transport: transport, request: request, loop: loop, configuration: configuration,
            logger: nil)
        client.delegate = self
        transport.client = client
        self.client = client
        client.start()
    }

    /// A connection attempt failed before the websocket opened.
    func connectFailed(_ why: String, hint: BackoffHint) {
        connectTimer?.stop()
        stream = nil
        client = nil
        logger.warn("connection failed", [("error", why)])
        backoff.connectionEnded(uptimeMilliseconds: nil, hint: hint)
        scheduleReconnect()
    }

    func scheduleReconnect() {
        if draining && engine.activeRunCount == 0 && runtime.journal.pending == 0 {
            // Shutting down with no link and nothing running: the results are
            // in the journal, and a repeated run id is answered from there.
            stop()
            return
        }
        phase = .waiting
        let delay = backoff.nextDelay()
        logger.info(
            "backing off",
            [("delay_ms", String(delay)), ("delay_s", Self.seconds(delay))])
        let timer = retryTimer ?? Timer(loop: loop)
        retryTimer = timer
        timer.start(after: delay) { [weak self] in self?.connect() }
    }

    static func seconds(_ milliseconds: UInt64) -> String {
        let tenths = (milliseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: - Open

    func opened() {
        connectTimer?.stop()
        phase = .open
        attempts = 0
        let session = RandomID.uuid()
        logger.info("connected", [("url", settings.endpoint.description), ("session", session)])
        // Results sent and not acknowledged, and those that finished while the
        // link was down: every one goes out (again) after the hello.
        let unacknowledged = order.filter { runs[$0]?.result != nil }
        let inFlight = engine.activeRunIDs.filter { runs[$0] != nil }.sorted()
        let hello = WireEncoder.hello(
            session: session, state: stateDocument, head: runtime.journal.head,
            inFlight: inFlight, unacknowledged: unacknowledged)
        send(hello)
        let actions = stateDocument["actions"]?.arrayValue?.count ?? 0
        logger.info("advertised actions", [("actions", String(actions))])
        // Results the last connection may have lost go out again.
        for id in unacknowledged { runs[id]?.requeueResult() }
        startHeartbeat()
        flush()
    }

    func startHeartbeat() {
        let timer = heartbeatTimer ?? Timer(loop: loop)
        heartbeatTimer = timer
        let interval = settings.heartbeatMilliseconds
        timer.start(after: interval, repeating: interval) { [weak self] in
            guard let self, self.phase == .open else { return }
            self.send(
                WireEncoder.heartbeat(
                    head: self.runtime.journal.head, inFlight: self.engine.activeRunCount))
        }
    }

    /// The websocket ended: back off and dial again, or stop when shutting down.
    func ended(_ end: WebSocketEnd, uptime: UInt64?) {
        connectTimer?.stop()
        heartbeatTimer?.stop()
        client = nil
        stream = nil
        // Runs go on while the link is down; their output waits in the outboxes.
        // Nothing else to undo per run: what was sent is gone with the
        // connection, what was not is still in its outbox.
        engine.outputPaused = false
        let wasOpen = phase == .open || phase == .closing
        logger.warn(
            wasOpen ? "disconnected" : "connection failed",
            [("reason", end.description), ("code", String(end.code))])
        if phase == .closing {
            stop()
            return
        }
        backoff.connectionEnded(uptimeMilliseconds: uptime, hint: end.backoffHint)
        scheduleReconnect()
    }

    /// Sends one message now if the link is open; false when it could not go.
    @discardableResult
    func send(_ message: JSONValue) -> Bool {
        send(bytes: JSONWriter.bytes(message))
    }

    /// Sends encoded message bytes; false when the link is down or full.
    func send(bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { send(parts: [$0]) }
    }

    /// Sends the concatenation of `parts` as one message; see `send(bytes:)`.
    func send(parts: [UnsafeRawBufferPointer]) -> Bool {
        guard phase == .open || phase == .closing, let client, client.isOpen else { return false }
        do {
            try client.send(utf8: parts)
            return true
        } catch .messageTooLarge(let bytes, let limit) {
            // Waiting would not help: the message can never go, and holding it
            // would hold everything queued behind it. ward bounds what it
            // builds (refusals list at most `Validator.maxListedErrors`
            // errors, the state document is checked at start), so this is a
            // defect, said loudly, not a stall.
            logger.error(
                "message over the size limit dropped",
                [("bytes", String(bytes)), ("limit", String(limit))])
            return true
        } catch {
            return false
        }
    }

    // MARK: - Shutdown and reload

    /// Stops taking runs, lets those in flight finish for the drain grace
    /// (then cancels them), delivers their results, closes with 1001 and
    /// calls `done`.
    public func shutdown(done: @escaping () -> Void) {
        guard !draining else { return }
        draining = true
        onStopped = done
        engine.acceptingRuns = false
        let running = engine.activeRunCount
        logger.info(
            "shutting down",
            [
                ("runs_in_flight", String(running)),
                ("drain_grace_ms", String(settings.drainGraceMilliseconds)),
            ])
        // However the drain goes (a control plane that stops reading, say),
        // the process ends after the grace, the kill grace and a close.
        let deadline = Timer(loop: loop)
        finalTimer = deadline
        deadline.start(
            after: settings.drainGraceMilliseconds + UInt64(engine.settings.killGraceMilliseconds)
                + Self.finalCloseMilliseconds
        ) { [weak self] in
            guard let self else { return }
            self.logger.warn("shutdown deadline reached, stopping with the link as it is")
            self.client?.close(code: .goingAway)
            self.stop()
        }
        if running > 0 {
            let timer = Timer(loop: loop)
            drainTimer = timer
            timer.start(after: settings.drainGraceMilliseconds) { [weak self] in
                guard let self else { return }
                let ids = self.engine.activeRunIDs
                if !ids.isEmpty {
                    self.logger.warn(
                        "drain grace over, cancelling runs", [("runs", String(ids.count))])
                }
                for id in ids { self.engine.cancel(runID: id) }
            }
        }
        finishShutdownIfIdle()
    }

    /// Once no run is in flight and every outbox is sent, closes the link.
    func finishShutdownIfIdle() {
        guard draining, phase != .closing, phase != .stopped else { return }
        guard engine.activeRunCount == 0, runtime.journal.pending == 0, lookups.isEmpty else {
            return
        }
        switch phase {
        case .open:
            guard pendingReplies.isEmpty, order.allSatisfy({ runs[$0]?.outbox.isEmpty ?? true })
            else { return }
            let unacknowledged = runs.values.filter(\.resultSent).count
            if unacknowledged > 0 && !ackWaitOver {
                if ackTimer == nil {
                    let timer = Timer(loop: loop)
                    ackTimer = timer
                    timer.start(
                        after: min(Self.ackGraceMilliseconds, settings.drainGraceMilliseconds)
                    ) { [weak self] in
                        self?.ackWaitOver = true
                        self?.finishShutdownIfIdle()
                    }
                }
                return
            }
            phase = .closing
            logger.info(
                "closing the link", [("code", "1001"), ("unacknowledged", String(unacknowledged))])
            client?.close(code: .goingAway, reason: "ward is shutting down")
        case .connecting, .waiting, .idle:
            stop()
        case .closing, .stopped:
            return
        }
    }

    /// Stops for good: timers closed, `onStopped` called once.
    func stop() {
        guard phase != .stopped else { return }
        phase = .stopped
        for timer in [connectTimer, retryTimer, heartbeatTimer, drainTimer, ackTimer, finalTimer] {
            timer?.close()
        }
        finalTimer = nil
        connectTimer = nil
        retryTimer = nil
        heartbeatTimer = nil
        drainTimer = nil
        ackTimer = nil
        stream?.close()
        stream = nil
        let done = onStopped
        onStopped = nil
        done?()
    }

    /// The packs were reloaded: advertise the new state document.
    public func advertise(_ state: JSONValue) {
        stateDocument = state
        let actions = state["actions"]?.arrayValue?.count ?? 0
        if send(WireEncoder.state(state, head: runtime.journal.head)) {
            logger.info("advertised actions", [("actions", String(actions))])
        }
    }
}

extension CloudLink: WebSocketClientDelegate {
    public func webSocketDidOpen(_ client: WebSocketClient, response: UpgradeResponse) {
        guard client === self.client else { return }
        opened()
    }

    public func webSocket(_ client: WebSocketClient, didReceive text: String) {
        guard client === self.client else { return }
        received(Array(text.utf8))
    }

    public func webSocket(_ client: WebSocketClient, writabilityChanged isWritable: Bool) {
        guard client === self.client else { return }
        if isWritable {
            flush()
        } else {
            engine.outputPaused = true
        }
    }

    public func webSocket(_ client: WebSocketClient, didEnd end: WebSocketEnd) {
        guard client === self.client else { return }
        let uptime = client.openedAtMilliseconds.map { loop.nowMilliseconds - $0 }
        if timedOut, case .clientClosed = end {
            ended(.handshakeFailed(.timedOut), uptime: uptime)
            return
        }
        ended(end, uptime: uptime)
    }
}
