/// One MCP session: the lifecycle, the methods ward serves, and the tool calls
/// in flight. It knows nothing of file descriptors: lines come in through
/// `receive`, messages go out through `send`, and every tool call goes through
/// the engine exactly as a cloud request does.
public final class MCPSession {
    /// Tools per `tools/list` page: a large host declares a few dozen actions,
    /// so most clients get everything in one page, while a page's size stays
    /// bounded however many packs are loaded.
    public static let defaultPageSize = 100
    /// Longest requester text journaled: a client's self-reported name and
    /// version, bounded so a hostile client cannot bloat every journal line.
    static let maxRequesterBytes = 200
    /// The requests ward answers; anything else is "method not found", so no
    /// method can reach the packs, the config, the redaction rules or the journal.
    static let servedMethods: Set<String> = ["initialize", "ping", "tools/list", "tools/call"]

    /// How far the session got.
    public enum Phase: Equatable, Sendable {
        /// Only `initialize` and `ping` are served.
        case awaitingInitialize
        /// `initialize` was answered with this revision.
        case initialized(version: String)
    }

    /// The pipeline every tool call goes through.
    let engine: Engine
    /// Where the session logs (stderr).
    let logger: Logger
    /// Writes one message to the client.
    let send: (JSONValue) -> Void
    /// Tools per `tools/list` page.
    let pageSize: Int
    /// Whether a progress notification may be sent now; false while stdout is
    /// backed up, since progress is the one thing that can be skipped.
    var progressAllowed: () -> Bool = { true }
    /// The lifecycle state.
    public internal(set) var phase = Phase.awaitingInitialize
    /// Who asked, as journaled: the client's name and version from `initialize`.
    public internal(set) var requester = "mcp-client"
    /// Tool calls whose reply has not been sent, by request id.
    var calls: [JSONRPCID: ToolCallSink] = [:]
    /// Set once input ended: in-flight runs are stopped, nothing new starts.
    public private(set) var isClosing = false

    /// A session running tools on `engine` and writing messages through `send`.
    public init(
        engine: Engine, logger: Logger, pageSize: Int = MCPSession.defaultPageSize,
        send: @escaping (JSONValue) -> Void
    ) {
        precondition(pageSize > 0, "a page holds at least one tool")
        self.engine = engine
        self.logger = logger
        self.pageSize = pageSize
        self.send = send
    }

    /// The negotiated revision, once initialized.
    public var version: String? {
        if case .initialized(let v) = phase { return v }
        return nil
    }

    /// Tool calls still waiting for their reply.
    public var callsInFlight: Int { calls.count }

    // MARK: Input

    /// Serves one line of input.
    public func receive(_ line: [UInt8]) {
        switch JSONRPCCodec.decode(line) {
        case .invalid(let error):
            logger.debug("mcp message refused", [("code", String(error.code))])
            send(JSONRPCCodec.error(nil, error))
        case .single(let item):
            serve(item) { [weak self] reply in if let reply { self?.send(reply) } }
        case .batch(let items):
            guard MCPVersion.allowsBatches(version) else {
                // Revisions other than 2025-03-26 have no batches: one error for
                // the whole array, and none of its members runs (case 33).
                send(
                    JSONRPCCodec.error(
                        nil,
                        JSONRPCError(
                            JSONRPCError.invalidRequest, "batch requests are not supported")))
                return
            }
            let batch = BatchReply(expected: items.count) { [weak self] replies in
                // A batch of notifications only gets no reply at all.
                if !replies.isEmpty { self?.send(.array(replies)) }
            }
            for (slot, item) in items.enumerated() {
                serve(item) { reply in batch.fill(slot, reply) }
            }
        }
    }

    /// A line passed the size cap and was dropped unread.
    public func receiveOversized(limit: Int) {
        logger.warn("mcp message over the size cap dropped", [("limit", String(limit))])
        send(
            JSONRPCCodec.error(
                nil,
                JSONRPCError(
                    JSONRPCError.invalidRequest,
                    "message longer than \(limit) bytes; dropped up to the next newline")))
    }

    /// The client closed stdin (or ward was told to stop): every run in flight
    /// is cancelled, its process group killed; the replies still go out when
    /// stdout is open.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        for sink in calls.values {
            sink.stopping = true
            if sink.isRunning { engine.cancel(runID: sink.runID) }
        }
    }

    /// Dispatches one classified item; `reply` gets the response or nil.
    private func serve(_ item: JSONRPCItem, reply: @escaping (JSONValue?) -> Void) {
        switch item {
        case .rejected(let r):
            reply(JSONRPCCodec.error(r.id, r.error))
        case .dropped(let why):
            logger.debug("mcp notification dropped", [("reason", why)])
            reply(nil)
        case .message(.response(let id)):
            logger.debug("mcp response ignored", [("id", id?.description ?? "null")])
            reply(nil)
        case .message(.notification(let method, let params)):
            notified(method, params)
            reply(nil)
        case .message(.request(let id, let method, let params)):
            request(id, method, params, reply: reply)
        }
    }

    private func notified(_ method: String, _ params: JSONObject?) {
        switch method {
        case "notifications/initialized":
            logger.debug("mcp client initialized")
        case "notifications/cancelled":
            guard let raw = params?["requestId"], let id = JSONRPCID(raw) else {
                logger.debug("mcp cancel without a request id")
                return
            }
            cancel(id)
        default:
            logger.debug("mcp notification ignored", [("method", method)])
        }
    }

    private func request(
        _ id: JSONRPCID, _ method: String, _ params: JSONObject?,
        reply: @escaping (JSONValue?) -> Void
    ) {
        guard MCPSession.servedMethods.contains(method) else {
            // Also `server/discover`: the 2026-07-28 probe falls back to
            // `initialize` on this answer (see MCPVersion).
            reply(
                JSONRPCCodec.error(
                    id,
                    JSONRPCError(
                        JSONRPCError.methodNotFound, "method not found: \(method)",
                        data: .string(method))))
            return
        }
        if method == "ping" {
            reply(JSONRPCCodec.result(id, .object(JSONObject())))
            return
        }
        if method == "initialize" {
            reply(initialize(id, params))
            return
        }
        guard let version else {
            reply(
                JSONRPCCodec.error(
                    id,
                    JSONRPCError(
                        JSONRPCError.invalidRequest,
                        "the session is not initialized: send initialize first")))
            return
        }
        if method == "tools/list" {
            reply(listTools(id, params, version: version))
            return
        }
        callTool(id, params, version: version, reply: reply)
    }
}

/// Collects the replies to one batch and sends them as one array once every
/// member is answered (notifications count as answered with nothing).
final class BatchReply {
    private var slots: [JSONValue?]
    private var missing: Int
    private let done: ([JSONValue]) -> Void

    /// A batch of `expected` members.
    init(expected: Int, done: @escaping ([JSONValue]) -> Void) {
        slots = Array(repeating: nil, count: expected)
        missing = expected
        self.done = done
    }

    /// Member `slot` is answered with `reply` (nil: no reply for it).
    func fill(_ slot: Int, _ reply: JSONValue?) {
        precondition(missing > 0, "batch member answered twice")
        slots[slot] = reply
        missing -= 1
        if missing == 0 { done(slots.compactMap { $0 }) }
    }
}
