/// The parameters of one `tools/call`, split the way the engine wants them:
/// the action, its arguments, the requested options and the reason. Values
/// keep their JSON types; the engine types them by the schema and never
/// coerces (`"10"` is not the integer 10).
public struct ToolCall {
    /// The action the tool stands for.
    public var action: String
    /// The tool name as the client sent it.
    public var tool: String
    /// Every top-level argument except `reason` and `options`, in order.
    public var args: [(name: String, value: RequestValue)]
    /// The members of `options`, in order.
    public var options: [(name: String, value: RequestValue)]
    /// The reason; empty when the call gave none (the engine refuses that).
    public var reason: String
    /// `_meta.progressToken`, when the client wants progress notifications.
    public var progressToken: JSONValue?
    /// `dry_run: true`: plan the call (validate, clamp, expand) and run nothing.
    public var dryRun = false

    /// Why a call cannot even be handed to the engine.
    public enum Problem: Error, Equatable, Sendable {
        /// The params are malformed: a JSON-RPC invalid-params error.
        case invalidParams(String)
        /// The name is not one `ToolSchema.toolName` can produce.
        case unknownTool(String)
        /// `reason` or `options` has the wrong JSON type: a tool error naming the
        /// field, as malformed wire messages are refused before the engine.
        case malformed([FieldError])
    }

    /// Splits `params` of a `tools/call`.
    public static func parse(_ params: JSONObject?) -> Result<ToolCall, Problem> {
        guard let params else { return .failure(.invalidParams("tools/call needs params")) }
        guard case .string(let tool)? = params["name"] else {
            return .failure(.invalidParams("params.name must be a string"))
        }
        guard let action = ToolSchema.actionName(tool) else {
            return .failure(.unknownTool(tool))
        }
        var arguments = JSONObject()
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let o)?: arguments = o
        case let other?:
            return .failure(
                .invalidParams("params.arguments must be an object, got \(other.typeName)"))
        }
        var token: JSONValue?
        if case .object(let meta)? = params["_meta"], let t = meta["progressToken"] {
            switch t {
            case .string, .int: token = t
            default:
                return .failure(
                    .invalidParams("_meta.progressToken must be a string or an integer"))
            }
        }
        return split(arguments, action: action, tool: tool, token: token)
    }

    private static func split(
        _ arguments: JSONObject, action: String, tool: String, token: JSONValue?
    ) -> Result<ToolCall, Problem> {
        var call = ToolCall(
            action: action, tool: tool, args: [], options: [], reason: "", progressToken: token)
        var problems: [FieldError] = []
        for (name, value) in arguments.members {
            switch name {
            case "reason":
                guard case .string(let s) = value else {
                    problems.append(
                        FieldError("reason", "expected a string, got \(value.typeName)"))
                    continue
                }
                call.reason = s
            case "options":
                guard case .object(let o) = value else {
                    problems.append(
                        FieldError("options", "expected an object, got \(value.typeName)"))
                    continue
                }
                call.options = o.members.map { ($0.key, RequestValue.json($0.value)) }
            case "dry_run":
                guard case .bool(let b) = value else {
                    problems.append(
                        FieldError("dry_run", "expected a boolean, got \(value.typeName)"))
                    continue
                }
                call.dryRun = b
            default:
                call.args.append((name, .json(value)))
            }
        }
        return problems.isEmpty ? .success(call) : .failure(.malformed(problems))
    }
}
