/// Which face a request came through.
nonisolated public enum Origin: String, Sendable {
    /// The `ward action run` command on this host.
    case local
    /// The control plane, over the websocket.
    case cloud
    /// An MCP client on stdio.
    case mcp
}

/// A value as a face received it, before the schema types it.
nonisolated public enum RequestValue: Equatable, Sendable {
    /// A JSON value (cloud, MCP): its JSON type must match the schema exactly.
    case json(JSONValue)
    /// Command-line text (`--arg k=v`): parsed strictly by the declared type
    /// (an integer must be written `-?(0|[1-9][0-9]*)`, a boolean `true`/`false`).
    case text(String)
}

/// What every face turns its input into: one request to run one action.
nonisolated public struct RunRequest: Sendable {
    /// Unique id of this run; the journal refuses to run an id twice.
    public var id: String
    /// The action's declared name.
    public var action: String
    /// Arguments by name, in the order the face received them.
    public var args: [(name: String, value: RequestValue)]
    /// Requested options by name.
    public var options: [(name: String, value: RequestValue)]
    /// Why the run is asked for, journaled with it.
    public var reason: String
    /// The face it came through.
    public var origin: Origin
    /// Who asked: the local uid, the control plane's requester, or the MCP client.
    public var requester: String
    /// The control plane's approval id for this run, journaled beside the
    /// requester (never checked: approvals are the control plane's business).
    public var approval: String? = nil

    /// A request with every field given.
    public init(
        id: String, action: String, args: [(name: String, value: RequestValue)],
        options: [(name: String, value: RequestValue)], reason: String, origin: Origin,
        requester: String
    ) {
        self.id = id
        self.action = action
        self.args = args
        self.options = options
        self.reason = reason
        self.origin = origin
        self.requester = requester
    }
}

/// One field of a request that failed validation.
nonisolated public struct FieldError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field's path: `args.unit`, `options.timeout_s`, `reason`.
    public var field: String
    /// What was wrong, never quoting a secret value.
    public var message: String

    /// An error on `field`.
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }

    /// The error as a JSON object `{"field":…,"message":…}`.
    public var json: JSONValue { ["field": .string(field), "message": .string(message)] }
}

/// Why a request was refused before anything ran.
nonisolated public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// Machine-readable refusal codes; the wire protocol and MCP carry them.
    public enum Code: String, Sendable {
        /// The action is not declared by any loaded pack.
        case unknownAction = "unknown_action"
        /// One or more arguments, options or the reason are invalid.
        case invalidRequest = "invalid_request"
        /// The runner is at its limit of concurrent runs.
        case busy = "busy"
        /// The journal cannot record the run, so it is not executed.
        case journalUnavailable = "journal_unavailable"
        /// A run with this id was already recorded.
        case duplicateRun = "duplicate_run"
        /// The runner is shutting down and takes no new runs.
        case shuttingDown = "shutting_down"
    }

    /// The kind of refusal.
    public var code: Code
    /// One sentence for humans.
    public var message: String
    /// Per-field problems, for `invalidRequest`.
    public var errors: [FieldError]

    /// A refusal with an optional list of field errors.
    public init(_ code: Code, _ message: String, errors: [FieldError] = []) {
        self.code = code
        self.message = message
        self.errors = errors
    }

    public var description: String {
        errors.isEmpty
            ? message
            : message + "\n" + errors.map { "  " + $0.description }.joined(separator: "\n")
    }
}
