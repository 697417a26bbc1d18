/// Reads lines into JSON-RPC 2.0 messages and writes messages as lines. The
/// rules are JSON-RPC's with MCP's narrowing: ids are strings or integers
/// (never null), params are objects, and a message is one line of compact JSON.
nonisolated public enum JSONRPCCodec {
    /// Classifies one line of input.
    public static func decode(_ line: [UInt8]) -> JSONRPCLine {
        let value: JSONValue
        do {
            value = try JSONReader.parse(line)
        } catch {
            // Valid JSON that ward cannot hold (an id of 23 digits, say) is an
            // invalid request, not a parse error.
            if error.isNumberOverflow {
                return .invalid(
                    JSONRPCError(
                        JSONRPCError.invalidRequest,
                        "a number in the message does not fit in 64 bits: \(error)"))
            }
            // Jansson also refuses invalid UTF-8 and NUL escapes in keys here.
            return .invalid(JSONRPCError(JSONRPCError.parseError, "parse error: \(error)"))
        }
        if case .array(let items) = value {
            guard !items.isEmpty else {
                return .invalid(
                    JSONRPCError(JSONRPCError.invalidRequest, "an empty batch is not a request"))
            }
            return .batch(items.map(classify))
        }
        return .single(classify(value))
    }

    /// Classifies one parsed element: a request, a notification, a response,
    /// or what is wrong with it.
    public static func classify(_ value: JSONValue) -> JSONRPCItem {
        guard case .object(let o) = value else {
            return reject(nil, "a message must be a JSON object, got \(value.typeName)")
        }
        var id: JSONRPCID?
        if let raw = o["id"] {
            guard let valid = JSONRPCID(raw) else {
                return reject(nil, "id must be a string or an integer, got \(raw.typeName)")
            }
            id = valid
        }
        let method = o["method"]
        guard o["jsonrpc"] == .string("2.0") else {
            if id == nil && method != nil { return .dropped("notification without jsonrpc 2.0") }
            return reject(id, "jsonrpc must be \"2.0\"")
        }

        guard let method else {
            if o["result"] != nil || o["error"] != nil { return .message(.response(id: id)) }
            return reject(id, "a request needs a method")
        }
        guard case .string(let name) = method else {
            if id == nil { return .dropped("notification whose method is not a string") }
            return reject(id, "method must be a string, got \(method.typeName)")
        }

        var params: JSONObject?
        // JSON-RPC lets params be left out; a null is read the same way, since
        // some clients write one for "no params".
        if let raw = o["params"], raw != .null {
            guard case .object(let p) = raw else {
                guard let id else {
                    return .dropped("notification \(name) with params not an object")
                }
                return .rejected(
                    JSONRPCRejection(
                        id: id,
                        error: JSONRPCError(
                            JSONRPCError.invalidParams,
                            "params must be an object, got \(raw.typeName)")))
            }
            params = p
        }
        guard let id else { return .message(.notification(method: name, params: params)) }
        return .message(.request(id: id, method: name, params: params))
    }

    private static func reject(_ id: JSONRPCID?, _ message: String) -> JSONRPCItem {
        .rejected(
            JSONRPCRejection(id: id, error: JSONRPCError(JSONRPCError.invalidRequest, message)))
    }

    // MARK: Writing

    /// A success response.
    public static func result(_ id: JSONRPCID, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "result": result]
    }

    /// An error response; a nil id is written as null.
    public static func error(_ id: JSONRPCID?, _ error: JSONRPCError) -> JSONValue {
        ["jsonrpc": "2.0", "id": id?.json ?? .null, "error": error.json]
    }

    /// A notification from ward to the client.
    public static func notification(_ method: String, _ params: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "method": .string(method), "params": params]
    }

    /// The bytes of one message on the wire: compact JSON (which escapes every
    /// line break inside strings) and one `\n`.
    public static func frame(_ message: JSONValue) -> [UInt8] {
        var bytes = JSONWriter.bytes(message)
        bytes.append(0x0A)
        return bytes
    }
}
