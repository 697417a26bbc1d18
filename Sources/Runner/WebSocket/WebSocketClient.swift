import CWslay

/// A websocket client connection (RFC 6455) over a `ByteTransport`, framed by
/// wslay's event API, on the loop thread.
///
/// The owner makes the transport, calls `start()` once it is connected, and
/// passes every incoming byte to `receive(_:)` and the end of the stream to
/// `transportEnded(_:)`. Messages, flow-control changes and the one end come
/// back through the delegate. Heartbeat pings and the close and handshake
/// timeouts run on loop timers the client owns; they are all closed when the
/// connection ends, so the owner must let it end (`close`, or
/// `transportEnded`) before dropping the client.
///
/// Outgoing frames (messages, pongs, pings, the close) all go through one
/// queue to one writer: at most one transport write is outstanding, and the
/// next starts only after its completion. wslay lets control frames overtake
/// data only between frames.
public final class WebSocketClient {
    /// Where the connection is in its life.
    enum Phase: Equatable {
        /// Made, not started.
        case idle
        /// The upgrade request is out; reading the response.
        case handshaking
        /// Messages flow both ways.
        case open
        /// A close handshake or failure is under way.
        case closing(Closing)
        /// The end was reported; nothing more happens.
        case ended
    }

    /// Which close is under way.
    enum Closing: Equatable {
        /// The client sent `code`; `answered` once the server's close came.
        case initiated(code: UInt16, answered: Bool, serverCode: UInt16?)
        /// The server closed with `code`; the client is answering.
        case answering(code: UInt16?, reason: String)
        /// The client is failing the connection with `code` (nil when wslay
        /// chose it: invalid UTF-8 in a text message).
        case failing(code: UInt16?, detail: String?)
    }

    /// Receives messages and the end; held weakly.
    public weak var delegate: (any WebSocketClientDelegate)?
    /// The limits and timings in force.
    public let configuration: WebSocketConfiguration
    /// False while the outgoing queue is above the high-water mark, until it
    /// drains to the low-water mark.
    public internal(set) var isWritable = true
    /// Loop time (milliseconds) when the handshake completed, for uptime.
    public internal(set) var openedAtMilliseconds: UInt64?

    let transport: any ByteTransport
    let loop: EventLoop
    let request: UpgradeRequest
    let logger: Logger?
    /// The wslay event context; created in `init`, freed in `deinit`.
    nonisolated(unsafe) var context: OpaquePointer?
    var phase = Phase.idle
    var handshake: UpgradeResponseParser?
    var frameGuard: FrameGuard
    var heartbeat: Heartbeat?
    var heartbeatTimer: Timer?
    var deadlineTimer: Timer?
    /// Incoming frame bytes wslay has not read yet, from `inboxOffset` on.
    var inbox: [UInt8] = []
    var inboxOffset = 0
    /// Frame bytes for the next transport write: wslay's control frames and
    /// the data frames ward frames itself.
    var outbox: [UInt8] = []
    /// Text messages framed and masked, waiting for the outbox.
    var dataFrames = OutgoingDataFrames()
    /// Set when wslay's send callback found the outbox full: wslay still
    /// holds (part of) a control frame, so no data frame may start.
    var wslayBlocked = false
    /// Messages wslay completed during the current `wslay_event_recv`, handed
    /// out only after it returns so no delegate code runs inside wslay.
    var completed: [(opcode: UInt8, payload: [UInt8])] = []
    var writeInFlight = false
    var pumping = false
    var readingPaused = false

    /// A client for `request` over `transport`, with its timers on `loop`.
    public init(
        transport: any ByteTransport, request: UpgradeRequest, loop: EventLoop,
        configuration: WebSocketConfiguration = WebSocketConfiguration(), logger: Logger? = nil
    ) {
        self.transport = transport
        self.request = request
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        self.frameGuard = FrameGuard(maxMessageBytes: configuration.maxMessageBytes)

        var callbacks = WslayTrampolines.callbacks
        var made: OpaquePointer?
        let rc = wslay_event_context_client_init(
            &made, &callbacks, Unmanaged.passUnretained(self).toOpaque())
        // wslay fails only on malloc failure here.
        precondition(rc == 0 && made != nil, "wslay_event_context_client_init failed: \(rc)")
        context = made
        // FrameGuard refuses long messages from their header; this is wslay's
        // own check of the same cap, kept as a second wall.
        wslay_event_config_set_max_recv_msg_length(made, UInt64(configuration.maxMessageBytes))
    }

