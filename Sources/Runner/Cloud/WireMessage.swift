/// The wire protocol's version, sent in `hello` and as the `ward.v1` subprotocol.
nonisolated public enum WireProtocol {
    /// The protocol version this build speaks.
    public static let version: Int64 = 1
    /// The websocket subprotocol name.
    public static let subprotocol = "ward.v1"
    /// Largest message either side may send, in bytes (docs/wire-protocol.md).
    public static let maxMessageBytes = 1 << 20
}

/// A message the control plane sent, decoded and checked.
public enum IncomingMessage: Equatable {
    /// Run an action.
    case run(RunRequest)
    /// Plan an action: everything but the execution (a dry run).
    case plan(RunRequest)
    /// Cancel a run in flight.
    case cancel(run: String)
    /// These results were stored; forget them.
    case ack(runs: [String])
    /// A liveness message; nothing to do.
    case heartbeat
}

/// Why an incoming message could not be used; answered with an `error` message.
nonisolated public struct WireError: Error, Equatable, Sendable {
    /// `malformed_json`, `unknown_type`, `invalid_message`.
    public var code: String
    /// One sentence naming what was wrong.
    public var message: String
    /// The offending message's type, when it had one.
    public var ref: String?
    /// The run id the offending message carried, once it was read: a control
    /// plane with several requests in flight can tell which one failed.
    public var run: String?

    /// The `error` message to send back.
    public var json: JSONValue {
        var o = JSONObject()
        o["type"] = "error"
        o["code"] = .string(code)
        o["message"] = .string(message)
        if let ref { o["ref"] = .string(ref) }
        if let run { o["run"] = .string(run) }
        return .object(o)
    }
}

extension RunRequest: Equatable {
    public static func == (a: RunRequest, b: RunRequest) -> Bool {
        a.id == b.id && a.action == b.action && a.reason == b.reason && a.origin == b.origin
            && a.requester == b.requester && a.args.map(\.name) == b.args.map(\.name)
            && a.args.map(\.value) == b.args.map(\.value)
            && a.options.map(\.name) == b.options.map(\.name)
            && a.options.map(\.value) == b.options.map(\.value)
    }
}

/// Decodes the control plane's messages. Types are checked strictly; members a
/// receiver does not know are ignored, as the protocol allows.
public enum WireDecoder {
    /// Decodes one text frame.
    public static func decode(_ bytes: [UInt8]) -> Result<IncomingMessage, WireError> {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            return .failure(WireError(code: "malformed_json", message: error.description))
        }
        guard case .object(let o) = value else {
            return .failure(
                WireError(code: "invalid_message", message: "a message must be a JSON object"))
        }
        guard let type = o["type"]?.stringValue else {
            return .failure(
                WireError(code: "invalid_message", message: "member \"type\" must be a string"))
        }
        switch type {
        case "run": return decodeRun(o, type).map { .run($0) }
        case "plan": return decodeRun(o, type).map { .plan($0) }
        case "cancel":
            return runID(o, type).map { .cancel(run: $0) }
        case "ack":
            guard let runs = o["runs"]?.arrayValue, runs.allSatisfy({ $0.stringValue != nil })
            else {
                return .failure(invalid(type, "member \"runs\" must be an array of strings"))
            }
            return .success(.ack(runs: runs.compactMap(\.stringValue)))
        case "heartbeat": return .success(.heartbeat)
        default:
            return .failure(
                WireError(
                    code: "unknown_type", message: "unknown message type \"\(type)\"", ref: type))
        }
    }

    static func decodeRun(_ o: JSONObject, _ type: String) -> Result<RunRequest, WireError> {
        let id: String
        switch runID(o, type) {
        case .success(let v): id = v
        case .failure(let e): return .failure(e)
        }
        guard let action = o["action"]?.stringValue else {
            return .failure(invalid(type, run: id, "member \"action\" must be a string"))
        }
        guard let reason = o["reason"]?.stringValue else {
            return .failure(invalid(type, run: id, "member \"reason\" must be a string"))
        }
        var args: [(name: String, value: RequestValue)] = []
        if let raw = o["args"] {
            guard case .object(let a) = raw else {
                return .failure(invalid(type, run: id, "member \"args\" must be an object"))
            }
            args = a.members.map { ($0.key, .json($0.value)) }
        }
        var options: [(name: String, value: RequestValue)] = []
        if let raw = o["options"] {
            guard case .object(let a) = raw else {
                return .failure(invalid(type, run: id, "member \"options\" must be an object"))
            }
            options = a.members.map { ($0.key, .json($0.value)) }
        }
        var requester = "control-plane"
        var approval: String?
        if let r = o["requester"] {
            guard case .object(let ro) = r, let who = ro["id"]?.stringValue else {
                return .failure(
                    invalid(type, run: id, "member \"requester\" must be {\"id\": string}"))
            }
            if let problem = labelProblem(who) {
                return .failure(invalid(type, run: id, "requester.id \(problem)"))
            }
            requester = who
            if let a = ro["approval"] {
                guard let text = a.stringValue else {
                    return .failure(invalid(type, run: id, "requester.approval must be a string"))
                }
                if let problem = labelProblem(text) {
                    return .failure(invalid(type, run: id, "requester.approval \(problem)"))
                }
                approval = text
            }
        }
        var request = RunRequest(
            id: id, action: action, args: args, options: options, reason: reason,
            origin: .cloud, requester: requester)
        request.approval = approval
        return .success(request)
    }

    /// Longest requester id or approval id accepted, in bytes: room for any
    /// e-mail address or UUID-style id, small enough for every journal line.
    public static let maxLabelBytes = 256

    /// Why a requester or approval id cannot be journaled as given, or nil.
    static func labelProblem(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > maxLabelBytes { return "is longer than \(maxLabelBytes) bytes" }
        if text.utf8.contains(where: Validator.isControl) { return "holds a control character" }
        if Validator.hasBidiControl(text) { return "holds a bidirectional control character" }
        return nil
    }

    static func runID(_ o: JSONObject, _ type: String) -> Result<String, WireError> {
        guard let id = o["run"]?.stringValue else {
            return .failure(invalid(type, "member \"run\" must be a string"))
        }
        guard Validator.isValidRunID(id) else {
            return .failure(
                invalid(type, "member \"run\" must be 1 to 128 of [A-Za-z0-9._:-]"))
        }
        return .success(id)
    }

    static func invalid(_ type: String, run: String? = nil, _ message: String) -> WireError {
        WireError(code: "invalid_message", message: message, ref: type, run: run)
    }
}
