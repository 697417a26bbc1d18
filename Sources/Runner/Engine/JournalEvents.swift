/// The members of the journal events the engine writes, in their fixed order
/// (docs/journal.md lists them). Every string that came from a request or a
/// child passes through the run's redactor first.
extension Engine {
    /// Longest argument value journaled for a refused request, in bytes: the
    /// request was not valid, so its values are evidence, not inputs.
    static let maxRefusedValueBytes = 256
    /// Most arguments journaled for a refused request; the rest are counted.
    /// A request is at most 1 MiB, so without a bound a refusal of many tiny
    /// undeclared arguments would not fit in one journal line.
    static let maxRefusedArgs = 32

    func startedFields(_ state: ActiveRun) -> JSONObject {
        var o = requestFields(state.request, state.run, state.redactor)
        if !state.redactor.secrets.registrations.isEmpty {
            o["secrets"] = state.redactor.secrets.json
        }
        o["ward_pid"] = .int(Int64(identity.pid))
        o["ward_start"] = .int(identity.start)
        return o
    }

    /// What a validated request asks to execute, as `started` and `planned`
    /// journal it: who, why, the arguments, options, argv and limits.
    func requestFields(_ r: RunRequest, _ run: ValidatedRun, _ redactor: Redactor) -> JSONObject {
        var o = JSONObject()
        o["run"] = .string(r.id)
        o["action"] = .string(run.action.name)
        o["pack"] = .string(run.action.pack)
        o["origin"] = .string(r.origin.rawValue)
        o["requester"] = .string(redactor.redact(r.requester))
        if let approval = r.approval { o["approval"] = .string(redactor.redact(approval)) }
        o["reason"] = .string(redactor.redact(r.reason))
        o["args"] = redactStrings(run.maskedArgsJSON, redactor)
        o["options"] = .object(JSONObject(run.options.map { ($0.name.rawValue, $0.json) }))
        o["argv"] = .array(run.argv.map { .string(redactor.redact($0)) })
        if !run.action.limits.isEmpty {
            o["limits"] = .object(
                JSONObject(run.action.orderedLimits.map { ($0.limit.rawValue, .int($0.value)) }))
        }
        return o
    }

    func finishedFields(_ state: ActiveRun, _ result: RunResult, exit: ExitInfo?) -> JSONObject {
        var o = JSONObject()
        o["run"] = .string(result.runID)
        o["action"] = .string(result.action)
        o["outcome"] = .string(result.outcome.rawValue)
        o["exit_code"] = result.exitCode.map { .int(Int64($0)) } ?? .null
        o["signal"] = result.signal.map { .string($0) } ?? .null
        o["duration_ms"] = .int(result.durationMilliseconds)
        o["output"] = result.counts
        if let exit, exit.descendantsKilled > 0 || exit.pipesForceClosed {
            o["descendants_killed"] = .int(Int64(exit.descendantsKilled))
            o["pipes_force_closed"] = .bool(exit.pipesForceClosed)
        }
        if let limit = result.limit { o["limit"] = .string(limit) }
        if let error = result.error { o["error"] = .string(error) }
        if !result.warnings.isEmpty { o["warnings"] = .array(result.warnings) }
        return o
    }