    deinit {
        wslay_event_context_free(context)
    }

    /// Whether messages can be sent.
    public var isOpen: Bool { phase == .open }

    /// Outgoing bytes not yet on the wire: messages wslay still holds, frame
    /// bytes awaiting a write, and what the transport has buffered.
    public var queuedBytes: Int {
        Int(wslay_event_get_queued_msg_length(context)) + dataFrames.queuedBytes + outbox.count
            + transport.queuedBytes
    }

    /// Sends the upgrade request; call once, when the transport is connected.
    public func start() {
        precondition(phase == .idle, "WebSocketClient.start() called twice")
        phase = .handshaking
        handshake = UpgradeResponseParser(for: request)
        outbox = request.bytes()
        armDeadline(configuration.handshakeTimeoutMilliseconds)
        pump()
    }

    /// Queues `text` as one text message.
    public func send(text: String) throws(WebSocketSendError) {
        try send(utf8: Array(text.utf8))
    }

    /// Queues `bytes` as one text message. They must be valid UTF-8: they come
    /// from a Swift string or from `JSONWriter`, which writes only strings.
    public func send(utf8 bytes: [UInt8]) throws(WebSocketSendError) {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(WebSocketSendError) in try send(utf8: [raw]) }
        }
        try outcome.get()
    }

    /// Sends the concatenation of `parts` (valid UTF-8 together) as one text
    /// message, each part copied once, straight into the frame.
    public func send(utf8 parts: [UnsafeRawBufferPointer]) throws(WebSocketSendError) {
        guard phase == .open else { throw .notOpen }
        let limit = configuration.maxQueuedBytes
        var count = 0
        for part in parts { count += part.count }
        guard count <= limit else { throw .messageTooLarge(bytes: count, limit: limit) }
        let queued = queuedBytes
        guard queued + count <= limit else { throw .queueFull(queued: queued, limit: limit) }
        // Framed here, not queued in wslay (see `OutgoingDataFrames`); a fresh
        // key per frame, as RFC 6455 section 5.3 requires keys a proxy
        // cannot predict.
        dataFrames.enqueue(text: parts, maskKey: RandomID.bytes(4))
        pump()
    }

    /// Starts the close handshake: sends a close with `code` and `reason`
    /// (cut to 123 bytes on a character boundary), then waits for the
    /// server's close or the close timeout before closing the transport.
    /// Messages that arrive meanwhile are dropped. Before the connection is
    /// open this just drops the transport.
    public func close(code: WebSocketCloseCode = .normal, reason: String = "") {
        switch phase {
        case .idle, .handshaking:
            finish(.clientClosed(code: code.rawValue, serverCode: nil, answered: false))
        case .open:
            let reasonBytes = WebSocketCloseCode.reasonBytes(reason)
            let rc = reasonBytes.withUnsafeBufferPointer {
                wslay_event_queue_close(context, code.rawValue, $0.baseAddress, $0.count)
            }
            precondition(rc == 0, "wslay_event_queue_close failed while open: \(rc)")
            enterClosing(.initiated(code: code.rawValue, answered: false, serverCode: nil))
            pump()
        case .closing, .ended:
            return
        }
    }

    /// The transport's owner saw the stream end (peer FIN, reset, TLS error).
    /// The client still closes the transport as it ends: a stream whose peer
    /// finished holds its socket until closed (`SecureStream` after
    /// `.closed` or `.truncated`).
    public func transportEnded(_ reason: String) {
        guard phase != .ended else { return }
        switch phase {
        case .idle, .handshaking: finish(.handshakeFailed(.connectionClosed(reason)))
        case .open: finish(.transportLost(reason))
        case .closing(.initiated(let code, let answered, let serverCode)):
            finish(
                answered
                    ? .clientClosed(code: code, serverCode: serverCode, answered: true)
                    : .transportLost(reason))
        case .closing(let closing): finish(endOfClose(closing))
        case .ended: return
        }
    }

    /// Moves to a close, with the close timeout bounding it.
    func enterClosing(_ closing: Closing) {
        phase = .closing(closing)
        heartbeatTimer?.close()
        heartbeatTimer = nil
        armDeadline(configuration.closeTimeoutMilliseconds)
    }

    /// The end a close reaches when its time is up or its frames are out.
    func endOfClose(_ closing: Closing) -> WebSocketEnd {
        switch closing {
        case .initiated(let code, let answered, let serverCode):
            return .clientClosed(code: code, serverCode: serverCode, answered: answered)
        case .answering(let code, let reason):
            return .serverClosed(code: code, reason: reason)
        case .failing(let code, let detail):
            let sent = code ?? wslay_event_get_status_code_sent(context)
            return .protocolViolation(code: sent, detail: detail ?? Self.wslayFailure(sent))
        }
    }

    /// What wslay's own failure with `code` means.
    static func wslayFailure(_ code: UInt16) -> String {
        switch code {
        case WebSocketCloseCode.invalidPayload.rawValue: "text message is not UTF-8"
        case WebSocketCloseCode.messageTooBig.rawValue: "message over the size cap"
        default: "framing error found by wslay"
        }
    }

    /// (Re)arms the one-shot deadline of the handshake or the close.
    func armDeadline(_ milliseconds: UInt64) {
        let timer = deadlineTimer ?? Timer(loop: loop)
        deadlineTimer = timer
        timer.start(after: milliseconds) { [weak self] in self?.deadlinePassed() }
    }

    /// The handshake or close took too long: drop the transport.
    func deadlinePassed() {
        switch phase {
        case .handshaking: finish(.handshakeFailed(.timedOut))
        case .closing(let closing): finish(endOfClose(closing))
        case .idle, .open, .ended: return
        }
    }

    /// The handshake succeeded.
    func opened(_ response: UpgradeResponse) {
        phase = .open
        deadlineTimer?.stop()
        openedAtMilliseconds = loop.nowMilliseconds
        if let interval = configuration.heartbeatIntervalMilliseconds {
            heartbeat = Heartbeat(intervalMilliseconds: interval)
            let timer = Timer(loop: loop)
            heartbeatTimer = timer
            timer.start(after: interval, repeating: interval) { [weak self] in self?.heartbeatTick()
            }
        }
        logger?.info(
            "websocket open", [("ws.host", request.hostHeader), ("ws.path", request.path)])
        delegate?.webSocketDidOpen(self, response: response)
    }

    /// One heartbeat interval passed.
    func heartbeatTick() {
        guard phase == .open, var beat = heartbeat else { return }
        let tick = beat.tick()
        heartbeat = beat
        switch tick {
        case .ping(let payload):
            let rc = queue(opcode: UInt8(WSLAY_PING.rawValue), payload)
            precondition(rc == 0, "wslay_event_queue_msg(ping) failed while open: \(rc)")
            pump()
        case .halfOpen:
            // The ping may still sit behind our own queued output on a slow
            // link: the peer cannot have answered what it has not been sent.
            // Judge only once the queue has drained (a dead peer stops the
            // queue draining, and a queue that never drains still ends at the
            // close or drain deadlines).
            if queuedBytes > 0 {
                logger?.debug(
                    "pong late, but output is still queued", [("queued", String(queuedBytes))])
                return
            }
            // A half-open connection cannot carry a close handshake: drop it.
            finish(.noPong)
        }
    }

    /// Reports `end` once: closes the timers and the transport.
    func finish(_ end: WebSocketEnd) {
        guard phase != .ended else { return }
        phase = .ended
        deadlineTimer?.close()
        deadlineTimer = nil
        heartbeatTimer?.close()
        heartbeatTimer = nil
        inbox = []
        outbox = []
        dataFrames.removeAll()
        completed = []
        // Also after `transportEnded`: the peer's end does not free the
        // socket, and a second close is harmless by `ByteTransport`'s contract.
        transport.close()
        logger?.info(
            "websocket ended", [("ws.end", end.description), ("ws.code", String(end.code))])
        delegate?.webSocket(self, didEnd: end)
    }
}
