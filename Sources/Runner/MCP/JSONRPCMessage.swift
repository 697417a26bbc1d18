/// A JSON-RPC request id as MCP allows it: a string or an integer, never null.
/// It is kept exactly as received so the reply echoes it (`0` stays `0`).
nonisolated public enum JSONRPCID: Hashable, Sendable, CustomStringConvertible {
    /// A string id.
    case string(String)
    /// An integer id.
    case number(Int64)

    /// The id from a JSON value, or nil when it is not a string or an integer.
    public init?(_ value: JSONValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .int(let n): self = .number(n)
        default: return nil
        }
    }

    /// The id as JSON, for the reply.
    public var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .number(let n): .int(n)
        }
    }

    public var description: String { JSONWriter.string(json) }
}

/// An error object of a JSON-RPC error response.
nonisolated public struct JSONRPCError: Error, Equatable, Sendable {
    /// Invalid JSON was received (JSON-RPC 2.0, section 5.1).
    public static let parseError: Int64 = -32700
    /// The JSON is not a valid request object, or not valid in this state.
    public static let invalidRequest: Int64 = -32600
    /// The method does not exist.
    public static let methodNotFound: Int64 = -32601
    /// Invalid method parameters (MCP also uses it for an unknown tool).
    public static let invalidParams: Int64 = -32602

    /// The error code.
    public var code: Int64
    /// One sentence for the client's logs.
    public var message: String
    /// Structured detail, when there is any.
    public var data: JSONValue?

    /// An error with `code`, `message` and optional `data`.
    public init(_ code: Int64, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The error object: `{"code":…,"message":…,"data":…}`.
    public var json: JSONValue {
        var o = JSONObject()
        o["code"] = .int(code)
        o["message"] = .string(message)
        if let data { o["data"] = data }
        return .object(o)
    }
}

/// One well-formed message from the client.
nonisolated public enum JSONRPCMessage: Equatable, Sendable {
    /// A call that wants a reply carrying the same id.
    case request(id: JSONRPCID, method: String, params: JSONObject?)
    /// A call without an id: it never gets a reply, not even an error.
    case notification(method: String, params: JSONObject?)
    /// A reply to a request ward sent. ward sends none, so it is only logged.
    case response(id: JSONRPCID?)
}

/// A message that cannot be served, and the error reply it gets. A nil id is
/// written as `"id":null`, as JSON-RPC requires when the id is unknown.
nonisolated public struct JSONRPCRejection: Equatable, Sendable {
    /// The request's id, when one could be read.
    public var id: JSONRPCID?
    /// What is wrong.
    public var error: JSONRPCError
}

/// What one element of the input turned out to be.
nonisolated public enum JSONRPCItem: Equatable, Sendable {
    /// A message to serve.
    case message(JSONRPCMessage)
    /// A message that gets an error reply.
    case rejected(JSONRPCRejection)
    /// A broken notification: JSON-RPC forbids replying to one, so it is only
    /// logged, with this reason.
    case dropped(String)
}

/// What one line of input turned out to be.
nonisolated public enum JSONRPCLine: Equatable, Sendable {
    /// One object.
    case single(JSONRPCItem)
    /// A non-empty array of items (a batch), in order.
    case batch([JSONRPCItem])
    /// Not JSON, or an empty array: one error reply with a null id.
    case invalid(JSONRPCError)
}
