/// The methods ward serves: `initialize`, `tools/list`, `tools/call`, and the
/// cancellation of a call in flight.
extension MCPSession {
    /// What the server tells the model about itself (`instructions`).
    static let instructions = """
        Each tool runs one action declared on this host by its operators. Arguments are \
        checked against the declared schema, every call is journaled with its reason, and \
        output is redacted. Give a short, true `reason` with every call. A refused call \
        says which argument was wrong; nothing ran.
        """

    /// Answers `initialize`: the specification's version negotiation, ward's
    /// identity and its one capability, tools.
    func initialize(_ id: JSONRPCID, _ params: JSONObject?) -> JSONValue {
        guard version == nil else {
            return JSONRPCCodec.error(
                id, JSONRPCError(JSONRPCError.invalidRequest, "the session is already initialized"))
        }
        guard case .string(let requested)? = params?["protocolVersion"] else {
            return JSONRPCCodec.error(
                id,
                JSONRPCError(JSONRPCError.invalidParams, "params.protocolVersion must be a string"))
        }
        let negotiated = MCPVersion.negotiate(requested)
        let client = params?["clientInfo"]
        requester = MCPSession.requester(
            name: client?["name"]?.stringValue, version: client?["version"]?.stringValue)
        phase = .initialized(version: negotiated)
        logger.info(
            "mcp session initialized",
            [("client", requester), ("requested", requested), ("version", negotiated)])
        let result: JSONValue = [
            "protocolVersion": .string(negotiated),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": ["name": "ward", "version": .string(WardVersion.current)],
            "instructions": .string(MCPSession.instructions),
        ]
        return JSONRPCCodec.result(id, result)
    }

    /// `name/version` as the client reported them, with control characters
    /// replaced and the length bounded, since it lands in every journal event.
    static func requester(name: String?, version: String?) -> String {
        let text = "\(name ?? "mcp-client")/\(version ?? "unknown")"
        var bytes = Array(text.utf8.map { Validator.isControl($0) ? UInt8(ascii: "?") : $0 })
        if bytes.count > maxRequesterBytes {
            bytes = Array(bytes[..<maxRequesterBytes])
        }
        // Cutting may split a character; decoding repairs it with U+FFFD.
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Answers `tools/list`: one page of tools sorted by name. The cursor is
    /// the last name of the previous page, so a page never repeats or skips a
    /// tool.
    func listTools(_ id: JSONRPCID, _ params: JSONObject?, version: String) -> JSONValue {
        let actions = engine.registry.actions.sorted {
            ToolSchema.toolName($0.name) < ToolSchema.toolName($1.name)
        }
        var start = 0
        switch params?["cursor"] {
        case nil, .null?: break
        case .string(let cursor)?:
            guard
                let last = actions.firstIndex(where: { ToolSchema.toolName($0.name) == cursor })
            else {
                return JSONRPCCodec.error(
                    id, JSONRPCError(JSONRPCError.invalidParams, "unknown cursor \"\(cursor)\""))
            }
            start = last + 1
        case let other?:
            return JSONRPCCodec.error(
                id,
                JSONRPCError(
                    JSONRPCError.invalidParams, "cursor must be a string, got \(other.typeName)"))
        }
        let page = actions[start..<min(start + pageSize, actions.count)]
        var result = JSONObject()
        result["tools"] = .array(page.map { ToolSchema.tool($0, version: version) })
        if start + page.count < actions.count, let last = page.last {
            result["nextCursor"] = .string(ToolSchema.toolName(last.name))
        }
        return JSONRPCCodec.result(id, .object(result))
    }

    /// Starts `tools/call`: the call becomes a `RunRequest` with origin `mcp`
    /// and goes to the engine; the sink answers when the run ends.
    func callTool(
        _ id: JSONRPCID, _ params: JSONObject?, version: String,
        reply: @escaping (JSONValue?) -> Void
    ) {
        guard calls[id] == nil else {
            reply(
                JSONRPCCodec.error(
                    id,
                    JSONRPCError(
                        JSONRPCError.invalidRequest, "request id \(id) is already in flight")))
            return
        }
        let runID = "mcp-" + RandomID.uuid()
        let call: ToolCall
        switch ToolCall.parse(params) {
        case .success(let c): call = c
        case .failure(.invalidParams(let message)):
            reply(JSONRPCCodec.error(id, JSONRPCError(JSONRPCError.invalidParams, message)))
            return
        case .failure(.unknownTool(let name)):
            reply(
                JSONRPCCodec.error(
                    id,
                    JSONRPCError(
                        JSONRPCError.invalidParams, "unknown tool: \(Engine.cut(name, to: 128))")))
            return
        case .failure(.malformed(let errors)):
            // Like a malformed wire message: refused before the engine, so no
            // journal event; the agent still learns which field to fix.
            let action = ToolSchema.actionName(params?["name"]?.stringValue ?? "") ?? ""
            reply(
                JSONRPCCodec.result(
                    id,
                    ToolResult.refused(
                        runID: runID, action: action, code: Refusal.Code.invalidRequest.rawValue,
                        message: "the call's arguments are malformed", errors: errors,
                        journal: nil, version: version)))
            return
        }

        if call.dryRun {
            let request = RunRequest(
                id: "plan-" + RandomID.uuid(), action: call.action, args: call.args,
                options: call.options, reason: call.reason, origin: .mcp, requester: requester)
            engine.plan(request) { result, head in
                switch result {
                case .success(let plan):
                    reply(JSONRPCCodec.result(id, ToolResult.planned(plan, version: version)))
                case .failure(let refusal) where refusal.code == .unknownAction:
                    // As for a real call: a tool that does not exist is a protocol error.
                    reply(
                        JSONRPCCodec.error(
                            id,
                            JSONRPCError(
                                JSONRPCError.invalidParams,
                                "unknown tool: \(Engine.cut(call.tool, to: 128))",
                                data: [
                                    "code": .string(refusal.code.rawValue),
                                    "message": .string(refusal.message),
                                ])))
                case .failure(let refusal):
                    reply(
                        JSONRPCCodec.result(
                            id,
                            ToolResult.refused(
                                runID: request.id, action: call.action,
                                code: refusal.code.rawValue, message: refusal.message,
                                errors: refusal.errors, journal: head, version: version)))
                }
            }
            return
        }
        let sink = ToolCallSink(
            requestID: id, runID: runID, call: call, version: version,
            progress: { [weak self] note in
                guard let self, self.progressAllowed() else { return }
                self.send(note)
            },
            reply: { [weak self] message in
                self?.calls[id] = nil
                reply(message)
            },
            started: { [weak self] sink in
                // A cancel (or shutdown) that came while the `started` event was
                // being written reaches the child now.
                if sink.cancelled || sink.stopping { self?.engine.cancel(runID: sink.runID) }
            })
        sink.stopping = isClosing
        calls[id] = sink
        engine.submit(
            RunRequest(
                id: runID, action: call.action, args: call.args, options: call.options,
                reason: call.reason, origin: .mcp, requester: requester),
            sink: sink)
    }

    /// `notifications/cancelled`: the run is stopped (its process group is
    /// killed) and the request gets no reply, as MCP asks.
    func cancel(_ id: JSONRPCID) {
        guard let sink = calls[id] else {
            logger.debug("mcp cancel for no call in flight", [("id", id.description)])
            return
        }
        logger.info("mcp call cancelled", [("run.id", sink.runID)])
        sink.cancelled = true
        if sink.isRunning { engine.cancel(runID: sink.runID) }
    }
}