    func refusedFields(_ request: RunRequest, _ refusal: Refusal) -> JSONObject {
        let action = registry.action(request.action)
        // A refused request's secret values are still secrets: register every value
        // given for a declared secret argument, whatever else was wrong with it, so
        // the reason and the messages cannot carry them into the journal.
        let secrets: [(name: String, value: String)] = request.args.compactMap { arg in
            guard action?.arg(arg.name)?.secret == true else { return nil }
            switch arg.value {
            case .text(let t): return (arg.name, t)
            case .json(.string(let s)): return (arg.name, s)
            case .json(let j): return (arg.name, JSONWriter.string(j))
            }
        }
        let redactor = redactor(secrets: secrets, actionRules: action?.redaction ?? [])
        var args = JSONObject()
        for (name, value) in request.args.prefix(Engine.maxRefusedArgs) {
            guard let spec = action?.arg(name) else {
                // An undeclared argument has no schema to say whether its value is
                // secret (a mistyped name for a token, say), so only its name is kept.
                args[Validator.shownName(name)] = .string("[REDACTED:undeclared]")
                continue
            }
            if spec.secret {
                args[name] = .string("[REDACTED:arg.\(name)]")
                continue
            }
            var v: JSONValue
            switch value {
            case .text(let t): v = .string(t)
            case .json(let j): v = j
            }
            v = Engine.journalable(v)
            if JSONWriter.bytes(v).count > Engine.maxRefusedValueBytes {
                v = .string(Engine.cut(JSONWriter.string(v)))
            }
            args[Engine.cut(name)] = redactStrings(v, redactor)
        }
        if request.args.count > Engine.maxRefusedArgs {
            args["…"] = .string("\(request.args.count - Engine.maxRefusedArgs) more arguments")
        }
        var o = JSONObject()
        // An id that failed validation may be anything (huge, full of controls):
        // journal a bounded, visible stand-in instead.
        o["run"] = .string(
            Validator.isValidRunID(request.id) ? request.id : "[invalid run id]")
        o["action"] = .string(
            redactor.redact(String(decoding: request.action.utf8.prefix(128), as: UTF8.self)))
        o["origin"] = .string(request.origin.rawValue)
        o["requester"] = .string(redactor.redact(Engine.cut(request.requester)))
        if let approval = request.approval {
            o["approval"] = .string(redactor.redact(Engine.cut(approval)))
        }
        // The redactor skips values too short to mask in output; here the exact
        // value is known and the text is short, so every occurrence goes.
        let masked = secrets.reduce(request.reason) { text, secret in
            Engine.replacing(secret.value, in: text, with: "[REDACTED:arg.\(secret.name)]")
        }
        // A refused reason may be anything up to the message cap: keep its start.
        o["reason"] = .string(
            redactor.redact(Engine.cut(masked, to: Validator.maxReasonBytes)))
        o["args"] = .object(args)
        o["code"] = .string(refusal.code.rawValue)
        o["message"] = .string(redactor.redact(refusal.message))
        o["errors"] = .array(
            refusal.errors.map { e in
                ["field": .string(e.field), "message": .string(redactor.redact(e.message))]
            })
        return o
    }

    /// `text` cut to `limit` bytes on a character boundary, marked with "…".
    static func cut(_ text: String, to limit: Int = Engine.maxRefusedValueBytes) -> String {
        guard text.utf8.count > limit else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if out.utf8.count + String(scalar).utf8.count > limit { break }
            out.unicodeScalars.append(scalar)
        }
        return out + "…"
    }

    /// `value` in a form the journal accepts: the journal holds no real
    /// numbers (docs/journal.md), so a real is kept as its text.
    static func journalable(_ value: JSONValue) -> JSONValue {
        switch value {
        case .real: return .string(JSONWriter.string(value))
        case .array(let a): return .array(a.map(journalable))
        case .object(let o):
            return .object(JSONObject(o.members.map { ($0.key, journalable($0.value)) }))
        default: return value
        }
    }

    /// `value` with every string inside it redacted.
    func redactStrings(_ value: JSONValue, _ redactor: Redactor) -> JSONValue {
        switch value {
        case .string(let s): return .string(redactor.redact(s))
        case .array(let a): return .array(a.map { redactStrings($0, redactor) })
        case .object(let o):
            return .object(
                JSONObject(o.members.map { ($0.key, redactStrings($0.value, redactor)) }))
        default: return value
        }
    }

    /// `text` with every occurrence of `needle` replaced; `text` itself when
    /// `needle` is empty.
    static func replacing(_ needle: String, in text: String, with marker: String) -> String {
        let n = Array(needle.utf8)
        let t = Array(text.utf8)
        guard !n.isEmpty, t.count >= n.count else { return text }
        var out: [UInt8] = []
        var i = 0
        while i < t.count {
            if i + n.count <= t.count, t[i..<(i + n.count)].elementsEqual(n) {
                out.append(contentsOf: marker.utf8)
                i += n.count
            } else {
                out.append(t[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
