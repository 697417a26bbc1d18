/// The MCP face's `RunSink`: one per `tools/call`. It collects the run's
/// redacted lines (the engine's output cap already bounds them), reports
/// progress when the client sent a progress token, and turns the end of the
/// run into the call's reply.
final class ToolCallSink: RunSink {
    /// Least time between two progress notifications of one call, in
    /// milliseconds: a chatty action would otherwise send one per pipe read,
    /// while a client only needs to see that the run moves.
    static let progressIntervalMilliseconds: Int64 = 250

    /// The request this run answers.
    let requestID: JSONRPCID
    /// The run's id.
    let runID: String
    /// The call as parsed.
    let call: ToolCall
    /// The revision the session negotiated, which shapes the result.
    let version: String
    /// Sends a progress notification; the session may drop it when stdout is
    /// backed up.
    let progress: (JSONValue) -> Void
    /// Delivers the reply, or nil when the call was cancelled and must get none.
    let reply: (JSONValue?) -> Void
    /// Called once the child runs, so a cancel that came early can reach it.
    let started: (ToolCallSink) -> Void

    /// What arrived, in order, as the reply's text.
    private(set) var output = ToolResult.Text()
    /// The client cancelled the request: the run is stopped and gets no reply.
    var cancelled = false
    /// ward is shutting down: the run is stopped, its reply still goes out.
    var stopping = false
    /// Whether the child was started (and can be cancelled through the engine).
    private(set) var isRunning = false
    /// Whether the reply (or its suppression) happened.
    private(set) var isDone = false
    private var lines = 0
    private var lastProgressAt: Int64?
    private var lastProgressValue = -1

    /// A sink for `call`, answering `requestID` through `reply`.
    init(
        requestID: JSONRPCID, runID: String, call: ToolCall, version: String,
        progress: @escaping (JSONValue) -> Void, reply: @escaping (JSONValue?) -> Void,
        started: @escaping (ToolCallSink) -> Void
    ) {
        self.requestID = requestID
        self.runID = runID
        self.call = call
        self.version = version
        self.progress = progress
        self.reply = reply
        self.started = started
    }

    func runStarted(_ run: RunInfo) {
        isRunning = true
        notifyProgress(message: "running \(run.action) (run \(run.id))", force: true)
        started(self)
    }

    func runOutput(_ run: RunInfo, _ batch: [OutputLine]) {
        for line in batch { output.append(.line(line)) }
        lines += batch.count
        notifyProgress(message: "\(lines) lines of output", force: false)
    }

    func runOutputDropped(_ run: RunInfo, _ gap: OutputCap.Gap) {
        output.append(.gap(lines: gap.lines, bytes: gap.bytes))
    }

    func runRefused(_ request: RunRequest, _ refusal: Refusal, journal: JournalHead?) {
        if refusal.code == .unknownAction {
            // MCP reports a tool that does not exist as a protocol error, not a
            // tool result; the engine journaled the refusal all the same.
            let data: JSONValue = [
                "code": .string(refusal.code.rawValue), "message": .string(refusal.message),
            ]
            end(
                JSONRPCCodec.error(
                    requestID,
                    JSONRPCError(
                        JSONRPCError.invalidParams,
                        "unknown tool: \(Engine.cut(call.tool, to: 128))", data: data)))
            return
        }
        end(
            JSONRPCCodec.result(
                requestID,
                ToolResult.refused(
                    runID: request.id, action: request.action, code: refusal.code.rawValue,
                    message: refusal.message, errors: refusal.errors, journal: journal,
                    version: version)))
    }

    func runFinished(_ run: RunInfo, _ result: RunResult) {
        end(
            JSONRPCCodec.result(
                requestID,
                ToolResult.finished(result, argv: run.argv, output: output, version: version)))
    }

    /// Answers once; a cancelled call's answer is dropped, as MCP asks.
    private func end(_ message: JSONValue) {
        guard !isDone else { return }
        isDone = true
        output = ToolResult.Text()
        // Spelled out: JSONValue takes `nil` as its own `.null`, which would
        // be sent as a bare `null` line.
        reply(cancelled ? JSONValue?.none : message)
    }

    /// Sends `notifications/progress` when the client asked for it, at most
    /// once per interval unless `force`, and only when the value grew (MCP
    /// requires it to increase with every notification).
    private func notifyProgress(message: String, force: Bool) {
        guard let token = call.progressToken, !cancelled, lines > lastProgressValue else { return }
        let now = Clock.monotonicMilliseconds()
        if !force, let last = lastProgressAt,
            now - last < ToolCallSink.progressIntervalMilliseconds
        {
            return
        }
        lastProgressAt = now
        lastProgressValue = lines
        var params = JSONObject()
        params["progressToken"] = token
        params["progress"] = .int(Int64(lines))
        if MCPVersion.hasAnnotations(version) { params["message"] = .string(message) }
        progress(JSONRPCCodec.notification("notifications/progress", .object(params)))
    }
}
