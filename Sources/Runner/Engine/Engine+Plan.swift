/// What a run of a request would execute, shown before anything runs: the
/// whole pipeline up to, but not including, the spawn.
public struct Plan {
    /// The plan's id (its journal event's `run`).
    public var runID: String
    /// The action's name.
    public var action: String
    /// The argv a run would execute, with secret values replaced by markers.
    public var argv: [String]
    /// The variables the action sets, by name, with redacted values.
    public var environment: [(name: String, value: String)]
    /// Variables passed through from ward's own environment, by name.
    public var passthrough: [String]
    /// The child's working directory.
    public var workingDirectory: String
    /// Options with the values a run would use and the bounds that clamped them.
    public var options: [ClampedOption]
    /// The `planned` event's head, when it was written.
    public var journal: JournalHead?

    /// The plan as one JSON object (the CLI's `--json`, the wire's `plan.result`).
    public var json: JSONValue {
        var o = JSONObject()
        o["run"] = .string(runID)
        o["action"] = .string(action)
        o["outcome"] = "planned"
        o["argv"] = .array(argv.map { .string($0) })
        o["env"] = .object(JSONObject(environment.map { ($0.name, .string($0.value)) }))
        o["env_passthrough"] = .array(passthrough.map { .string($0) })
        o["workdir"] = .string(workingDirectory)
        o["options"] = .object(JSONObject(options.map { ($0.name.rawValue, $0.json) }))
        o["journal"] = journal.map { ["seq": .int($0.seq), "hash": .string($0.hash)] } ?? .null
        return .object(o)
    }
}

extension Engine {
    /// Plans `request`: validates and clamps it and expands its argv exactly as
    /// `submit` would, writes one `planned` event, and executes nothing. The
    /// refusal a run would get (for its request, not for the runner's load at
    /// that moment) comes back as `.failure`.
    public func plan(
        _ request: RunRequest, completion: @escaping (Result<Plan, Refusal>, JournalHead?) -> Void
    ) {
        let validator = Validator(minSecretLength: settings.minSecretLength)
        switch validator.validate(request, in: registry) {
        case .failure(let refusal):
            var fields = refusedFields(request, refusal)
            fields["outcome"] = "refused"
            journal.append(event: "planned", fields: fields) { result in
                completion(.failure(refusal), try? result.get())
            }
        case .success(let run):
            let redactor = redactor(secrets: run.secrets, actionRules: run.action.redaction)
            var plan = Plan(
                runID: request.id, action: run.action.name,
                argv: run.argv.map { redactor.redact($0) },
                environment: run.setEnvironment.map { ($0.name, redactor.redact($0.value)) },
                passthrough: run.action.environment.passthrough,
                workingDirectory: run.action.workingDirectory, options: run.options,
                journal: nil)
            var fields = requestFields(request, run, redactor)
            fields["outcome"] = "planned"
            journal.append(event: "planned", fields: fields) { [self] result in
                switch result {
                case .failure(.lineTooLarge(_, let bytes, let limit)):
                    // Recorded as a refused plan instead, which is bounded.
                    let refusal = Engine.tooLargeToRecord(bytes, limit)
                    var refused = refusedFields(request, refusal)
                    refused["outcome"] = "refused"
                    journal.append(event: "planned", fields: refused) { retry in
                        completion(.failure(refusal), try? retry.get())
                    }
                case .failure(let error):
                    // Like a run, a plan that cannot be journaled is refused.
                    logger.error(
                        "journal write failed", [("run.id", request.id), ("error", "\(error)")])
                    completion(
                        .failure(
                            Refusal(
                                .journalUnavailable,
                                "the journal cannot record the plan: \(error)")), nil)
                case .success(let head):
                    plan.journal = head
                    completion(.success(plan), head)
                }
            }
        }
    }
}
